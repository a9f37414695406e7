"""The adversarial lab's slider (epsilon, or JSMA's pixels changed): a component that answers in
the browser (``sweep.js``).

A slider move needs no server round trip: the whole sweep (``mnist_viz.adversarial.lab.sweep_view``) is sent
once per digit, model and attack, and the browser swaps images and numbers as the hand moves.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from mnist_viz.adversarial.lab import sweep_index

_sweep = st.components.v2.component(
    "mnist_viz.epsilon_sweep",
    html='<div class="sw-root"></div>',
    css=(Path(__file__).with_name("sweep.css")).read_text(encoding="utf-8"),
    js=(Path(__file__).with_name("sweep.js")).read_text(encoding="utf-8"),
)


def epsilon_sweep(view: dict, epsilon: float, key: str = "sweep") -> float:
    """Show ``view`` starting at the setting nearest ``epsilon`` (an epsilon, or for JSMA a number
    of pixels); returns the setting the slider was last released at: one of ``view``'s, whatever
    the browser sent."""
    epsilons = view["epsilons"]
    # where this slider was last released, if it was: the page below shows that setting, so
    # the slider starts there too (a new digit, goal or model keeps the setting in view)
    released = (st.session_state.get(key) or {}).get("epsilon", epsilon)
    index = sweep_index(epsilons, released)
    result = _sweep(
        data=view | {"index": index},
        key=key,
        default={"epsilon": epsilons[index]},
        on_epsilon_change=lambda: None,
        width="stretch",
        height="content",
    )
    return float(epsilons[sweep_index(epsilons, result.get("epsilon", epsilons[index]))])
