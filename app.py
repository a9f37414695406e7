"""mnist-viz: the router. Run with `make run` (or `streamlit run app.py`)."""

import streamlit as st

st.set_page_config(page_title="mnist-viz", page_icon=":material/draw:", layout="wide")

st.navigation(
    [
        st.Page("pages/draw.py", title="Draw & predict", icon=":material/draw:", default=True),
        st.Page("pages/network.py", title="Inside the network", icon=":material/hub:"),
        st.Page("pages/training.py", title="Training & evaluation", icon=":material/monitoring:"),
    ]
).run()
