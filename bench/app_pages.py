"""The app's pages as its router lists them (``app.py``), read from its source so that the
benchmarks and tests that visit every page cannot drift from it."""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app.py"


def page_titles(app: Path = APP) -> list[str]:
    """The title of every ``st.Page`` in ``app``, in the order the sidebar shows them."""
    pages = []
    for node in ast.walk(ast.parse(app.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "Page":
            title = next(k.value for k in node.keywords if k.arg == "title")
            pages.append((node.lineno, ast.literal_eval(title)))
    return [title for _, title in sorted(pages)]


def app_with_a_test_digit(index: int = 0, timeout: float = 300):
    """An AppTest of the whole app (router included), not yet run, whose current digit is MNIST
    test image ``index`` (as if picked on the Draw page): the prologue of the page benchmarks."""
    from streamlit.testing.v1 import AppTest

    from mnist_viz.core.data import load_mnist
    from mnist_viz.inputs.digit import from_test_set
    from ui.digit import DIGIT_KEY

    at = AppTest.from_file(str(APP), default_timeout=timeout)
    data = load_mnist()
    at.session_state[DIGIT_KEY] = from_test_set(data.x_test, data.y_test, index)
    return at
