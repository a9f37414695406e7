"""My work: a student's saved drawings, the labels they gave and the network's answers, and
downloads of all of them."""

import streamlit as st

from mnist_viz.classroom.classwork import ClassWork
from mnist_viz.view import render
from ui.class_session import class_records, class_work, current_student
from ui.sidebar import render_sidebar

SHOWN = 120  # drawings shown on the page; the downloads hold every one
st.title("My work")
work = class_work()
student = current_student(work)
if student is None:
    st.info(
        "Join the class under **The class** in the sidebar (a nickname only) and your drawings, "
        "with what you said they were and what the network answered, are kept here.",
        icon=":material/groups:",
    )
else:
    with class_records("Your saved work"):
        count = work.count_student_drawings(student.id)
        newest = work.student_drawings(student.id, limit=SHOWN)
        st.caption(
            f"**{student.nickname}**: {count} drawing{'s' if count != 1 else ''} saved, newest "
            "first. Only those you shared are shown to the class."
        )
        if count:

            def everything() -> list:  # read when a download is asked for, not on every run
                return work.all_student_drawings(student.id)

            c1, c2 = st.columns(2)
            c1.download_button(
                f"Download all {count} (ZIP of PNGs, with a CSV)",
                lambda: ClassWork.drawings_zip(everything()),
                file_name=f"mnist-viz-{student.nickname}.zip",
                mime="application/zip",
                icon=":material/download:",
            )
            c2.download_button(
                f"Download the list of all {count} (CSV)",
                lambda: ClassWork.drawings_csv(everything()),
                file_name=f"mnist-viz-{student.nickname}.csv",
                mime="text/csv",
                icon=":material/table:",
            )
            st.html(
                render.figures_html(
                    [d.image for d in newest],
                    [
                        f"{'you: ' + str(d.label) if d.label is not None else 'no label'}; "
                        f"read as {d.predicted}{' (shared)' if d.shared else ''}"
                        for d in newest
                    ],
                    size=84,
                )
            )
            if count > len(newest):
                st.caption(
                    f"The newest {len(newest)} of {count} are shown; the downloads hold all."
                )

render_sidebar()
