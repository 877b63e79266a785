"""`musicvae corpus download`: fetch a public MIDI dataset's archive with resume, verify it, extract it safely.

The recipes: the Lakh MIDI Dataset (full and matched), POP909, the Nottingham database and the Groove MIDI Dataset,
each a pinned address, its checksum where one is published, and which members are the dataset's MIDI files. The
archive is written to `.<DEST name>.<format>.part` beside DEST, so an interrupted run resumes with an HTTP Range
request. Extraction goes to a temporary folder beside DEST (same filesystem) that is renamed to DEST only once
complete: DEST never holds a half-extracted corpus."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tarfile
import tempfile
import time
import zipfile
import zlib
from dataclasses import dataclass
from http.client import HTTPException
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen

from tqdm import tqdm


@dataclass(frozen=True)
class Source:
    url: str
    sha256: str | None  # None where no checksum is published
    size: int | None
    format: str = "tar.gz"  # or "zip"
    keep: tuple[str, ...] = ()  # globs, relative to the archive's top folder, of the members kept; () keeps all
    licence: str = ""


GITHUB = "https://github.com/{}/archive/{}.zip"  # a commit's archive: the same files for every download
# None of these publishes a checksum or a size; `--sha256` lets a user pin the archive they trust. GitHub's
# archives of a commit hold fixed files but are not promised to be byte-identical, so none is pinned here either.
SOURCES = {
    "lmd-full": Source(
        "http://hog.ee.columbia.edu/craffel/lmd/lmd_full.tar.gz",
        sha256=None,
        size=None,
        licence="CC BY 4.0 (Raffel, 2016)",
    ),
    "lmd-matched": Source(
        "http://hog.ee.columbia.edu/craffel/lmd/lmd_matched.tar.gz",
        sha256=None,
        size=None,
        licence="CC BY 4.0 (Raffel, 2016)",
    ),
    # The 909 songs' arrangement files (MELODY, BRIDGE, PIANO tracks), not the versions/ folders or annotations.
    "pop909": Source(
        GITHUB.format("music-x-lab/POP909-Dataset", "d83e6edba6872a704f5d3b8b32f5cb540088dae6"),
        sha256=None,
        size=None,
        format="zip",
        keep=("POP909/[0-9][0-9][0-9]/[0-9][0-9][0-9].mid",),
        licence="MIT (Wang et al., ISMIR 2020)",
    ),
    # Melody and chords together; the MIDI/melody and MIDI/chords copies would repeat every tune.
    "nottingham": Source(
        GITHUB.format("jukedeck/nottingham-dataset", "0992bb6cd864f6d4b90d6663e08c0ef53ffaa08f"),
        sha256=None,
        size=None,
        format="zip",
        keep=("MIDI/*.mid",),
        licence="GPL-3.0",
    ),
    "groove": Source(
        "https://storage.googleapis.com/magentadata/datasets/groove/groove-v1.0.0-midionly.zip",
        sha256=None,
        size=None,
        format="zip",
        keep=("info.csv", "drummer*/**/*.mid", "LICENSE"),
        licence="CC BY 4.0 (Gillick et al., ICML 2019)",
    ),
}

ATTEMPTS = 5  # per call; the .part file keeps the progress for the next call
CHUNK = 1 << 20


class DownloadError(Exception):
    """A download, verification or extraction failure, with a message meant for the user."""


def download_corpus(
    name: str, dest: Path, *, url: str | None = None, sha256: str | None = None, keep_archive: bool = False
) -> Path:
    """Download corpus NAME (a key of SOURCES; `url` overrides its address) and extract it into DEST.

    A single top-level folder of the archive (`lmd_full/`) is stripped, so DEST holds the corpus itself, and of the
    rest only the recipe's members are kept. The archive is deleted after extraction unless `keep_archive`, then it
    stays as `<DEST>.<format>`."""
    if name not in SOURCES:
        raise DownloadError(f"unknown corpus {name!r}; choose one of {', '.join(SOURCES)}")
    dest = Path(dest)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise DownloadError(f"{dest} already exists and is not empty; remove it or choose another DEST")
    source = SOURCES[name]
    # The table's size and checksum describe the official archive, not an overriding URL.
    size, expected = (source.size, source.sha256) if url is None else (None, None)
    url = url or source.url
    expected = sha256 or expected

    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.parent / f".{dest.name}.{source.format}.part"
    _fetch(url, part, size)
    _verify(url, part, expected)
    try:
        _extract(part, dest, source.format, source.keep)
    except DownloadError:
        part.unlink()  # a refused archive is useless; the next run fetches it afresh
        raise
    if keep_archive:
        part.rename(dest.parent / f"{dest.name}.{source.format}")
    else:
        part.unlink()
    return dest


def _fetch(url: str, part: Path, size: int | None) -> None:
    """Complete `part` from `url`, resuming from its current length; retries cut or failed connections."""
    error: Exception | None = None
    for attempt in range(ATTEMPTS):
        if attempt:
            time.sleep(0.25 * 2 ** (attempt - 1))  # 0.25 s, 0.5 s, 1 s, 2 s
        have = part.stat().st_size if part.exists() else 0
        if size is not None and have == size:
            return
        try:
            if _fetch_once(url, part, have, size):
                return
            error = ConnectionError("connection closed before the announced length arrived")
        except HTTPError as e:
            if e.code == 416 and have:  # our part already reaches the end, or is longer than the file
                if _total(e.headers.get("Content-Range", "")) == have:
                    return
                part.unlink()
            elif e.code < 500:
                raise DownloadError(f"cannot download {url}: HTTP {e.code} {e.reason}") from e
            error = e
        except (URLError, HTTPException, OSError) as e:
            error = e
    kept = f"; the partial archive {part} is kept, run the command again to resume" if part.exists() else ""
    raise DownloadError(f"download of {url} failed after {ATTEMPTS} attempts ({error}){kept}")


def _fetch_once(url: str, part: Path, have: int, size: int | None) -> bool:
    """One request; True when the response body arrived whole."""
    request = Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    with urlopen(request, timeout=60) as response:
        start = 0
        if response.status == 206:
            content_range = response.headers.get("Content-Range", "")
            match = re.match(r"bytes (\d+)-", content_range)
            if not match or int(match[1]) != have:
                raise DownloadError(f"{url} answered a request from byte {have} with Content-Range {content_range!r}")
            start = have
        # A server that ignores Range answers 200 with the whole file: start over.
        length = response.headers.get("Content-Length")
        total = start + int(length) if length is not None else size
        if size is not None and total is not None and total != size:
            raise DownloadError(f"{url} is {total} bytes, expected {size}")
        received = start
        with (
            open(part, "ab" if start else "wb") as out,
            tqdm(total=total, initial=start, unit="B", unit_scale=True, unit_divisor=1024, desc=part.name) as bar,
        ):
            while chunk := response.read(CHUNK):
                out.write(chunk)
                received += len(chunk)
                bar.update(len(chunk))
    # http.client returns a short body silently when the connection drops, so count.
    return total is None or received == total


def _total(content_range: str) -> int | None:
    match = re.fullmatch(r"bytes \*/(\d+)", content_range)
    return int(match[1]) if match else None


def _verify(url: str, part: Path, expected: str | None) -> None:
    if expected is None:
        return
    digest = hashlib.sha256()
    with open(part, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    if digest.hexdigest() != expected.lower():
        part.unlink()  # a corrupt archive cannot be resumed into a good one
        raise DownloadError(
            f"sha256 checksum mismatch for {url} (downloaded to {part}): "
            f"expected {expected}, got {digest.hexdigest()}; the download was deleted"
        )


def _unpack(archive: Path, into: Path, format: str) -> None:
    try:
        if format == "zip":
            with zipfile.ZipFile(archive) as z:
                for member in z.namelist():  # zipfile would rewrite such names silently; refuse them instead
                    if member.startswith(("/", "\\")) or ".." in Path(member).parts:
                        raise DownloadError(f"refusing to extract {archive}: unsafe member {member!r}")
                z.extractall(into)
            return
        with tarfile.open(archive, "r:gz") as tar:
            # The "data" filter refuses absolute paths, `..` members, links leaving tmp and device files.
            tar.extractall(into, filter="data")
    except tarfile.FilterError as e:
        raise DownloadError(f"refusing to extract {archive}: unsafe member {e.tarinfo.name!r} ({e})") from e
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, zlib.error) as e:
        raise DownloadError(f"{archive} is not a valid .{format} archive: {e}") from e


def _extract(archive: Path, dest: Path, format: str = "tar.gz", keep: tuple[str, ...] = ()) -> None:
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".extracting", dir=dest.parent))
    try:
        _unpack(archive, tmp, format)
        entries = list(tmp.iterdir())
        root = entries[0] if len(entries) == 1 and entries[0].is_dir() else tmp
        if keep:
            kept = {p for pattern in keep for p in root.glob(pattern) if p.is_file()}
            if not kept:
                raise DownloadError(
                    f"{archive} holds none of the dataset's files ({', '.join(keep)}): not the "
                    "archive this recipe expects"
                )
            for path in [p for p in root.rglob("*") if p.is_file() and p not in kept]:
                path.unlink()
            for folder in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
                if not any(folder.iterdir()):
                    folder.rmdir()
        # rename is atomic on one filesystem, and replaces DEST only if it is an empty folder.
        os.rename(root, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
