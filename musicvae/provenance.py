"""The project's own code that a command runs: the static import closure of its entry module.

DVC's stage deps, the preprocess manifest's code hash and a training run's resume check all need to know which files
a command's result depends on. Deriving that from the imports, rather than keeping lists by hand, is what keeps them
from silently drifting when a module starts importing another."""

from __future__ import annotations

import ast
import functools
import hashlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The project's packages (pyproject's setuptools include); imports of anything else are dependencies, not code.
PACKAGES = ("musicvae", "pipelines", "lightning_modules", "experiments")


@functools.cache
def code_files(module: str, root: Path = ROOT) -> tuple[str, ...]:
    """Repo-relative posix paths of every project file `module` imports, directly or not, itself included.

    Imports inside functions count: the commands import heavy modules lazily, and those still decide the result."""
    seen: dict[str, Path] = {}
    pending = [module]
    while pending:
        name = pending.pop()
        if name in seen or (path := _source(name, root)) is None:
            continue
        seen[name] = path
        pending.extend(_imports(name, path))
    return tuple(sorted(p.relative_to(root).as_posix() for p in seen.values()))


@functools.cache
def code_sha256(module: str, root: Path = ROOT) -> str:
    """A hash of the code `module` runs, file by file as DVC hashes deps: it changes exactly when that code does."""
    digest = hashlib.sha256()
    for path in code_files(module, root):
        digest.update(path.encode() + b"\0" + (root / path).read_bytes())
    return digest.hexdigest()


def _source(module: str, root: Path) -> Path | None:
    """The file of a project module or package, or None for other modules and for names that are not modules."""
    if module.split(".")[0] not in PACKAGES:
        return None
    base = root.joinpath(*module.split("."))
    for path in (base / "__init__.py", base.with_suffix(".py")):
        if path.is_file():
            return path
    return None


def _imports(module: str, path: Path) -> set[str]:
    """Every module an `import` anywhere in the file may load, with the packages above it (Python runs their
    `__init__.py` first); `from p import x` yields p.x too, which counts only if x is a submodule."""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    names = set()
    for node in ast.walk(ast.parse(path.read_bytes(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            above = package[: len(package) + 1 - node.level] if node.level else []  # a relative import's package
            base = ".".join([*above, *([node.module] if node.module else [])])
            names.update([base, *(f"{base}.{alias.name}" for alias in node.names)])
    return {".".join(name.split(".")[:i]) for name in names for i in range(1, name.count(".") + 2)}
