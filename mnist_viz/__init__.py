"""mnist-viz: how a convolutional network reads handwritten digits, and how easily it is fooled.

The package never imports Streamlit, so everything here is testable in plain pytest. Modules:
``data`` (MNIST from any source), ``model`` (the CNN), ``training`` (the recipe), ``cache`` (the
trained-model cache), ``preprocess`` (drawings and photos to MNIST format), ``errors``.
Submodules are imported on demand: ``preprocess`` and ``data`` work without loading TensorFlow.
"""

import os

# TensorFlow's C++ start-up banners are noise for learners; real errors still reach Python.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
