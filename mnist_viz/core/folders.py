"""Where the app writes: ``data/`` (or ``$MNIST_VIZ_DATA_DIR``) for what the replicas on one
machine share besides the model cache: the teacher sign-in ledger. Nothing there is committed."""

from __future__ import annotations

import os
from pathlib import Path

DATA_DIR_ENV_VAR = "MNIST_VIZ_DATA_DIR"


def data_dir() -> Path:
    """``$MNIST_VIZ_DATA_DIR`` or the project's ``data/`` folder."""
    env = os.environ.get(DATA_DIR_ENV_VAR)
    return Path(env) if env else Path(__file__).resolve().parents[2] / "data"
