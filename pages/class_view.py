"""The class view (the teacher's): who is drawing, where the network fails on this class's
handwriting, pushing a digit to everyone, challenges, the class model, export and deletion."""

import pandas as pd
import streamlit as st

from mnist_viz.classroom.class_model import CLASS_MODEL
from mnist_viz.classroom.classwork import ClassWork
from mnist_viz.classroom.drawings import read_right
from mnist_viz.classroom.records import ClassError
from mnist_viz.core.data import NUM_CLASSES
from mnist_viz.inputs.digit import random_test_digit
from mnist_viz.view import render
from ui.class_panels import (
    challenge_panel,
    class_model_panel,
    codes_panel,
    remove_student_panel,
    style_panel,
)
from ui.class_session import class_records, class_work
from ui.models import get_data, get_model
from ui.sidebar import render_sidebar
from ui.teacher import failure_spike, teacher_only

REFRESH_SECONDS = 3.0
GALLERY = 24
state = st.session_state

st.title("The class")
if not teacher_only("The class view"):
    render_sidebar()
    st.stop()
work = class_work()
if work is None:
    render_sidebar()
    st.stop()
if spike := failure_spike():  # students guessing the teacher password
    st.warning(spike, icon=":material/lock:")
cached = get_model()
with class_records("Deleting old drawings"):
    work.purge()  # drawings older than the class's retention go


@st.fragment(run_every=REFRESH_SECONDS)
@class_records("The class's numbers")
def live() -> None:
    stats = work.stats()
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Students active", stats["active_students"], help="Seen in the last 5 minutes.")
    c2.metric("Drawings per minute", f"{stats['drawings_per_minute']:.1f}")
    c3.metric("Drawings saved", f"{stats['drawings']:,}")
    c4.metric("Labelled by their students", f"{stats['labelled']:,}")
    st.caption(
        f"{stats['students']} student{'s have' if stats['students'] != 1 else ' has'} joined. "
        f"Refreshed every {REFRESH_SECONDS:.0f} s."
    )

    st.subheader("What they drew, and what the network read")
    matrix = work.confusion()
    frame = pd.DataFrame(
        {str(p): matrix[:, p] for p in range(NUM_CLASSES)},
        index=pd.Index(range(NUM_CLASSES), name="drawn"),
    )
    left, right = st.columns([1.5, 1], gap="medium")
    with left:
        st.dataframe(
            frame,
            key="class_confusion",
            on_select="rerun",
            selection_mode="single-cell",
            width="stretch",
            height="content",
            column_config={str(p): st.column_config.NumberColumn(width=40) for p in range(10)},
        )
        right_total, labelled = read_right(matrix)
        st.caption(
            f"Rows: what the students said they drew. Columns: what the network read. "
            f"{right_total:,} of {labelled:,} labelled drawings read right. **Click a "
            "cell** to see its drawings (those their students shared)."
        )
    cells = state.get("class_confusion", {}).get("selection", {}).get("cells", [])
    with right:
        if cells:
            drawn, read = int(cells[0][0]), int(cells[0][1])
            shown = work.shared_drawings(label=drawn, predicted=read, limit=GALLERY)
            st.markdown(f"**Drawn {drawn}, read as {read}**: {len(shown)} shared")
            if shown:
                st.html(
                    render.figures_html(
                        [d.image for d in shown], [f"{d.student}, #{d.id}" for d in shown], 64
                    )
                )
        else:
            misreads = work.misreads(limit=GALLERY)
            st.markdown(f"**Misreads** (shared): {len(misreads)}")
            if misreads:
                st.html(
                    render.figures_html(
                        [d.image for d in misreads],
                        [f"{d.student}: a {d.label}, read {d.predicted}" for d in misreads],
                        64,
                    )
                )


live()


@class_records("Pushing")
def push_section() -> None:
    st.header("Push a digit to everyone")
    st.caption(
        "It becomes every student's current digit within a couple of seconds, on whatever page they "
        "are; each can go back to their own."
    )
    shared = work.shared_drawings(limit=60)
    p1, p2 = st.columns(2)
    if not shared:  # not an empty, disabled list: its grey placeholder is hard to read (WCAG AA)
        p1.info("No student has shared a drawing yet: a shared one can be pushed from here.")
    else:
        with p1.form("push_shared"):
            options = {d.id: d for d in shared}
            chosen = st.selectbox(
                "A drawing a student shared",
                list(options),
                format_func=lambda i: (
                    f"#{i} by {options[i].student}: "
                    f"{'a ' + str(options[i].label) if options[i].label is not None else 'no label'}, "
                    f"read {options[i].predicted}"
                ),
            )
            if st.form_submit_button("Push this drawing") and chosen in options:
                d = options[chosen]
                work.push(d.image, d.label, f"{d.student}'s drawing")
                st.success("Pushed.")
    with p2.form("push_test"):
        wanted = st.selectbox("Or a test digit of class", ["any", *range(10)], key="push_class")
        if st.form_submit_button("Push a test digit"):
            data = get_data()
            index, test = random_test_digit(
                data.x_test, data.y_test, None if wanted == "any" else int(wanted)
            )
            work.push(test.image, test.label, f"test image #{index}")
            st.success(f"Pushed test image #{index}.")


push_section()
challenge_panel(work, cached)
style_panel(work, cached)
class_model_panel(work, cached, CLASS_MODEL)
codes_panel(work)
remove_student_panel(work)


@class_records("The class's data")
def data_section() -> None:
    st.header("The class's data")
    everything = work.all_drawings
    e1, e2 = st.columns(2)
    e1.download_button(
        "Export the class's drawings (CSV)",
        lambda: ClassWork.drawings_csv(everything()),
        file_name="mnist-viz-class.csv",
        mime="text/csv",
        icon=":material/table:",
    )
    e2.download_button(
        "Export the class's drawings (ZIP of PNGs and the CSV)",
        lambda: ClassWork.drawings_zip(everything()),
        file_name="mnist-viz-class.zip",
        mime="application/zip",
        icon=":material/download:",
    )
    settings = work.settings()
    with st.form("retention"):
        days = st.number_input(
            "Keep drawings for (days)", 1, 365, settings["retention_days"], key="retention_days"
        )
        if st.form_submit_button("Save"):
            try:
                work.set_retention(int(days))
                st.success(f"Drawings older than {int(days)} days are deleted.")
            except ClassError as exc:
                st.error(str(exc))
    with st.expander("Delete the class", icon=":material/delete_forever:"):
        st.warning(
            "This deletes every student, drawing, label, challenge and submission of the class, on "
            "every server. It cannot be undone; export first if you want to keep anything."
        )
        sure = st.text_input('Type "delete the class" to confirm', key="delete_confirm")
        if st.button(
            "Delete the class and everything in it",
            type="primary",
            disabled=sure != "delete the class",
        ):
            work.delete()
            work.ensure()
            st.success("The class was deleted; a new, empty one has begun.")


data_section()

render_sidebar()
