"""One unit of a feature map and the arithmetic behind its value (on "Inside the network"):
pick it by number or by a click on the map, then see its window and maximum (pooling) or its
patch, kernel, products, bias and ReLU (a convolution)."""

from __future__ import annotations

import streamlit as st

from mnist_viz.core.architecture import MapLayer
from mnist_viz.inside import unit_math
from mnist_viz.view import charts
from ui.chart import chart, new_click


def numbers(values, fmt: str = "{:.2f}") -> list[dict]:
    """A small grid of numbers as rows for ``st.dataframe``."""
    return [{str(c): fmt.format(v) for c, v in enumerate(row)} for row in values]


def unit_arithmetic(model, digit, acts, layer: MapLayer) -> None:
    """Choose one unit of the shown layer and see the arithmetic that makes its value."""
    with st.expander(f"One unit of {layer.name}: the arithmetic behind its value"):
        u1, u2, u3 = st.columns(3)
        channel = u1.number_input("Map", 0, layer.channels - 1, 0, key=f"unit_map_{layer.name}")
        keys = f"unit_row_{layer.name}_{channel}", f"unit_col_{layer.name}_{channel}"
        pick = f"unit_pick_{layer.name}_{channel}"
        follow_click(acts[layer.name], channel, keys, pick)
        row = u2.number_input("Row", 0, layer.height - 1, key=keys[0])
        col = u3.number_input("Column", 0, layer.width - 1, key=keys[1])
        m1, m2 = st.columns([1, 2])
        with m1:
            chart(
                charts.unit_picker_chart(acts[layer.name][..., channel], (row, col)),
                f"{layer.name} map {channel}, one cell per unit; click a unit to choose it",
                on_select="rerun",
                selection_mode=charts.UNIT_SELECTION,
                key=pick,
                width="content",  # square cells: the map's own proportions
            )
            st.caption(
                f"Map {channel} of {layer.name} for this digit: click a unit to see where its "
                "value comes from (outlined: the unit shown)."
            )
        with m2:
            explain_unit(model, digit, acts, layer, channel, row, col)


def follow_click(maps, channel: int, keys: tuple[str, str], pick: str) -> None:
    """Point the row and column inputs at the unit last clicked on the map, or at the map's
    strongest unit before any click. Runs before those inputs are drawn (Streamlit allows
    setting a widget's value only then)."""
    state = st.session_state
    if keys[0] not in state:
        state[keys[0]], state[keys[1]] = (int(v) for v in unit_math.strongest(maps, channel))
    if (clicked := new_click(pick)) is not None:
        state[keys[0]], state[keys[1]] = clicked


def explain_unit(model, digit, acts, layer: MapLayer, channel: int, row: int, col: int) -> None:
    """The arithmetic that makes one unit's value: its window and maximum for pooling; its
    patch, kernel, products, bias and ReLU for a convolution."""
    inputs = unit_math.layer_input(model, acts, layer.name, digit.image)
    shown = float(acts[layer.name][row, col, channel])
    if layer.kind == "pooling":
        unit = unit_math.pool_unit(model, inputs, layer.name, row, col, channel)
        st.dataframe(numbers(unit.window), hide_index=True)
        r, c = unit.winner
        st.caption(
            f"The {unit.window.shape[0]} x {unit.window.shape[1]} window of the map before, "
            f"from row {unit.top}, column {unit.left}: the largest value "
            f"(row {r}, column {c} of the window) is kept: **{unit.value:.3f}**, as the map "
            f"shows ({shown:.3f})."
        )
        return
    unit = unit_math.conv_unit(model, inputs, layer.name, row, col, channel)
    k = unit.kernel.shape[0]
    if unit.patch.shape[-1] == 1:  # reads the image: every product can be shown
        p1, p2, p3 = st.columns(3)
        p1.caption(f"Input patch, rows {row}-{row + k - 1}, columns {col}-{col + k - 1}")
        p1.dataframe(numbers(unit.patch[..., 0]), hide_index=True)
        p2.caption(f"Kernel of map {channel}")
        p2.dataframe(numbers(unit.kernel[..., 0]), hide_index=True)
        p3.caption("Products (patch x kernel)")
        p3.dataframe(numbers(unit.products[..., 0], "{:.3f}"), hide_index=True)
        summed = f"the {k * k} products add up to {unit.summed:.3f}"
    else:
        contributions = unit.per_input
        st.dataframe(
            [{"input map": i, "its products summed": f"{v:.3f}"} for i, v in unit.top_inputs(8)],
            hide_index=True,
        )
        summed = (
            f"each of the {len(contributions)} input maps contributes the sum of its {k * k} "
            f"products (the 8 largest above); together {unit.summed:.3f}"
        )
    st.markdown(
        f"{summed[0].upper()}{summed[1:]}; plus the bias {unit.bias:.3f} gives "
        f"{unit.before_relu:.3f}; ReLU keeps {'it' if unit.before_relu > 0 else 'zero instead'}: "
        f"**{unit.value:.3f}**, as the map shows ({shown:.3f})."
    )
