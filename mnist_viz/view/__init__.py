"""Pictures, charts and their words: how results are drawn, and their text alternatives.

- ``render``: images as numpy arrays and small HTML snippets (grids, colour maps, pixel values).
- ``charts``: Vega-Lite specs for the pages' charts.
- ``learning_charts``: How it learns: signed gradient maps and the two learning rules' curves.
- ``bars``: the answer's ten probabilities as HTML bars with their numbers (cheap to redraw).
- ``chart_text``: each chart's accessible name and table, read from its spec.
- ``describe``: each image's text alternative, from the numbers it is drawn from.
"""
