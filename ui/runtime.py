"""How this app changes Streamlit's per-run housekeeping, and why: both cost every user a stall.

Streamlit's defaults suit apps that build a new model on every rerun. This one loads its models
once and shares them, so two clean-ups become pure cost on a busy server:

- ``runner.postScriptGC`` (off in ``.streamlit/config.toml``): a full ``gc.collect(2)`` after each
  script run. With TensorFlow loaded that walks ~420,000 objects, 150-300 ms of the interpreter's
  lock per run, during which no other session's script can run. Profiled on a live server it was
  ~90% of the script thread's time.
- ``keras.backend.clear_session()`` after each run: the same full collection again, and it empties
  TensorFlow's kernel cache (~15 ms more on the next prediction), and resets Keras' global state.

Memory stays bounded without them: Python's own generational collector still runs, and
``settle_heap`` moves everything alive after start-up (TensorFlow, the models) into the permanent
generation, so the collector's occasional full passes only walk what sessions created since.
"""

from __future__ import annotations

import gc
import sys
import threading

from streamlit.runtime.scriptrunner import script_runner as script_runner_module

_heap_lock = threading.Lock()


def keep_keras_state() -> None:
    """Replace Streamlit's per-run ``keras.backend.clear_session()`` with a clean-up that only
    closes matplotlib figures (as Streamlit also does). If Streamlit's internals change, the app
    only gets slower."""
    runner = script_runner_module
    original = getattr(runner, "_clean_problem_modules", None)
    if original is None or getattr(original, "keeps_keras", False):
        return

    def close_matplotlib_figures() -> None:
        plt = sys.modules.get("matplotlib.pyplot")
        if plt is not None:
            plt.close("all")

    close_matplotlib_figures.keeps_keras = True
    runner._clean_problem_modules = close_matplotlib_figures


def settle_heap() -> None:
    """Collect once, then freeze every surviving object into the permanent generation.

    Called after a model is loaded (start-up, or a teacher's retrain): the model and TensorFlow's
    ~420,000 objects are long-lived, and later full collections skip them (150 ms -> under 1 ms,
    measured). Unfreezing first lets a replaced model's garbage be collected.
    """
    with _heap_lock:
        gc.unfreeze()
        gc.collect()
        gc.freeze()


keep_keras_state()
