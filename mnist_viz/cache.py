"""The trained-model cache: a ``.keras`` file plus JSON metadata, written atomically under a file lock.

Readers take no lock. Each write replaces the model first and the JSON last, and the JSON records the
model file's SHA-256, so a reader that catches the two files mid-swap sees a mismatch and retries
under the lock. Models are loaded with ``safe_mode=True``; only files this module wrote are loaded.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import platform
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import filelock
import keras
import numpy as np
import tensorflow as tf

from mnist_viz.architecture import DEFAULT_ARCH, Architecture, preset
from mnist_viz.data import MnistData, load_mnist
from mnist_viz.errors import ModelCacheError
from mnist_viz.model import PROBABILITIES
from mnist_viz.training import (
    RECIPE_VERSION,
    ProgressFn,
    Snapshot,
    TrainConfig,
    TrainingResult,
    train_model,
)

log = logging.getLogger(__name__)

# Any training function: (data, its config, progress callback) -> TrainingResult.
Trainer = Callable[[MnistData, Any, ProgressFn | None], TrainingResult]

MODELS_DIR_ENV_VAR = "MNIST_VIZ_MODELS_DIR"
STANDARD_MODEL = "mnist_cnn"
# A cached model's name becomes a file name: letters, digits, "_" and "-" only, so that no name
# (from a widget, a URL, a forged message) can reach outside the models folder.
MODEL_NAME = re.compile(r"[a-z0-9_-]{1,64}")


def check_model_name(name: object) -> str:
    """``name`` if it can name a cached model; ``ModelCacheError`` (without echoing it) if not."""
    if not isinstance(name, str) or not MODEL_NAME.fullmatch(name):
        raise ModelCacheError("that is not the name of a model (a-z, 0-9, _ and - only)")
    return name


def model_name(arch: str = DEFAULT_ARCH) -> str:
    """The cache's file name for a network: ``mnist_cnn`` for the classic one (as ever),
    ``mnist_<arch>`` for the others."""
    return STANDARD_MODEL if arch == DEFAULT_ARCH else f"mnist_{arch.replace('-', '_')}"


def architecture_of(info: ModelInfo) -> Architecture:
    """The spec a cached model was trained with (models saved before specs were: classic)."""
    spec = info.config.get("arch")
    return Architecture.from_dict(spec) if isinstance(spec, dict) else preset(DEFAULT_ARCH)


def model_label(info: ModelInfo) -> str:
    """A cached model for a learner: its network's name, and how it was trained when that was
    adversarially (e.g. "small", "classic, adversarially trained (PGD, epsilon 0.3)")."""
    label = architecture_of(info).name
    if "attack" in info.config:
        label += f", adversarially trained ({info.config['attack']}, epsilon {info.config.get('epsilon')})"
    return label


def trained_models(directory: str | Path | None = None) -> dict[str, ModelInfo]:
    """Every usable cached model in ``directory`` (default: the models folder), by name."""
    directory = Path(directory) if directory else default_models_dir()
    found = {}
    for path in sorted(directory.glob("*.json")):
        if not MODEL_NAME.fullmatch(path.stem):  # not a file this cache wrote
            continue
        try:
            found[path.stem] = ModelCache(directory, path.stem).read_info()
        except ModelCacheError:  # half-written, corrupt or from an older recipe: not offered
            continue
    return found


CACHE_FILE_MODE = 0o644  # mkstemp creates 0600; the cache is as readable as any saved file


def default_models_dir() -> Path:
    """``$MNIST_VIZ_MODELS_DIR`` or the project's ``models/`` folder."""
    env = os.environ.get(MODELS_DIR_ENV_VAR)
    return Path(env) if env else Path(__file__).resolve().parent.parent / "models"


@dataclass(frozen=True)
class ModelInfo:
    """What the JSON beside a cached model says about it."""

    recipe_version: int
    created: str
    config: dict
    data_source: str
    data_description: str
    n_train: int
    n_test: int
    test_accuracy: float
    per_class_accuracy: list[float]
    training_seconds: float
    history: dict[str, list[float]]
    versions: dict[str, str]
    model_sha256: str
    extra: dict = field(default_factory=dict)
    # what it learned from: [{"name", "description", "images"}] (``data_mix.Source``)
    sources: list[dict] = field(default_factory=list)

    @property
    def epochs(self) -> int:
        return int(self.config.get("epochs", len(self.history.get("loss", []))))

    @classmethod
    def from_json(cls, text: str) -> ModelInfo:
        raw = json.loads(text)
        if not isinstance(raw, dict):
            raise ValueError("metadata is not a JSON object")
        return cls(**raw)


@dataclass
class CachedModel:
    """A model ready for use, with its metadata; ``trained_now`` when this call trained it."""

    model: keras.Model
    info: ModelInfo
    trained_now: bool = False


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _library_versions() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
    }


class ModelCache:
    """One named model in a folder: ``NAME.keras``, ``NAME.json`` and ``NAME.lock``."""

    def __init__(self, directory: str | Path | None = None, name: str = STANDARD_MODEL):
        self.directory = Path(directory) if directory else default_models_dir()
        self.name = check_model_name(name)
        self.model_path = self.directory / f"{name}.keras"
        self.info_path = self.directory / f"{name}.json"
        self.lock_path = self.directory / f"{name}.lock"
        self.snapshots_path = self.directory / f"{name}.snapshots.npz"

    # -- reading -------------------------------------------------------------------------------

    def read_info(self) -> ModelInfo:
        """The metadata of a usable cached model; ``ModelCacheError`` says why there is none."""
        if not self.info_path.is_file() or not self.model_path.is_file():
            raise ModelCacheError(f"no cached model in {self.directory}")
        try:
            info = ModelInfo.from_json(self.info_path.read_text(encoding="utf-8"))
        except (OSError, ValueError, TypeError) as exc:
            raise ModelCacheError(f"{self.info_path} is corrupt ({exc})") from None
        if info.recipe_version != RECIPE_VERSION:
            raise ModelCacheError(
                f"cached model was trained with recipe v{info.recipe_version}; "
                f"the current recipe is v{RECIPE_VERSION}"
            )
        return info

    def read_snapshots(self, info: ModelInfo) -> list[Snapshot]:
        """The weights the model had as it trained (``training.Snapshot``), oldest first; empty
        when none were kept or they belong to another version of the model."""
        try:
            with np.load(self.snapshots_path, allow_pickle=False) as f:
                if str(f["model_sha256"]) != info.model_sha256:
                    return []
                steps, total, counts = f["steps"], int(f["total"]), f["counts"]
                return [
                    Snapshot(int(step), total, [f[f"s{i}_w{j}"] for j in range(int(n))])
                    for i, (step, n) in enumerate(zip(steps, counts, strict=True))
                ]
        except (OSError, KeyError, ValueError):
            return []

    def load(self) -> CachedModel:
        """Load the cached model, verifying it against its metadata; ``ModelCacheError`` if unusable."""
        info = self.read_info()
        if _sha256(self.model_path) != info.model_sha256:
            raise ModelCacheError(f"{self.model_path} does not match its metadata")
        try:
            model = keras.saving.load_model(self.model_path, compile=False, safe_mode=True)
        except Exception as exc:  # Keras raises many kinds on a damaged archive
            raise ModelCacheError(f"{self.model_path} is corrupt ({type(exc).__name__})") from None
        names = {layer.name for layer in model.layers}
        if PROBABILITIES not in names or model.output.shape[-1] != 10:
            raise ModelCacheError(f"{self.model_path} is not an mnist-viz model")
        # A writer may have replaced the file while it loaded: the hash must still match.
        if _sha256(self.model_path) != info.model_sha256:
            raise ModelCacheError(f"{self.model_path} changed while it was loading")
        return CachedModel(model, info)

    # -- writing -------------------------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
        """Hold the cache's file lock; ``on_wait`` is called once if another process holds it."""
        self._ensure_directory()
        lock = filelock.FileLock(self.lock_path)
        try:
            lock.acquire(timeout=0)
        except filelock.Timeout:
            if on_wait:
                on_wait()
            lock.acquire()
        try:
            yield
        finally:
            lock.release()

    def _ensure_directory(self) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ModelCacheError(
                f"cannot create the model folder {self.directory} ({exc})"
            ) from None

    def save(self, result: TrainingResult, data: MnistData, extra: dict | None = None) -> ModelInfo:
        """Write ``result`` atomically. The caller holds ``lock()``."""
        self._ensure_directory()
        temps: list[str] = []
        try:
            fd, tmp_model = tempfile.mkstemp(
                dir=self.directory, prefix=f".{self.name}-", suffix=".keras"
            )
            os.close(fd)
            temps.append(tmp_model)
            result.model.save(tmp_model)
            _fsync(tmp_model)
            os.chmod(tmp_model, CACHE_FILE_MODE)
            model_sha256 = _sha256(Path(tmp_model))
            tmp_snapshots = None
            if getattr(result, "snapshots", None):
                fd, tmp_snapshots = tempfile.mkstemp(
                    dir=self.directory, prefix=f".{self.name}-", suffix=".npz"
                )
                os.close(fd)
                temps.append(tmp_snapshots)
                _write_snapshots(tmp_snapshots, result.snapshots, model_sha256)
            sources = [s.to_dict() for s in getattr(result, "sources", [])]
            info = ModelInfo(
                recipe_version=RECIPE_VERSION,
                created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                config=result.config.to_dict(),
                data_source=data.source,
                data_description=data.describe(),
                n_train=sum(s["images"] for s in sources) if sources else len(data.x_train),
                n_test=len(data.x_test),
                test_accuracy=result.test_accuracy,
                per_class_accuracy=result.per_class_accuracy,
                training_seconds=round(result.seconds, 2),
                history=result.history,
                versions=_library_versions(),
                model_sha256=model_sha256,
                extra=extra or {},
                sources=sources,
            )
            fd, tmp_info = tempfile.mkstemp(
                dir=self.directory, prefix=f".{self.name}-", suffix=".json"
            )
            temps.append(tmp_info)
            os.chmod(tmp_info, CACHE_FILE_MODE)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(asdict(info), f, indent=2)
                f.flush()
                os.fsync(f.fileno())
            # Model first, JSON last: the JSON's hash is what makes the pair valid (and the
            # snapshots carry the hash of the model they belong to).
            if tmp_snapshots is not None:
                os.replace(tmp_snapshots, self.snapshots_path)
            os.replace(tmp_model, self.model_path)
            os.replace(tmp_info, self.info_path)
            return info
        except OSError as exc:
            raise ModelCacheError(
                f"cannot write the model cache in {self.directory} ({exc})"
            ) from None
        finally:
            for tmp in temps:
                with contextlib.suppress(FileNotFoundError):
                    os.remove(tmp)

    def train(
        self,
        data_loader: Callable[[], MnistData] = load_mnist,
        config: Any = TrainConfig(),
        progress: ProgressFn | None = None,
        on_wait: Callable[[], None] | None = None,
        trainer: Trainer = train_model,
    ) -> CachedModel:
        """Train a new model (``trainer(data, config, progress)``) and replace the cache with it,
        whatever the cache holds."""
        with self.lock(on_wait):
            return self._train_locked(data_loader, config, progress, trainer)

    def load_or_train(
        self,
        data_loader: Callable[[], MnistData] = load_mnist,
        config: Any = TrainConfig(),
        progress: ProgressFn | None = None,
        on_wait: Callable[[], None] | None = None,
        trainer: Trainer = train_model,
    ) -> CachedModel:
        """The cached model, or a newly trained one when there is none, it is corrupt or stale.

        Two processes starting together train once: the second waits for the lock, then finds the
        first one's model.
        """
        try:
            return self.load()
        except ModelCacheError as exc:
            log.info("training a new model: %s", exc)
        with self.lock(on_wait):
            with contextlib.suppress(ModelCacheError):
                return self.load()
            return self._train_locked(data_loader, config, progress, trainer)

    def _train_locked(
        self,
        data_loader: Callable[[], MnistData],
        config: Any,
        progress: ProgressFn | None,
        trainer: Trainer,
    ) -> CachedModel:
        data = data_loader()
        result = trainer(data, config, progress)
        info = self.save(result, data)
        return CachedModel(result.model, info, trained_now=True)


def _write_snapshots(path: str, snapshots: list[Snapshot], model_sha256: str) -> None:
    arrays = {
        f"s{i}_w{j}": w for i, snap in enumerate(snapshots) for j, w in enumerate(snap.weights)
    }
    with open(path, "wb") as f:
        np.savez(
            f,
            model_sha256=np.array(model_sha256),
            steps=np.array([s.step for s in snapshots]),
            total=np.array(snapshots[-1].steps),
            counts=np.array([len(s.weights) for s in snapshots]),
            **arrays,
        )
        f.flush()
        os.fsync(f.fileno())
    os.chmod(path, CACHE_FILE_MODE)


def _fsync(path: str) -> None:
    with open(path, "rb+") as f:
        os.fsync(f.fileno())
