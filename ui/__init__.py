"""The app's Streamlit side, between the page scripts and ``mnist_viz`` (which never imports
Streamlit). Pages import from here; nothing here imports a page.

- ``digit``: the current digit every page works on, kept in session state.
- ``models``: the served network, the session's choice of network, other trained ones, MNIST.
- ``jobs``: the shared queues (one training at a time, results computed once) and their panels.
- ``results``: results cached per model and digit (sweeps, reports, explanations, teaching).
- ``sidebar``: the sidebar every page ends with.
- ``weights``: learned filters and pixel templates drawn on one signed scale (Inside the network).
- ``unit_arithmetic``: one unit of a feature map and the arithmetic behind its value.
- ``timeline``: watch it learn, the network at each training snapshot.
- ``learning``: How it learns: the private copy, the weight picker, the step, feedback alignment.
- ``teacher``: the teacher's sign-in and the gate on controls that change what everyone sees.
- ``class_session``: the class in every page (joining, saving answers, labels, pushes).
- ``class_panels``: the class view's panels and the lab's challenge submission.
- ``lab_maps``: the adversarial lab's layer picker and its feature maps, before and after.
- ``teach``: feedback on a learner's handwriting, and teaching it a private copy.
- ``data_sources``: the training page's section on what the network learned from.
- ``chart``: every chart with its numbers in text.
- ``style``: the site-wide stylesheet (``style.css``).
- ``session``: telling a student their page started over.
- ``runtime``: this app's changes to Streamlit's per-run housekeeping.
- ``components``: the custom components, one folder each with its Python and JavaScript.
"""
