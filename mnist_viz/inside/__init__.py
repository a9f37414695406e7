"""Inside the network: what it holds and how a digit travels through it.

- ``network``: kernels, the data-flow diagram, ranked dense units.
- ``unit_math``: one unit's arithmetic, from the layer before.
- ``filter_vis``: what each filter wants to see (activation maximisation, top test images).
- ``receptive_field``: which input pixels a unit of each layer can see.
- ``timeline``: the network as it learned, from the weight snapshots.
- ``dataset_stats``: class counts, mean images, confusions of the data set.
"""
