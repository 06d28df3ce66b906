"""The dependency direction of DESIGN.md, checked by walking every module's imports."""

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "shallowlab"

DESIGN = SRC.parents[1] / "docs" / "design.md"


def design_layers(text: str) -> list[set[str]]:
    """The layers as docs/design.md's "Dependency direction" block lists them, lowest first:
    one line a layer, ``-> a, b``; the package itself is in the lowest, ``__main__`` in the
    highest. The list lives there, so the docs and this test cannot disagree."""
    block = text.split("## Dependency direction", 1)[1].split("```")[1]
    layers = [{f"shallowlab.{name.strip()}" for name in line.replace("->", "").split(",")}
              for line in block.strip().splitlines()]
    layers[0].add("shallowlab")
    layers[-1].add("shallowlab.__main__")
    return layers


LAYERS = design_layers(DESIGN.read_text())


def _layer(module: str) -> int:
    for rank, names in enumerate(LAYERS):
        if any(module == n or module.startswith(n + ".") for n in names - {"shallowlab"}):
            return rank
    if module == "shallowlab":
        return 0
    raise AssertionError(f"{module} is in no layer of docs/design.md; add it there")


def _modules():
    for path in sorted(SRC.rglob("*.py")):
        parts = path.relative_to(SRC.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, ast.parse(path.read_text())


def _imports(tree: ast.AST, *, in_functions: bool = True):
    """The modules ``tree`` imports; with ``in_functions=False`` only those imported when the
    module itself is (the ones inside a function wait for its first call)."""
    for node in ast.walk(tree) if in_functions else _outside_functions(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def _outside_functions(tree: ast.AST):
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(child for child in ast.iter_child_nodes(node)
                     if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)))


MODULES = dict(_modules())


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_point_down_only(name):
    own = _layer(name)
    for imported in _imports(MODULES[name]):
        if imported.split(".")[0] != "shallowlab" or imported not in _known(imported):
            continue
        assert _layer(imported) <= own, f"{name} (layer {own}) imports {imported}"


def _known(imported: str) -> set[str]:
    """``from shallowlab import nets`` names a module; ``from x import SomeClass`` does not."""
    return {imported} if (SRC.parent / imported.replace(".", "/")).with_suffix(".py").exists() \
        or (SRC.parent / imported.replace(".", "/")).is_dir() else set()


def _in_facade(name: str) -> bool:
    """The book's facade is a package, ``shallowlab.d2l``; its modules may import each other."""
    return name == "shallowlab.d2l" or name.startswith("shallowlab.d2l.")


def _in_cli(name: str) -> bool:
    """The command line is a package too, ``shallowlab.cli``: one module per big command."""
    return name == "shallowlab.cli" or name.startswith("shallowlab.cli.")


def test_nothing_imports_the_cli_or_the_book_facade():
    for name, tree in MODULES.items():
        if _in_cli(name) or name == "shallowlab.__main__" or _in_facade(name):
            continue
        for imported in _imports(tree):
            assert not imported.startswith(("shallowlab.cli", "shallowlab.d2l")), name


def _imports_matplotlib(tree: ast.AST, *, in_functions: bool = True) -> bool:
    return any(i.split(".")[0] == "matplotlib" for i in _imports(tree, in_functions=in_functions))


def test_no_module_imports_matplotlib_at_import_time():
    """matplotlib loads on the first figure, not on ``import shallowlab...`` (the CLI starts
    fast and a run with no figure never pays for it)."""
    assert [name for name, tree in MODULES.items()
            if _imports_matplotlib(tree, in_functions=False)] == []


def test_graphviz_is_imported_only_when_a_graph_is_drawn():
    """Graphviz is an optional extra: no module imports it at import time, and only
    ``shallowlab.graph.draw`` imports it at all."""
    users = {name for name, tree in MODULES.items()
             if any(i.split(".")[0] == "graphviz" for i in _imports(tree))}
    eager = {name for name, tree in MODULES.items()
             if any(i.split(".")[0] == "graphviz" for i in _imports(tree, in_functions=False))}
    assert users == {"shallowlab.graph.draw"} and eager == set()


def test_figures_reach_matplotlib_through_plots():
    """An experiment's own figure is built from ``plots.figure`` and ``plots.finish``: only
    ``plots`` (and the book's facade, which drives pyplot as the book does) imports it."""
    users = {name for name, tree in MODULES.items() if _imports_matplotlib(tree)}
    assert {u for u in users if not _in_facade(u)} <= {"shallowlab.figures.plots"}


def _functions():
    for name, tree in MODULES.items():
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield name, node


def _body_lines(node: ast.FunctionDef) -> int:
    """Lines of a function's body after its docstring."""
    body = node.body
    if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and len(body) > 1:
        body = body[1:]
    return node.end_lineno - body[0].lineno + 1


def test_no_function_is_longer_than_50_lines():
    long = [f"{name}.{node.name}: {node.end_lineno - node.lineno + 1}"
            for name, node in _functions() if node.end_lineno - node.lineno + 1 > 50]
    assert not long


def test_fit_reads_in_one_screen():
    (fit,) = [node for name, node in _functions()
              if name == "shallowlab.core.loop" and node.name == "fit"]
    assert _body_lines(fit) <= 30


def test_the_training_loop_knows_no_step_layer_loss_or_optimizer():
    """train.py drives whatever step it is given: it imports neither the steps nor torch.nn
    nor torch.optim, and names no attribute of them."""
    tree = MODULES["shallowlab.core.loop"]
    imported = set(_imports(tree))
    assert not {i for i in imported if i.startswith(
        ("shallowlab.core.fused", "shallowlab.core.steps", "torch.nn", "torch.optim"))}
    assert "nn" not in imported and "optim" not in imported
    names = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    names |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    assert not names & {"nn", "optim", "Linear", "Sequential", "CrossEntropyLoss", "SGD",
                        "FusedStep", "AutogradStep"}
