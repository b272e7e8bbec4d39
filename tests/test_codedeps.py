"""signae.codedeps: the package files a workflow script imports, found with ast."""

import textwrap
from pathlib import Path

from signae.codedeps import code_inputs, module_inputs

INIT = '"""A fake signae."""\n\n__version__ = "0.0.1"\n'


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def _fake(tmp_path, script, **modules):
    files = {"src/signae/__init__.py": INIT, "workflow/scripts/s.py": script}
    files.update({f"src/signae/{name}.py": text for name, text in modules.items()})
    return _write(tmp_path, files)


def test_transitive_relative_import_inside_a_function(tmp_path):
    root = _fake(
        tmp_path,
        "import os\nimport numpy as np\n\nfrom signae import a\n",
        a="import math\n\n\ndef f():\n    from . import b\n    return b.g()\n",
        b="def g():\n    return 1\n",
        c="from . import a\n",  # imports a, but nothing imports c
    )
    assert code_inputs("workflow/scripts/s.py", root) == ["src/signae/a.py", "src/signae/b.py"]
    # an absolute script path gives the same relative paths
    assert code_inputs(root / "workflow/scripts/s.py", root) == ["src/signae/a.py", "src/signae/b.py"]


def test_import_forms(tmp_path):
    root = _fake(
        tmp_path,
        """\
        import signae.a
        from signae.b import x
        from signae import c, helper  # helper is no module file: defined in __init__ or nowhere


        def main():
            from signae import d
        """,
        a="",
        b="x = 1\n",
        c="",
        d="from .e import y\n",
        e="y = 2\n",
        f="",
    )
    assert code_inputs("workflow/scripts/s.py", root) == [f"src/signae/{m}.py" for m in "abcde"]


def test_cycle_terminates(tmp_path):
    root = _fake(
        tmp_path,
        "from signae.a import f\n",
        a="from .b import g\n\n\ndef f():\n    return g()\n",
        b="def g():\n    from .a import f\n    return f\n",
    )
    assert code_inputs("workflow/scripts/s.py", root) == ["src/signae/a.py", "src/signae/b.py"]


def test_third_party_and_lookalike_imports_are_ignored(tmp_path):
    root = _fake(
        tmp_path,
        # a top-level module named like a package module, a package whose name starts with signae,
        # a relative import in a script (not in the package) and a grandparent-relative one
        "import numpy\nfrom torch import nn\nimport a\nimport signaex.a\nfrom signae_extra import a\nfrom . import a\n",
        a="from .. import b\nimport scipy\n",
        b="",
    )
    assert code_inputs("workflow/scripts/s.py", root) == []


def test_init_counts_only_with_code(tmp_path):
    root = _fake(tmp_path, "from signae import a\n", a="", c="")
    assert code_inputs("workflow/scripts/s.py", root) == ["src/signae/a.py"]
    (root / "src/signae/__init__.py").write_text(INIT + "from .c import thing\n")
    assert code_inputs("workflow/scripts/s.py", root) == [
        "src/signae/__init__.py",
        "src/signae/a.py",
        "src/signae/c.py",
    ]
    # a script that never imports the package depends on nothing
    (root / "workflow/scripts/s.py").write_text("import numpy\n")
    assert code_inputs("workflow/scripts/s.py", root) == []


def test_real_scripts(repo_root):
    # the plot rule: its script (the registry) plus the plotter's module, never the table or training code
    plot = sorted(
        set(code_inputs("workflow/scripts/plot_figure.py", repo_root))
        | set(module_inputs(["signae.plotting.plot_fig1"], repo_root))
    )
    assert "src/signae/plotting.py" in plot and "src/signae/registry.py" in plot
    assert "src/signae/train.py" not in plot and "src/signae/tables.py" not in plot
    table = module_inputs(["signae.tables.limit_table"], repo_root)
    assert "src/signae/theory.py" in table and "src/signae/plotting.py" not in table
    train = code_inputs("workflow/scripts/train.py", repo_root)
    assert "src/signae/theory.py" in train
    for rel in plot + train:
        assert (repo_root / rel).is_file(), rel
    assert "src/signae/__init__.py" not in train  # docstring and __version__ only


def test_an_edited_or_new_module_is_read_again_in_the_same_process(tmp_path):
    """Imports are parsed once per distinct source text (a DAG asks for them hundreds of times): an edit, or a
    module file that appears later, must still change the answer."""
    root = _fake(tmp_path, "from signae import a\n", a="", b="")
    assert code_inputs("workflow/scripts/s.py", root) == ["src/signae/a.py"]
    (root / "src/signae/a.py").write_text("from . import b\n")
    assert code_inputs("workflow/scripts/s.py", root) == ["src/signae/a.py", "src/signae/b.py"]
    (root / "src/signae/a.py").write_text("from . import b, c\n")  # c.py does not exist yet
    assert code_inputs("workflow/scripts/s.py", root) == ["src/signae/a.py", "src/signae/b.py"]
    (root / "src/signae/c.py").write_text("")
    assert code_inputs("workflow/scripts/s.py", root) == ["src/signae/a.py", "src/signae/b.py", "src/signae/c.py"]
