"""My work: a student's saved drawings, the labels they gave and the network's answers, and
downloads of all of them."""

import streamlit as st

from mnist_viz.classroom.classwork import ClassWork
from mnist_viz.view import render
from pages._class import class_records, class_work, current_student
from pages._digit import render_sidebar

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
        drawings = work.student_drawings(student.id)
        st.caption(
            f"**{student.nickname}**: {len(drawings)} drawing{'s' if len(drawings) != 1 else ''} "
            "saved, newest first. Only those you shared are shown to the class."
        )
        if drawings:
            c1, c2 = st.columns(2)
            c1.download_button(
                "Download my drawings (ZIP of PNGs, with a CSV)",
                ClassWork.drawings_zip(drawings),
                file_name=f"mnist-viz-{student.nickname}.zip",
                mime="application/zip",
                icon=":material/download:",
            )
            c2.download_button(
                "Download the list (CSV)",
                ClassWork.drawings_csv(drawings),
                file_name=f"mnist-viz-{student.nickname}.csv",
                mime="text/csv",
                icon=":material/table:",
            )
            st.html(
                render.figures_html(
                    [d.image for d in drawings[:120]],
                    [
                        f"{'you: ' + str(d.label) if d.label is not None else 'no label'}; "
                        f"read as {d.predicted}{' (shared)' if d.shared else ''}"
                        for d in drawings[:120]
                    ],
                    size=84,
                )
            )
            if len(drawings) > 120:
                st.caption(f"The newest 120 of {len(drawings)} are shown; the downloads hold all.")

render_sidebar()
