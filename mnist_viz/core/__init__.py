"""The model and what it is made from: data, networks, training, the model cache, background
jobs. Every page rests on this group. Two things reach outside it: the training mix reads the
pen digits of ``inputs``, and the worker starts ``adversarial`` training.

- ``data``: MNIST from any source (a path, the download, the offline sample), saying which.
- ``data_mix``: what a network learns from: MNIST alone, or MNIST plus real pen-drawn digits.
- ``augment``: training digits varied the way handwriting varies.
- ``architecture``: networks as data (presets, layer specs), layers found from the model.
- ``model``: the classic CNN, prediction and model inputs.
- ``training``: the recipe (TrainConfig) and weight snapshots.
- ``activations``: every layer's output for one image in one forward pass.
- ``cache``: trained models on disk, crash-safe, shared by replicas.
- ``worker``: training in a child process at low priority.
- ``jobs``: background work shared by every session, one job per key, in order.
- ``limits``: what a teacher may ask to train, checked before a job is queued.
- ``folders``: where the app writes.
- ``errors``: the project's exceptions, in words a user can act on.
"""
