"""The app's custom components, one folder each, its Python beside its JavaScript (and CSS).

- ``pen``: the drawing pad's pen tools (a stroke sent on pen-up, Clear and Undo in the browser).
- ``push``: following the teacher's pushes (a static file the page asks for, and the switch).
- ``sweep``: the adversarial lab's epsilon slider, answered in the browser.
- ``code_keeper``: the tab's copy of a joined student's resume code.
"""
