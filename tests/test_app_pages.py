"""The page list that benchmarks and tests visit is read from the router (``bench/app_pages.py``)."""

from __future__ import annotations

from bench.app_pages import page_titles


def test_the_page_list_is_the_routers_in_sidebar_order():
    titles = page_titles()
    assert titles[0] == "Draw & predict" and titles[-1] == "The class (teacher)"
    assert len(titles) == len(set(titles)) == 11


def test_a_page_added_to_the_router_is_in_the_list(tmp_path):
    app = tmp_path / "app.py"
    app.write_text(
        "import streamlit as st\n"
        "st.navigation([\n"
        '    st.Page("pages/a.py", title="First", default=True),\n'
        '    st.Page("pages/b.py", icon=":material/x:", title="Second"),\n'
        "]).run()\n"
    )
    assert page_titles(app) == ["First", "Second"]
