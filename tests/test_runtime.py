"""``ui.runtime``: what the app changes in Streamlit's and Python's housekeeping."""

import gc
import weakref

from ui.runtime import settle_heap


class Node:
    """An object in a reference cycle, as a Keras model's layers and their model are."""


def test_settling_freezes_what_lives_and_the_next_settle_frees_a_replaced_models_cycles():
    try:
        old = Node()
        old.me = old
        gone = weakref.ref(old)
        settle_heap()  # a model was loaded: everything alive moves out of the collector's way
        later = Node()  # what sessions create afterwards is still collected as usual
        later.me = later
        later_gone = weakref.ref(later)
        del later
        gc.collect()
        assert later_gone() is None
        del old  # the model is replaced: its cycle is garbage now
        gc.collect()
        assert gone() is not None  # frozen: full collections skip it (what makes them cheap)
        settle_heap()  # the new model is loaded: unfreezing first lets the old one go
        assert gone() is None
    finally:
        settle_heap()  # leave the heap frozen, as conftest does after collection
