"""Training in a child process at low CPU priority, reporting progress as JSON lines.

A training run holds both cores for 20 s to several minutes. Run in the app's own process it
would also compete with every session for the interpreter lock; in a child process niced below
the server, the operating system gives the class's clicks and strokes the CPU first, and the
memory training needs is returned when it ends. The child writes the model cache exactly as the
command line does (atomic writes under the cache's file lock); the server then loads the result.

Protocol, one JSON object per line on the child's stdout:
``{"progress": {...TrainingProgress}}``, ``{"waiting": true}`` (another process holds the lock),
then ``{"done": {"model_sha256": ..., "trained_now": ...}}`` or ``{"error": "message", "kind":
"DataError"}``: a data or cache error is raised again as itself in the server, so the app explains
it as it would any other.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from mnist_viz.core.errors import DataError, ImageError, MnistVizError, ModelCacheError

ROOT = Path(__file__).resolve().parents[2]  # the project: mnist_viz/core/worker.py
NICENESS = 10  # below the server (0), so interactive work comes first
STANDARD, ADVERSARIAL = "standard", "adversarial"
# Where each recipe a training child may run is defined, as "module:function". The function takes
# a spec's config fields and returns the config and its trainer, held to the app's limits. Found by
# name, in the child only: this base layer never imports the groups built on it (the adversarial
# twin's recipe is the adversarial group's), and a spec can name nothing outside this table.
RECIPES = {
    STANDARD: "mnist_viz.core.training:recipe",
    ADVERSARIAL: "mnist_viz.adversarial.adversarial_training:recipe",
}


class TrainingError(MnistVizError):
    """Training in the background failed; the message says why, in words for the app."""


@dataclass(frozen=True)
class TrainSpec:
    """One training run: which recipe, with which settings, into which cache."""

    models_dir: str
    name: str  # the cache's name (mnist_cnn, mnist_cnn_adversarial)
    recipe: str = STANDARD  # STANDARD or ADVERSARIAL
    config: dict | None = None  # the recipe's config fields; None: its defaults
    load_first: bool = False  # use the cached model if there is a usable one (first run)


# Secrets a training child does not need: the teacher password (Streamlit also exports
# secrets.toml's top-level keys as environment variables), the cookie secret, a database URL.
SECRET_ENV_VARS = frozenset(
    {
        "MNIST_VIZ_TEACHER_PASSWORD",
        "teacher_password",
        "STREAMLIT_SERVER_COOKIE_SECRET",
        "MNIST_VIZ_DATABASE_URL",
    }
)


def child_environment() -> dict[str, str]:
    """This process's environment without its secrets, for a training child."""
    return {k: v for k, v in os.environ.items() if k not in SECRET_ENV_VARS}


def run_training(
    spec: TrainSpec,
    report: Callable[[Any], None] | None = None,
    waiting: Callable[[], None] | None = None,
) -> dict:
    """Run ``spec`` in a niced child process; returns the child's "done" record (the model's
    SHA-256 and whether it trained now). Raises ``TrainingError`` with the child's message."""
    from mnist_viz.core.training import TrainingProgress

    with tempfile.TemporaryFile() as log:
        child = subprocess.Popen(
            [sys.executable, "-m", "mnist_viz.core.worker", json.dumps(asdict(spec))],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            env=child_environment(),
        )
        done, error, kind = None, None, None
        for line in child.stdout:
            try:
                message = json.loads(line)
            except json.JSONDecodeError:
                continue  # a stray print from a library
            if "progress" in message and report is not None:
                report(TrainingProgress(**message["progress"]))
            elif message.get("waiting") and waiting is not None:
                waiting()
            elif "done" in message:
                done = message["done"]
            elif "error" in message:
                error, kind = message["error"], message.get("kind")
        child.wait()
        if done is not None and child.returncode == 0:
            return done
        if error is None and child.returncode < 0:  # killed: its log's last line is noise
            name = signal.Signals(-child.returncode).name
            error = f"the training process was killed ({name}); the previous model is kept"
        elif error is None:
            log.seek(0)
            tail = log.read().decode(errors="replace").strip().splitlines()[-1:]
            error = f"the training process stopped (exit code {child.returncode}" + (
                f": {tail[0]})" if tail else ")"
            )
        raise _ERRORS.get(kind, TrainingError)(error)


_ERRORS: dict[str | None, type[MnistVizError]] = {
    cls.__name__: cls for cls in (DataError, ModelCacheError, ImageError)
}


def _emit(message: dict) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def _train(spec: TrainSpec) -> dict:
    from mnist_viz.core.cache import ModelCache
    from mnist_viz.core.data import load_mnist

    # The spec comes from a page, built from what a browser sent: held to the app's limits.
    if spec.recipe not in RECIPES:
        raise TrainingError(f"unknown recipe {spec.recipe!r}")
    module, function = RECIPES[spec.recipe].split(":")
    try:
        config, trainer = getattr(importlib.import_module(module), function)(spec.config)
    except (TypeError, ValueError) as exc:
        raise TrainingError(f"this training is not allowed: {exc}") from None
    cache = ModelCache(spec.models_dir, spec.name)

    def progress(p) -> None:
        _emit({"progress": asdict(p)})

    def wait() -> None:
        _emit({"waiting": True})

    run = cache.load_or_train if spec.load_first else cache.train
    result = run(load_mnist, config, progress, wait, trainer=trainer)
    return {
        "model_sha256": result.info.model_sha256,
        "trained_now": result.trained_now,
        "niceness": os.nice(0),
        "secrets_seen": sorted(k for k in SECRET_ENV_VARS if k in os.environ),  # names only
    }


def main(argv: list[str] | None = None) -> int:
    """The child's side: train, print progress and the outcome as JSON lines."""
    argv = sys.argv[1:] if argv is None else argv
    os.nice(NICENESS)
    try:
        spec = TrainSpec(**json.loads(argv[0]))
        _emit({"done": _train(spec)})
        return 0
    except MnistVizError as exc:
        _emit({"error": str(exc), "kind": type(exc).__name__})
    except Exception as exc:  # reported to the page as a message, never as a traceback
        _emit({"error": f"{type(exc).__name__}: {exc}"})
    return 1


if __name__ == "__main__":
    sys.exit(main())
