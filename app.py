"""mnist-viz: the router. Run with `make run` (or `streamlit run app.py`)."""

import streamlit as st

st.set_page_config(page_title="mnist-viz", page_icon=":material/draw:", layout="wide")

st.navigation(
    [
        st.Page("pages/model_status.py", title="The model", icon=":material/memory:", default=True),
    ]
).run()
