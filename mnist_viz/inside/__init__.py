"""Inside the network: what it holds and how a digit travels through it.

- ``network``: kernels, the data-flow diagram, ranked dense units.
- ``unit_math``: one unit's arithmetic, from the layer before.
- ``filter_vis``: what each filter wants to see (activation maximisation, top test images).
- ``receptive_field``: which input pixels a unit of each layer can see.
- ``timeline``: the network as it learned, from the weight snapshots.
- ``dataset_stats``: class counts, mean images, confusions of the data set.
- ``learning_step``: one training step as arithmetic: the loss of one digit, the chain of local
  derivatives back to one weight with its numbers, a layer's gradient, one SGD step on a copy.
- ``backprop``: each layer's local derivative in numpy (ReLU gates, pool winners, convolutions),
  which ``learning_step`` chains together.
- ``feedback_alignment``: backpropagation against feedback alignment (fixed random feedback
  weights, Lillicrap et al. 2016) on a two-layer network, side by side.
- ``step_table``: the step as a learner reads it: tables of the forward pass, the chain and the
  step, and the layer's gradient as a grid a click can pick a weight from.
"""
