"""mnist-viz: the router. Run with `make run` (or `streamlit run app.py`)."""

from pathlib import Path

import streamlit as st

from ui.class_session import keep_code_in_address
from ui.session import session_notice
from ui.style import apply_style
from ui.teacher import sign_in_with_link

# The tab's icon is a file of the app's: a Material icon name would make every browser fetch its
# picture from fonts.gstatic.com (a request to Google per page load, failing on a closed school
# network).
FAVICON = str(Path(__file__).resolve().parent / "static" / "favicon.png")
st.set_page_config(page_title="mnist-viz", page_icon=FAVICON, layout="wide")
apply_style()  # readable captions and a visible focus in both themes (WCAG 2.2 AA)
session_notice()  # a page that started over (reloaded, or reconnected to another server) says so
keep_code_in_address()  # first thing: a page switch cleared it, and a reload must find it
sign_in_with_link()  # a one-time link from `make teacher-link`, before any page asks who this is

# URL paths differ from the file names on purpose: because a `pages/` folder exists, Streamlit
# starts a fresh server in its old folder-based mode, where a deep link such as /training would
# run pages/training.py directly, bypassing this router. An unknown path falls back to this
# script, which switches Streamlit to these pages at once.
st.navigation(
    [
        st.Page("pages/draw.py", title="Draw & predict", icon=":material/draw:", default=True),
        st.Page(
            "pages/network.py",
            title="Inside the network",
            icon=":material/hub:",
            url_path="inside-the-network",
        ),
        st.Page(
            "pages/training.py",
            title="Training & evaluation",
            icon=":material/monitoring:",
            url_path="training-and-evaluation",
        ),
        st.Page(
            "pages/why.py",
            title="Why this prediction",
            icon=":material/lightbulb:",
            url_path="why-this-prediction",
        ),
        st.Page(
            "pages/filters.py",
            title="What each filter wants to see",
            icon=":material/filter_center_focus:",
            url_path="what-filters-want-to-see",
        ),
        st.Page(
            "pages/cortex.py",
            title="The network and the visual cortex",
            icon=":material/neurology:",
            url_path="network-and-visual-cortex",
        ),
        st.Page(
            "pages/adversarial.py",
            title="Adversarial lab",
            icon=":material/bolt:",
            url_path="adversarial-lab",
        ),
        st.Page(
            "pages/how_it_learns.py",
            title="How it learns",
            icon=":material/school:",
            url_path="how-it-learns",
        ),
        st.Page(
            "pages/compare.py",
            title="Compare two networks",
            icon=":material/compare:",
            url_path="compare-networks",
        ),
        st.Page(
            "pages/my_work.py", title="My work", icon=":material/photo_library:", url_path="my-work"
        ),
        st.Page(
            "pages/class_view.py",
            title="The class (teacher)",
            icon=":material/groups:",
            url_path="class-view",
        ),
    ]
).run()
