"""mnist-viz: how a convolutional network reads handwritten digits, and how easily it is fooled.

The package never imports Streamlit, so everything here is testable in plain pytest; the pages
(``pages/``) read widgets, call it and render. Its groups follow the app's parts:

- ``core``: data, networks, training, the model cache, background jobs (every page rests on it);
- ``inputs``: drawings, photos, test digits and pen data, prepared as MNIST's digits were;
- ``inside``: filters, feature maps, one unit's arithmetic, receptive fields, the training timeline;
- ``explain``: attribution methods behind one interface, and invariance probes;
- ``adversarial``: attacks behind one registry, the lab, adversarial training;
- ``neuro``: the visual-cortex parallels (Gabor fits, tuning curves, RSA);
- ``view``: images, charts, and their text alternatives;
- ``classroom``: students, saved work, pushes, challenges, the teacher's access.

Every group builds on ``core``; the other imports between groups are few and declared in
``tests/test_layout.py`` (``core`` itself reads the pen digits of ``inputs`` for its training mix
and starts ``adversarial`` training in its worker). ``python -m mnist_viz`` trains and evaluates
from the command line. Submodules are imported on demand: ``core.preprocess`` and
``core.data`` work without loading TensorFlow.
"""

import os

# TensorFlow's C++ start-up banners are noise for learners; real errors still reach Python.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
