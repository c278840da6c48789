"""No private names of other packages: any release may rename them without notice (Babel 2.19
renamed one this suite imported, and a fresh install could not even collect the tests).

The gate reads the source of nnplay/, tests/ and benchmarks/. A `_name` is ours when our own code
defines it (a function, a class, an assignment); any other `_name` (imported, or read as an
attribute) belongs to another package and is refused, except the few in UNAVOIDABLE, each used
in one small function that says why, and each checked below to still exist.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted(p for d in ("nnplay", "tests", "benchmarks") for p in (ROOT / d).rglob("*.py"))
FIRST_PARTY = {"nnplay", "tests"}
# namedtuple's public methods carry an underscore so as not to clash with field names
NAMEDTUPLE = {"_replace", "_asdict", "_fields", "_make", "_field_defaults"}
# (file, name): why no public way exists
UNAVOIDABLE = {
    ("nnplay/tui/actions.py", "_bindings"): (
        "a node's own copy of its key bindings, translated after the language is chosen (Textual "
        "has no public way to change a binding's description once the class is made)"
    ),
    ("tests/test_private_names.py", "_bindings"): "the check below that it still exists",
}


def private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__") and name != "_"


def trees():
    for path in SOURCES:
        name = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.name
        yield name, ast.parse(path.read_text(), str(path))


def own_names() -> set[str]:
    """Every `_name` our code defines."""
    names = set()
    for _path, tree in trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
    return {n for n in names if private(n)}


def foreign_private_names() -> list[str]:
    ours = own_names() | NAMEDTUPLE
    found = []
    for path, tree in trees():
        for node in ast.walk(tree):
            where = f"{path}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                root = node.module.split(".")[0]
                if root in FIRST_PARTY or root == "__future__":
                    continue
                parts = node.module.split(".") + [a.name for a in node.names]
                found += [f"{where} imports {node.module}.{p}" for p in parts if private(p)]
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if any(private(p) for p in alias.name.split(".")):
                        found.append(f"{where} imports {alias.name}")
            elif (
                isinstance(node, ast.Attribute)
                and private(node.attr)
                and node.attr not in ours
                and (path, node.attr) not in UNAVOIDABLE
            ):
                found.append(f"{where} reads .{node.attr}")
    return found


def test_no_private_name_of_another_package_is_used():
    assert not foreign_private_names()


def test_the_gate_finds_what_it_must(monkeypatch, tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text(
        "from babel.messages.frontend import _parse_mapping_toml\n"
        "import torch._dynamo\n"
        "torch._foreach_mul_(xs, 2)\n"
        "app._notifications\n"
    )
    monkeypatch.setattr(f"{__name__}.SOURCES", [*SOURCES, probe])
    found = " ".join(foreign_private_names())
    for name in ("_parse_mapping_toml", "torch._dynamo", "._foreach_mul_", "._notifications"):
        assert name in found


def test_the_unavoidable_private_names_still_exist():
    """If a release renames one of them, this says which, before anything else breaks oddly."""
    from textual.widgets import Static

    node = Static()
    assert hasattr(node, "_bindings") and hasattr(node._bindings, "key_to_bindings"), (
        "Textual no longer has DOMNode._bindings.key_to_bindings: see nnplay/tui/actions.py"
    )


@pytest.mark.parametrize(("path", "name"), sorted(UNAVOIDABLE))
def test_each_unavoidable_name_is_still_used_where_it_is_listed(path, name):
    assert f".{name}" in (ROOT / path).read_text()
