"""The package's layout is the app's map: few top-level entries, each group says what it holds,
imports between groups are the declared ones, and the package never imports Streamlit."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from conftest import ROOT

PACKAGE = ROOT / "mnist_viz"
GROUPS = ["core", "inputs", "inside", "explain", "adversarial", "neuro", "view", "classroom"]
# group -> the other groups it may import (besides core, which every group builds on)
ALLOWED = {
    "core": set(),
    "inputs": {"view"},  # a digit's image as bytes
    "inside": set(),
    "explain": {"inside"},  # the network's layers
    "adversarial": {"view"},  # the lab's images for the browser
    "neuro": {"inside"},  # receptive fields
    "view": set(),
    "classroom": {"inputs", "view"},  # replay as a private copy does; images as bytes and PNGs
}


def _imports(path: Path, with_names: bool = False) -> set[str]:
    """The modules ``path`` imports; ``with_names``: also ``package.name`` for each name of a
    ``from package import name`` (the loop check keeps the longest that is a module)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            if with_names:
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_the_package_has_at_most_ten_top_level_entries_and_they_are_the_groups():
    entries = sorted(
        p.name for p in PACKAGE.iterdir() if p.suffix == ".py" or (p / "__init__.py").exists()
    )
    assert len(entries) <= 10
    assert entries == sorted(["__init__.py", "__main__.py", *GROUPS])


def test_every_group_says_what_it_holds_and_the_package_docstring_names_every_group():
    package_doc = ast.get_docstring(ast.parse((PACKAGE / "__init__.py").read_text()))
    for group in GROUPS:
        assert f"``{group}``" in package_doc
        doc = ast.get_docstring(ast.parse((PACKAGE / group / "__init__.py").read_text()))
        modules = sorted(p.stem for p in (PACKAGE / group).glob("*.py") if p.stem != "__init__")
        assert modules, group
        for module in modules:
            assert f"``{module}``" in doc, f"mnist_viz/{group}/__init__.py does not name {module}"


def test_imports_between_groups_are_the_declared_ones_and_none_is_streamlit():
    for group in GROUPS:
        for path in (PACKAGE / group).glob("*.py"):
            imported = _imports(path)
            assert not any(name.split(".")[0] == "streamlit" for name in imported), path
            others = {
                name.split(".")[1]
                for name in imported
                if name.startswith("mnist_viz.") and name.split(".")[1] in GROUPS
            } - {group, "core"}
            assert others <= ALLOWED[group], (path, others - ALLOWED[group])


def test_the_groups_are_layered_with_no_loop():
    """Every group may import core and its declared groups; core imports none, and following
    the declared imports from any group never leads back to it."""
    assert ALLOWED["core"] == set()

    def reachable(group: str) -> set[str]:
        seen, todo = set(), list(ALLOWED[group] | ({"core"} - {group}))
        while todo:
            other = todo.pop()
            if other not in seen:
                seen.add(other)
                todo.extend(ALLOWED[other])
        return seen

    for group in GROUPS:
        assert group not in reachable(group), group


def test_tests_follow_the_package_layout():
    for group in GROUPS:
        folder = ROOT / "tests" / group
        assert (folder / "__init__.py").is_file(), folder
    for path in (ROOT / "tests").glob("*/test_*.py"):
        module = path.stem.removeprefix("test_")
        if (PACKAGE / path.parent.name / f"{module}.py").exists():
            continue  # a module's own tests
        # a behaviour's tests: they import their group's modules
        assert any(name.startswith(f"mnist_viz.{path.parent.name}") for name in _imports(path)), (
            path
        )


def test_chromium_and_the_app_server_are_started_by_the_shared_launchers():
    # deploy/browser.py (Chromium's path and flags) and deploy/classroom.py (the server): the
    # tests and the benches must not grow their own copies again
    for folder in ("tests", "bench"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.name == "test_layout.py":
                continue
            text = path.read_text(encoding="utf-8")
            assert "executable_path" not in text and '"--headless"' not in text, path
            assert not re.search(r'"streamlit",\s*"run"', text), path


def _text(node: ast.expr) -> str:
    """A string literal's text (an f-string's literal parts), else ""."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            _text(part) if isinstance(part, ast.Constant) else "{}" for part in node.values
        )
    return ""


def _string_constants(tree: ast.Module) -> dict[str, str]:
    constants = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name) and _text(node.value):
                constants[target.id] = _text(node.value)
    return constants


def test_promises_awaited_in_a_page_go_through_evaluate_and_wait():
    # deploy.browser.evaluate_and_wait starts a wait in the page and asks for its outcome; a bare
    # page.evaluate of a promise can be garbage collected by Chromium 150 (issue 31). A JS function
    # whose result is a promise: an async one, or an arrow that returns one.
    waits = re.compile(
        r"^\s*(async\b|\(?[\w\s,\[\]]*\)?\s*=>\s*(new Promise|axe\.run|window\.__\w+\())"
    )
    trees = {
        path: ast.parse(path.read_text(encoding="utf-8"))
        for folder in ("tests", "bench", "deploy")
        for path in (ROOT / folder).rglob("*.py")
        if path.name != "browser.py"
    }
    constants = {}  # by name across files: the benches import each other's snippets
    for tree in trees.values():
        constants.update(_string_constants(tree))
    found = []
    for path, tree in trees.items():
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "evaluate"
                and node.args
            ):
                first = node.args[0]
                text = constants.get(first.id, "") if isinstance(first, ast.Name) else _text(first)
                if waits.search(text):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not found, f"awaited promises evaluated without evaluate_and_wait: {found}"


def _app_modules() -> dict[str, Path]:
    """Every module of the app's code (the router, pages, ui, mnist_viz) by dotted name."""
    modules = {"app": ROOT / "app.py"}
    for folder in ("pages", "ui", "mnist_viz"):
        for path in (ROOT / folder).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[name] = path
    return modules


def test_pages_holds_only_page_scripts_and_each_is_one_the_router_lists():
    router = (ROOT / "app.py").read_text(encoding="utf-8")
    for path in (ROOT / "pages").iterdir():
        assert path.suffix == ".py" and not path.name.startswith("_"), path
        assert f'"pages/{path.name}"' in router, f"{path.name} is not a page of the router"


def test_imports_run_pages_to_ui_to_mnist_viz_and_never_back():
    for name, path in _app_modules().items():
        imported = _imports(path)
        top = {module.split(".")[0] for module in imported}
        if name.startswith("mnist_viz"):
            assert not top & {"ui", "pages", "streamlit"}, (path, top)
        elif name.startswith("ui"):
            assert "pages" not in top, path
        assert not any(module.startswith("pages") for module in imported) or name == "app", path


def test_no_import_loop_in_the_app():
    modules = _app_modules()

    def targets(name: str) -> set[str]:
        found = set()
        for imported in _imports(modules[name], with_names=True):
            # "from ui.digit import x" names ui.digit; "from ui.components import pen" names a
            # package: the longest module that exists is the one imported
            parts = imported.split(".")
            while parts and ".".join(parts) not in modules:
                parts.pop()
            if parts and ".".join(parts) != name:
                found.add(".".join(parts))
        return found

    graph = {name: targets(name) for name in modules}
    loops = []
    state: dict[str, int] = {}

    def visit(name: str, trail: list[str]) -> None:
        state[name] = 1
        for nxt in sorted(graph[name]):
            if nxt.startswith(name + "."):
                continue  # a package importing its own module is not a loop
            if state.get(nxt) == 1:
                loops.append([*trail[trail.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert not loops, loops


def test_ui_says_what_each_of_its_modules_holds():
    for package in (ROOT / "ui", ROOT / "ui" / "components"):
        doc = ast.get_docstring(ast.parse((package / "__init__.py").read_text()))
        names = [p.stem for p in package.glob("*.py") if p.stem != "__init__"]
        names += [p.name for p in package.iterdir() if (p / "__init__.py").is_file()]
        assert names, package
        for module in names:
            assert f"``{module}``" in doc, f"{package}/__init__.py does not name {module}"
    for component in (ROOT / "ui" / "components").iterdir():
        if (component / "__init__.py").is_file():
            assert (component / f"{component.name}.js").is_file(), component


# Array arithmetic a page might do: it belongs in mnist_viz, where unit tests reach it.
ARRAY_METHODS = {
    "sum",
    "max",
    "min",
    "mean",
    "std",
    "argmax",
    "argmin",
    "transpose",
    "astype",
    "reshape",
}
PAGE_LINES = 300


def test_pages_are_thin_no_arithmetic_library_and_no_array_arithmetic():
    for path in sorted((ROOT / "pages").glob("*.py")):
        source = path.read_text(encoding="utf-8")
        assert len(source.splitlines()) <= PAGE_LINES, f"{path.name} is over {PAGE_LINES} lines"
        tree = ast.parse(source)
        top = {name.split(".")[0] for name in _imports(path)}
        assert not top & {"numpy", "tensorflow", "keras", "scipy"}, (path.name, top)
        calls = [
            f"{path.name}:{node.lineno} .{node.func.attr}()"
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ARRAY_METHODS
            and not (isinstance(node.func.value, ast.Name) and node.func.value.id == "st")
        ]
        assert not calls, calls


def test_the_readme_layout_names_every_page_and_every_ui_module():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    layout = readme[readme.index("## Layout") :]
    end = layout.find("\n## ", 1)
    layout = layout if end < 0 else layout[:end]
    for path in (ROOT / "pages").glob("*.py"):
        assert f"`{path.name}`" in layout, path.name
    for path in (ROOT / "ui").glob("*.py"):
        if path.stem != "__init__":
            assert f"`{path.name}`" in layout, path.name
    for path in (ROOT / "ui" / "components").iterdir():
        if (path / "__init__.py").is_file():
            assert f"`{path.name}`" in layout, path.name
