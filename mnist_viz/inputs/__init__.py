"""What a learner gives the network, once read: their digit, its shape, their handwriting.

Images are read and brought to MNIST's format in ``core`` (``image_input``, ``preprocess``), where
the training data is read the same way.

- ``digit``: the current digit and what to say about the network's answer.
- ``style``: how typical a digit's shape is of MNIST.
- ``personal``: teach a private copy of the model a learner's handwriting.
"""
