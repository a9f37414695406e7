"""The model and what it is made from: data, networks, training, the model cache, background
jobs. Every group rests on this one, and it imports none of them: the worker finds the
adversarial twin's recipe by name (``worker.RECIPES``).

Reading images and bringing them to MNIST's format live here, not in ``inputs``, because the
training data goes the same way as a learner's drawing: the real pen digits are drawn as the
canvas draws and read through the app's own preprocessing.

- ``data``: MNIST from any source (a path, the download, the offline sample), saying which.
- ``pendigits``: real pen trajectories by 30 writers (UCI pen-based digits).
- ``strokes``: pen strokes drawn as the app's canvas draws them.
- ``image_input``: read any image safely (bounded memory and time, one error type).
- ``preprocess``: drawings, photos and scans to MNIST's 28 x 28 format.
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
