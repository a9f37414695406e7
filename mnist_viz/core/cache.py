"""The trained-model cache: ``.keras`` files plus JSON metadata, written so that a crash at any
moment leaves a usable model.

For a model NAME the folder holds ``NAME.json`` (the metadata: the commit point), the model file
it names, ``NAME.<hash>.keras``, with its weight snapshots, and ``NAME.previous.json`` with the
files of the model before it. A save writes the new model under its own name (its hash), then the
previous metadata, then replaces ``NAME.json`` in one rename, and only then removes files neither
JSON names. Killed at any step, the folder still holds the old pair or the new one, never a
mismatch (``tests/test_cache_faults.py`` kills a trainer at each step, and fills the disk).

Reading takes no lock; the JSON records the model file's SHA-256, checked on every load. When the
current model cannot be read, ``load_best`` falls back to the previous one and says why; a
training is never started over a model silently. Models are loaded with ``safe_mode=True``; only
files this module wrote are loaded. Writers hold ``NAME.lock``, and give up after
``LOCK_TIMEOUT_SECONDS`` with a message rather than wait forever.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import logging
import os
import platform
import re
import signal
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import filelock
import keras
import numpy as np
import tensorflow as tf

from mnist_viz.core.architecture import DEFAULT_ARCH, Architecture, preset
from mnist_viz.core.data import MnistData, load_mnist
from mnist_viz.core.errors import ModelCacheError, NoCachedModel
from mnist_viz.core.model import PROBABILITIES
from mnist_viz.core.training import (
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
    return Path(env) if env else Path(__file__).resolve().parents[2] / "models"


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
    """A model ready for use, with its metadata; ``trained_now`` when this call trained it;
    ``problem``: why it is not the model that was expected (shown to the teacher)."""

    model: keras.Model
    info: ModelInfo
    trained_now: bool = False
    problem: str | None = None


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


LOCK_TIMEOUT_SECONDS = 45 * 60.0  # longer than any training the app allows (mnist_viz.core.limits)
STALE_TEMP_SECONDS = 60 * 60.0  # a temporary file this old is a crashed writer's leftover
FAULT_ENV_VAR = "MNIST_VIZ_FAULT"  # "save:<step>": the process kills itself there (tests only)
SAVE_STEPS = (
    "model-written",
    "model-renamed",
    "snapshots-written",
    "json-written",
    "previous-kept",
    "json-renamed",
    "cleaned",
)
_VERSIONED = re.compile(r"[a-z0-9_-]+\.[0-9a-f]{16}\.(keras|snapshots\.npz)")


def _fault_point(step: str) -> None:
    """Die here, as a killed process dies, when the fault-injection tests ask for it."""
    if os.environ.get(FAULT_ENV_VAR) == f"save:{step}":
        os.kill(os.getpid(), signal.SIGKILL)


class ModelCache:
    """One named model in a folder: ``NAME.json``, the files it names, ``NAME.previous.json`` and
    ``NAME.lock`` (see the module docstring)."""

    def __init__(self, directory: str | Path | None = None, name: str = STANDARD_MODEL):
        self.directory = Path(directory) if directory else default_models_dir()
        self.name = check_model_name(name)
        self.info_path = self.directory / f"{name}.json"
        self.previous_path = self.directory / f"{name}.previous.json"
        self.lock_path = self.directory / f"{name}.lock"

    # -- reading -------------------------------------------------------------------------------

    def _files(self, raw: dict) -> tuple[Path, Path]:
        """The model and snapshot files a metadata record names (older records: fixed names)."""
        files = raw.get("files") or {}
        model = files.get("model", f"{self.name}.keras")
        snapshots = files.get("snapshots", f"{self.name}.snapshots.npz")
        for file_name in (model, snapshots):
            legacy = file_name in (f"{self.name}.keras", f"{self.name}.snapshots.npz")
            if not (
                legacy or (_VERSIONED.fullmatch(file_name) and file_name.startswith(self.name))
            ):
                raise ModelCacheError(f"{self.info_path} names a file this cache did not write")
        return self.directory / model, self.directory / snapshots

    def _read(self, path: Path) -> tuple[ModelInfo, Path, Path]:
        if not path.is_file():
            raise NoCachedModel(f"no cached model {self.name} in {self.directory}")
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(raw, dict):
                raise ValueError("metadata is not a JSON object")
            model_path, snapshots_path = self._files(raw)
            raw.pop("files", None)
            info = ModelInfo(**raw)
        except ModelCacheError:
            raise
        except (OSError, ValueError, TypeError) as exc:
            raise ModelCacheError(f"{path} is corrupt ({exc})") from None
        if info.recipe_version != RECIPE_VERSION:
            raise ModelCacheError(
                f"cached model was trained with recipe v{info.recipe_version}; "
                f"the current recipe is v{RECIPE_VERSION}"
            )
        if not model_path.is_file():
            raise ModelCacheError(f"{model_path.name}, named by {path.name}, is missing")
        return info, model_path, snapshots_path

    def read_info(self) -> ModelInfo:
        """The metadata of the current cached model; ``NoCachedModel`` when there is none, or
        another ``ModelCacheError`` saying why it cannot be used."""
        return self._read(self.info_path)[0]

    @property
    def model_path(self) -> Path:
        """The current model's file (``NAME.keras`` when there is none yet)."""
        try:
            return self._read(self.info_path)[1]
        except ModelCacheError:
            return self.directory / f"{self.name}.keras"

    @property
    def snapshots_path(self) -> Path:
        """The current model's weight snapshots file."""
        try:
            return self._read(self.info_path)[2]
        except ModelCacheError:
            return self.directory / f"{self.name}.snapshots.npz"

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

    def _load_from(self, path: Path) -> CachedModel:
        info, model_path, _ = self._read(path)
        if _sha256(model_path) != info.model_sha256:
            raise ModelCacheError(f"{model_path} does not match its metadata")
        try:
            model = keras.saving.load_model(model_path, compile=False, safe_mode=True)
        except Exception as exc:  # Keras raises many kinds on a damaged archive
            raise ModelCacheError(f"{model_path} is corrupt ({type(exc).__name__})") from None
        names = {layer.name for layer in model.layers}
        if PROBABILITIES not in names or model.output.shape[-1] != 10:
            raise ModelCacheError(f"{model_path} is not an mnist-viz model")
        # A damaged file cannot change while it loads (files are never rewritten in place),
        # but a writer may have removed it: the hash must still match.
        if _sha256(model_path) != info.model_sha256:
            raise ModelCacheError(f"{model_path} changed while it was loading")
        return CachedModel(model, info)

    def load(self) -> CachedModel:
        """Load the current cached model, verified against its metadata; ``NoCachedModel`` when
        there is none, another ``ModelCacheError`` when it cannot be used."""
        return self._load_from(self.info_path)

    def read_previous_info(self) -> ModelInfo:
        """The metadata of the model before the current one (``NoCachedModel``: none kept)."""
        return self._read(self.previous_path)[0]

    def load_previous(self) -> CachedModel:
        """The model before the current one, verified like ``load``."""
        return self._load_from(self.previous_path)

    def load_best(self) -> CachedModel:
        """The current model, or, when it cannot be used, the one before it with ``problem``
        saying why; the current model's error when neither can be used."""
        try:
            return self.load()
        except ModelCacheError as current:
            if isinstance(current, NoCachedModel) and not self.previous_path.is_file():
                raise
            try:
                previous = self._load_from(self.previous_path)
            except ModelCacheError:
                raise current from None
            log.warning("%s; serving the previous model", current)
            problem = f"the current model cannot be used ({current}); the one before it is shown"
            return dataclasses.replace(previous, problem=problem)

    # -- writing -------------------------------------------------------------------------------

    @contextlib.contextmanager
    def lock(
        self, on_wait: Callable[[], None] | None = None, timeout: float | None = None
    ) -> Iterator[None]:
        """Hold the cache's file lock; ``on_wait`` is called once if another process holds it.
        ``ModelCacheError`` after ``timeout`` seconds (default ``LOCK_TIMEOUT_SECONDS``)."""
        self._ensure_directory()
        lock = filelock.FileLock(self.lock_path)
        try:
            lock.acquire(timeout=0)
        except filelock.Timeout:
            if on_wait:
                on_wait()
            try:
                lock.acquire(timeout=LOCK_TIMEOUT_SECONDS if timeout is None else timeout)
            except filelock.Timeout:
                raise ModelCacheError(
                    f"another process has been writing the {self.name} model for too long; if "
                    f"no training is running, delete {self.lock_path}"
                ) from None
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

    def _temp(self, suffix: str, temps: list[str]) -> str:
        fd, path = tempfile.mkstemp(dir=self.directory, prefix=f".{self.name}-", suffix=suffix)
        os.close(fd)
        temps.append(path)
        return path

    def save(self, result: TrainingResult, data: MnistData, extra: dict | None = None) -> ModelInfo:
        """Write ``result`` so that a crash at any point leaves the old pair or the new one (see
        the module docstring). The caller holds ``lock()``."""
        self._ensure_directory()
        self.clean_leftovers(older_than=0)  # under the lock no writer of this model is at work
        temps: list[str] = []
        try:
            tmp_model = self._temp(".keras", temps)
            result.model.save(tmp_model)
            _fsync(tmp_model)
            os.chmod(tmp_model, CACHE_FILE_MODE)
            model_sha256 = _sha256(Path(tmp_model))
            version = f"{self.name}.{model_sha256[:16]}"
            _fault_point("model-written")
            os.replace(tmp_model, self.directory / f"{version}.keras")
            _fault_point("model-renamed")
            files = {"model": f"{version}.keras", "snapshots": f"{version}.snapshots.npz"}
            if getattr(result, "snapshots", None):
                tmp_snapshots = self._temp(".npz", temps)
                _write_snapshots(tmp_snapshots, result.snapshots, model_sha256)
                os.replace(tmp_snapshots, self.directory / files["snapshots"])
            _fault_point("snapshots-written")
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
            tmp_info = self._write_json(asdict(info) | {"files": files}, temps)
            _fault_point("json-written")
            with contextlib.suppress(ModelCacheError):  # the model now current becomes previous
                self._read(self.info_path)
                tmp_previous = self._temp(".json", temps)
                with open(self.info_path, "rb") as src, open(tmp_previous, "wb") as dst:
                    dst.write(src.read())
                    dst.flush()
                    os.fsync(dst.fileno())
                os.chmod(tmp_previous, CACHE_FILE_MODE)
                os.replace(tmp_previous, self.previous_path)
            _fault_point("previous-kept")
            os.replace(tmp_info, self.info_path)  # the commit point
            _fsync_directory(self.directory)
            _fault_point("json-renamed")
        except OSError as exc:
            raise ModelCacheError(
                f"cannot write the model cache in {self.directory} ({exc}); the previous model "
                "is kept"
            ) from None
        finally:
            for tmp in temps:
                with contextlib.suppress(FileNotFoundError):
                    os.remove(tmp)
        self._remove_unnamed_versions()
        _fault_point("cleaned")
        return info

    def _write_json(self, record: dict, temps: list[str]) -> str:
        tmp = self._temp(".json", temps)
        os.chmod(tmp, CACHE_FILE_MODE)
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(record, f, indent=2)
            f.flush()
            os.fsync(f.fileno())
        return tmp

    def _remove_unnamed_versions(self) -> None:
        """Remove this model's files that neither the current nor the previous JSON names."""
        named = set()
        for path in (self.info_path, self.previous_path):
            with contextlib.suppress(ModelCacheError):
                _, model_path, snapshots_path = self._read(path)
                named |= {model_path.name, snapshots_path.name}
        for path in self.directory.glob(f"{self.name}.*"):
            mine = _VERSIONED.fullmatch(path.name) and path.name.split(".")[0] == self.name
            if mine and path.name not in named:
                with contextlib.suppress(OSError):
                    path.unlink()

    def clean_leftovers(self, older_than: float = STALE_TEMP_SECONDS) -> list[Path]:
        """Remove temporary files a crashed writer of this model left behind, older than
        ``older_than`` seconds (without the lock, a writer may be at work); returns them."""
        removed = []
        now = time.time()
        for path in self.directory.glob(f".{self.name}-*"):
            with contextlib.suppress(OSError):
                if now - path.stat().st_mtime >= older_than:
                    path.unlink()
                    removed.append(path)
        return removed

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
        """The cached model (or the one before it, when it cannot be used), or a newly trained one
        when there is neither; a model trained over an unusable one says so in ``problem``.

        Two processes starting together train once: the second waits for the lock, then finds the
        first one's model.
        """
        try:
            return self.load_best()
        except ModelCacheError as exc:
            log.info("training a new model: %s", exc)
        with self.lock(on_wait):
            try:
                return self.load_best()
            except NoCachedModel:
                problem = None
            except ModelCacheError as exc:
                problem = f"the cached model could not be used ({exc}), so it was trained again"
            trained = self._train_locked(data_loader, config, progress, trainer)
            return dataclasses.replace(trained, problem=problem)

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


def _fsync_directory(directory: Path) -> None:
    """Make the renames in ``directory`` durable (a power cut keeps the new JSON)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
