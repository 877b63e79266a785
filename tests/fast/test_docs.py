"""The documentation: README.md is a short front door that links to every page of the MkDocs site (docs/,
mkdocs.yml), the site builds with `mkdocs build --strict` (no broken link or anchor, no page missing from nav), and
every relative link of the README leads somewhere."""

import os
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import yaml

from tests.support import ROOT, system

README = ROOT / "README.md"
# Markdown links and images, [text](target) and ![alt](target), with an optional "title"
LINK = re.compile(r"!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def nav_pages(nav) -> list[str]:
    """The Markdown files of mkdocs.yml's nav, at any depth (an entry is a page, {title: page} or {title: [...]})."""
    if isinstance(nav, str):
        return [nav]
    if isinstance(nav, list):
        return [page for item in nav for page in nav_pages(item)]
    return [page for value in nav.values() for page in nav_pages(value)]


def relative_links(text: str) -> list[str]:
    """The link targets of a Markdown text that are neither addresses (scheme://, mailto:) nor in code blocks."""
    prose = re.sub(r"```.*?```", "", text, flags=re.S)
    return [target for target in LINK.findall(prose) if not re.match(r"[a-z][a-z0-9+.-]*:", target, re.I)]


def slug(heading: str) -> str:
    """A heading's anchor as Python-Markdown's toc extension (MkDocs) makes it; GitHub agrees for plain headings."""
    text = re.sub(r"[`*_]", "", heading)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[-\s]+", "-", re.sub(r"[^\w\s-]", "", text).strip().lower())


def anchors(page: Path) -> set[str]:
    prose = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
    return {slug(heading) for heading in re.findall(r"^#{1,6} +(.+?) *#*$", prose, re.M)}


def test_readme_is_short_and_links_to_every_page():
    lines = README.read_text().splitlines()
    assert len(lines) <= 200, f"README.md has {len(lines)} lines; move detail into docs/"
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    pages = nav_pages(config["nav"])
    assert {page.name for page in (ROOT / config["docs_dir"]).glob("*.md")} == set(pages), "every page in nav"
    linked = {Path(target.split("#")[0]).as_posix() for target in relative_links(README.read_text())}
    missing = [page for page in pages if f"{config['docs_dir']}/{page}" not in linked]
    assert not missing, f"README.md links to no {missing}"


def test_every_relative_link_of_the_readme_exists():
    broken = []
    for target in relative_links(README.read_text()):
        path, _, anchor = target.partition("#")
        file = (ROOT / path) if path else README
        if not file.exists():
            broken.append(target)
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            broken.append(f"{target} (no such heading)")
    assert not broken, broken


def test_the_site_builds_strictly(tmp_path):
    mkdocs = Path(sys.executable).with_name("mkdocs")
    if not mkdocs.exists():
        system.missing("mkdocs is not installed (pip install -e '.[docs]', or `make test`, which installs the lock)")
    done = subprocess.run(
        [
            str(mkdocs),
            "build",
            "--strict",
            "--config-file",
            str(ROOT / "mkdocs.yml"),
            "--site-dir",
            str(tmp_path / "site"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "WARNING" not in done.stderr, done.stderr
    site = tmp_path / "site"
    for page in nav_pages(yaml.safe_load((ROOT / "mkdocs.yml").read_text())["nav"]):
        built = site / ("index.html" if page == "index.md" else f"{page.removesuffix('.md')}/index.html")
        assert built.is_file(), built
    assert (site / "studio.png").is_file()
