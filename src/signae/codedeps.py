"""The package source files a workflow script depends on, read from its imports (never executed).

A rule lists ``code_inputs(script)`` among its inputs so that Snakemake reruns exactly the jobs whose
code changed: the modules of src/signae/ the script imports, and theirs, transitively.

What counts as an import of a package module (anywhere in a file, inside functions too):

- in the script or a module: ``import signae.a``, ``from signae.a import x``, and ``from signae import a``
  when ``src/signae/a.py`` exists (a name defined in ``signae/__init__`` is not a module);
- in a module of the package, also the relative forms ``from . import a`` and ``from .a import x``.

Third-party and standard-library imports are ignored, and so are imports computed at run time
(``importlib.import_module``). ``src/signae/__init__.py`` runs on every import of the package, so it is
a dependency too, but only when it holds code beyond a docstring and dunder assignments such as
``__version__`` (otherwise editing its docstring would rerun everything).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = "signae"
SOURCE_DIR = "src"


def _is_trivial_init(tree: ast.Module) -> bool:
    """True when a module holds only a docstring, ``from __future__`` imports and dunder assignments."""
    for k, node in enumerate(tree.body):
        if (
            k == 0
            and isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            continue
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            continue
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if all(isinstance(t, ast.Name) and t.id.startswith("__") and t.id.endswith("__") for t in targets):
                continue
        return False
    return True


def _import_candidates(tree: ast.AST, in_package: bool) -> tuple[set[str], bool]:
    """(names that :func:`_imported_modules` keeps when src/signae/<name>.py exists, whether ``tree`` imports
    the package at all): what the source says, before the file system is asked. ``in_package``: the file is a
    module of the package, so ``from . import`` refers to it."""
    found: set[str] = set()
    touches = False

    def add_module(name: str) -> None:
        if name and name != "__init__":
            found.add(name)

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == PACKAGE:
                    touches = True
                    if len(parts) > 1:
                        add_module(parts[1])
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                parts = (node.module or "").split(".")
                if parts[0] != PACKAGE:
                    continue
            elif node.level == 1 and in_package:
                parts = [PACKAGE] + (node.module.split(".") if node.module else [])
            else:  # relative imports from a script, or reaching above the package
                continue
            touches = True
            if len(parts) > 1:  # from signae.a import x / from .a import x
                add_module(parts[1])
            else:  # from signae import a, b / from . import a, b: each name that is a module file
                for alias in node.names:
                    add_module(alias.name)
    return found, touches


#: {(source text, in_package): import candidates}: a workflow asks for the same modules' imports hundreds of
#: times while it builds its DAG (every job of every rule), and parsing them each time took most of a dry run
#: (5.7 of 10.4 s on the quick preset). Keyed by the text itself, so an edited file is parsed again.
_CANDIDATES: dict[tuple[str, bool], tuple[frozenset[str], bool]] = {}


def _imported_modules(path: Path, pkg_dir: Path, in_package: bool) -> tuple[set[str], bool]:
    """(names of package modules the file at ``path`` imports, whether it imports the package at all), its
    text parsed once (:data:`_CANDIDATES`). Module names are the stems of src/signae/<name>.py; "__init__" is
    never among them."""
    text = path.read_text(encoding="utf-8")
    key = (text, in_package)
    if key not in _CANDIDATES:
        candidates, touches = _import_candidates(ast.parse(text, filename=str(path)), in_package)
        _CANDIDATES[key] = (frozenset(candidates), touches)
    candidates, touches = _CANDIDATES[key]
    return {name for name in candidates if (pkg_dir / f"{name}.py").is_file()}, touches


#: Whether an ``__init__.py`` text is trivial (:func:`_is_trivial_init`), keyed by the text like
#: :data:`_CANDIDATES`, so the package's ``__init__`` is parsed once per run, not once per job.
_TRIVIAL_INIT: dict[str, bool] = {}


def _init_is_trivial(path: Path) -> bool:
    text = path.read_text(encoding="utf-8")
    if text not in _TRIVIAL_INIT:
        _TRIVIAL_INIT[text] = _is_trivial_init(ast.parse(text, filename=str(path)))
    return _TRIVIAL_INIT[text]


def _closure(names: set[str], pkg_dir: Path) -> set[str]:
    """Module ``names`` and every package module they import, transitively (names, not paths)."""
    seen: set[str] = set()
    todo = set(names)
    while todo:
        name = todo.pop()
        seen.add(name)
        found, _ = _imported_modules(pkg_dir / f"{name}.py", pkg_dir, in_package=True)
        todo |= found - seen
    return seen


def code_inputs(script: str | Path, root: str | Path = ".") -> list[str]:
    """Source files of src/signae/ that ``script`` imports, directly or through other package modules.

    ``script``: a Python file, absolute or relative to ``root`` (e.g. "workflow/scripts/train.py").
    ``root``: the repository root, which holds src/signae/. Returns sorted, unique paths relative to
    ``root`` in POSIX form ("src/signae/theory.py"); the script itself is not among them. Files are
    parsed with :mod:`ast`, never imported; an import cycle terminates.
    """
    root = Path(root)
    script = Path(script)
    if not script.is_absolute():
        script = root / script
    pkg_dir = root / SOURCE_DIR / PACKAGE
    init = pkg_dir / "__init__.py"

    direct, touches = _imported_modules(script, pkg_dir, in_package=False)
    modules = _closure(direct, pkg_dir)
    with_init = False
    if touches and init.is_file() and not _init_is_trivial(init):
        # __init__ runs on every import of the package, and so do the modules it imports
        with_init = True
        modules |= _closure(_imported_modules(init, pkg_dir, in_package=True)[0], pkg_dir)
    files = {f"{SOURCE_DIR}/{PACKAGE}/{name}.py" for name in modules}
    if with_init:
        files.add(f"{SOURCE_DIR}/{PACKAGE}/__init__.py")
    return sorted(files)


def module_inputs(modules, root: str | Path = ".") -> list[str]:
    """Source files of the named package modules ("tables", or "signae.tables") and of everything they
    import, transitively; sorted paths relative to ``root``. A function named by its dotted path
    ("signae.tables.limit_table") counts as its module."""
    root = Path(root)
    pkg_dir = root / SOURCE_DIR / PACKAGE
    names = set()
    for m in modules:
        parts = m.split(".")
        names.add(parts[1] if parts[0] == PACKAGE else parts[0])
    return sorted(f"{SOURCE_DIR}/{PACKAGE}/{name}.py" for name in _closure(names, pkg_dir))
