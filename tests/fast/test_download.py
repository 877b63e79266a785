"""`musicvae corpus download` against a real local HTTP server serving a real LMD-shaped tarball."""

import hashlib
import io
import re
import subprocess
import sys
import tarfile
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from musicvae.corpus.download import DownloadError, download_corpus
from tests.support import ROOT as REPO


class _Handler(BaseHTTPRequestHandler):
    """Serves `server.payload` at any path, honouring `Range: bytes=N-` unless `server.ranges_supported` is off."""

    def do_GET(self):
        srv = self.server
        data, start = srv.payload, 0
        range_header = self.headers.get("Range")
        srv.ranges.append(range_header)
        if range_header and srv.ranges_supported:
            start = int(re.fullmatch(r"bytes=(\d+)-", range_header)[1])
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if srv.truncate:
            # Announce the whole body, send half, hang up (HTTP/1.0 closes after each response).
            srv.truncate -= 1
            body = body[: len(body) // 2]
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.payload, srv.ranges, srv.truncate, srv.ranges_supported = b"", [], 0, True
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}/lmd_full.tar.gz"
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join()


@pytest.fixture(scope="module")
def midi_files(shared_midi) -> dict[str, bytes]:
    """Real Lakh files, keyed by their path in LMD-full's layout (`<first hex>/<md5>.mid`)."""
    files = {f"{p.name[0]}/{p.name}": p.read_bytes() for p in sorted((shared_midi / "lakh").glob("*.mid"))}
    assert files
    return files


def _tarball(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.fixture(scope="module")
def archive(midi_files) -> bytes:
    return _tarball({f"lmd_full/{name}": data for name, data in midi_files.items()})


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _part(dest: Path) -> Path:
    return dest.parent / f".{dest.name}.tar.gz.part"


def test_downloads_verifies_and_extracts(server, archive, midi_files, tmp_path):
    server.payload = archive
    dest = tmp_path / "lmd"
    sha = hashlib.sha256(archive).hexdigest()
    assert download_corpus("lmd-full", dest, url=server.url, sha256=sha) == dest
    assert _tree(dest) == midi_files
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lmd"]  # no .part, temp folder or archive left
    assert server.ranges == [None]


def test_keep_archive(server, archive, midi_files, tmp_path):
    server.payload = archive
    dest = tmp_path / "lmd"
    download_corpus("lmd-full", dest, url=server.url, keep_archive=True)
    assert _tree(dest) == midi_files
    assert (tmp_path / "lmd.tar.gz").read_bytes() == archive
    assert not _part(dest).exists()


def test_truncated_response_is_resumed(server, archive, midi_files, tmp_path):
    server.payload, server.truncate = archive, 1
    dest = tmp_path / "lmd"
    download_corpus("lmd-full", dest, url=server.url, sha256=hashlib.sha256(archive).hexdigest())
    assert _tree(dest) == midi_files
    assert server.ranges == [None, f"bytes={len(archive) // 2}-"]


def test_existing_part_is_resumed(server, archive, midi_files, tmp_path):
    server.payload = archive
    dest = tmp_path / "lmd"
    _part(dest).write_bytes(archive[: len(archive) // 2])
    download_corpus("lmd-full", dest, url=server.url)
    assert _tree(dest) == midi_files
    assert server.ranges == [f"bytes={len(archive) // 2}-"]
    assert not _part(dest).exists()


def test_server_ignoring_range_restarts(server, archive, midi_files, tmp_path):
    server.payload, server.ranges_supported = archive, False
    dest = tmp_path / "lmd"
    _part(dest).write_bytes(b"stale bytes from another file")
    download_corpus("lmd-full", dest, url=server.url)
    assert _tree(dest) == midi_files


def test_complete_part_left_by_interrupted_extraction(server, archive, midi_files, tmp_path):
    server.payload = archive
    dest = tmp_path / "lmd"
    _part(dest).write_bytes(archive)
    download_corpus("lmd-full", dest, url=server.url)
    assert _tree(dest) == midi_files
    assert server.ranges == [f"bytes={len(archive)}-"]  # answered 416: nothing left to fetch


def test_exhausted_retries_keep_part_for_next_run(server, archive, midi_files, tmp_path):
    server.payload, server.truncate = archive, 100
    dest = tmp_path / "lmd"
    with pytest.raises(DownloadError, match="run the command again to resume"):
        download_corpus("lmd-full", dest, url=server.url)
    assert not dest.exists()
    kept = _part(dest).stat().st_size
    assert 0 < kept < len(archive)
    server.truncate = 0
    download_corpus("lmd-full", dest, url=server.url)
    assert _tree(dest) == midi_files
    assert server.ranges[-1] == f"bytes={kept}-"


def test_checksum_mismatch(server, archive, tmp_path):
    server.payload = archive
    dest = tmp_path / "lmd"
    with pytest.raises(DownloadError) as error:
        download_corpus("lmd-full", dest, url=server.url, sha256="0" * 64)
    message = str(error.value)
    assert "sha256 checksum mismatch" in message and server.url in message
    assert "0" * 64 in message and hashlib.sha256(archive).hexdigest() in message
    assert not dest.exists()
    assert not _part(dest).exists()  # deleted, so the next run downloads afresh


def test_unsafe_member_is_refused(server, midi_files, tmp_path):
    data = next(iter(midi_files.values()))
    server.payload = _tarball({"lmd_full/0/ok.mid": data, "../evil.mid": data})
    dest = tmp_path / "a" / "lmd"
    with pytest.raises(DownloadError, match=r"unsafe member '\.\./evil\.mid'"):
        download_corpus("lmd-full", dest, url=server.url)
    assert not dest.exists()
    assert not (tmp_path / "evil.mid").exists() and not (tmp_path / "a" / "evil.mid").exists()
    assert list((tmp_path / "a").iterdir()) == []  # neither temp folder nor .part left


def test_non_empty_dest_is_refused_before_downloading(server, archive, tmp_path):
    server.payload = archive
    dest = tmp_path / "lmd"
    dest.mkdir()
    (dest / "mine.mid").write_bytes(b"keep me")
    with pytest.raises(DownloadError, match="not empty"):
        download_corpus("lmd-full", dest, url=server.url)
    assert server.ranges == []
    assert _tree(dest) == {"mine.mid": b"keep me"}


def _cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "musicvae.cli", "corpus", "download", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli(server, archive, midi_files, tmp_path):
    server.payload = archive
    dest = tmp_path / "lmd"
    done = _cli("lmd-full", str(dest), "--url", server.url)
    assert done.returncode == 0, done.stderr
    assert _tree(dest) == midi_files

    failed = _cli("lmd-matched", str(tmp_path / "other"), "--url", server.url, "--sha256", "f" * 64)
    assert failed.returncode != 0
    assert "sha256 checksum mismatch" in failed.stderr
    assert "Traceback" not in failed.stderr + failed.stdout
    assert not (tmp_path / "other").exists()


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buffer.getvalue()


def test_pop909_recipe_keeps_only_each_songs_midi_file(server, midi_files, tmp_path):
    """Shaped as GitHub's archive of the POP909 repository: a top folder, the songs' own files beside versions/."""
    songs = dict(zip(("001", "002", "909"), midi_files.values()))
    top = "POP909-Dataset-d83e6edba6872a704f5d3b8b32f5cb540088dae6"
    members = {f"{top}/README.md": b"readme", f"{top}/POP909/index.xlsx": b"xlsx"}
    for song, data in songs.items():
        members |= {
            f"{top}/POP909/{song}/{song}.mid": data,
            f"{top}/POP909/{song}/versions/v1.mid": data,
            f"{top}/POP909/{song}/beat_midi.txt": b"0.0 1 1",
        }
    server.payload = _zip(members)
    dest = tmp_path / "pop909"
    download_corpus("pop909", dest, url=server.url)
    assert _tree(dest) == {f"POP909/{song}/{song}.mid": data for song, data in songs.items()}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pop909"]


def test_groove_recipe_and_an_archive_without_the_datasets_files(server, midi_files, tmp_path):
    data = next(iter(midi_files.values()))
    server.payload = _zip(
        {
            "groove/info.csv": b"drummer,session",
            "groove/drummer1/session1/1_funk_80_beat_4-4.mid": data,
            "groove/LICENSE": b"CC BY 4.0",
            "groove/.DS_Store": b"x",
        }
    )
    download_corpus("groove", tmp_path / "groove", url=server.url)
    assert set(_tree(tmp_path / "groove")) == {"info.csv", "drummer1/session1/1_funk_80_beat_4-4.mid", "LICENSE"}
    server.payload = _zip({"elsewhere/song.mid": data})
    with pytest.raises(DownloadError, match="holds none of the dataset's files"):
        download_corpus("nottingham", tmp_path / "nottingham", url=server.url)
    assert not (tmp_path / "nottingham").exists()


def test_unsafe_zip_member_is_refused(server, midi_files, tmp_path):
    data = next(iter(midi_files.values()))
    server.payload = _zip({"top/MIDI/ok.mid": data, "top/../../evil.mid": data})
    with pytest.raises(DownloadError, match=r"unsafe member 'top/\.\./\.\./evil\.mid'"):
        download_corpus("nottingham", tmp_path / "a" / "nottingham", url=server.url)
    assert list((tmp_path / "a").iterdir()) == [] and not (tmp_path / "evil.mid").exists()
