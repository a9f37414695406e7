"""What a learner gives the network: drawings, photos, test digits and pen data.

- ``image_input``: read any image safely (bounded memory and time, one error type).
- ``preprocess``: drawings, photos and scans to MNIST's 28 x 28 format.
- ``digit``: the current digit and what to say about the network's answer.
- ``style``: how typical a digit's shape is of MNIST.
- ``personal``: teach a private copy of the model a learner's handwriting.
- ``pendigits``: real pen trajectories by 30 writers (UCI pen-based digits).
- ``strokes``: pen strokes drawn as the app's canvas draws them.
"""
