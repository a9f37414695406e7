"""A corpus of good, odd and broken inputs for ``to_mnist``, generated here (no binaries in git).

Every input must end in a digit or in one of the project's two errors, with one of the sentences
below, never another exception; memory stays bounded; and the same digit written in any format
or colour mode comes back as the same digit. ``bench/bad_inputs.py`` runs a much larger mutation
corpus and reports the slowest and hungriest inputs.
"""

from __future__ import annotations

import io
import re
import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from mnist_viz.core.errors import BlankImageError, ImageError
from mnist_viz.core.preprocess import to_mnist

# What a learner may be told: each error starts with one of these.
MESSAGES = re.compile(
    r"^(the file is empty|the file is \d+ MB|this file is not an image|"
    r"the image is far too large|the image is \d+ x \d+ pixels|the image is too large to read|"
    r"the image file is damaged or truncated|the image could not be read|"
    r"the image's colours could not be read|images with \S+ colours are not supported|"
    r"the image has no pixels|unsupported image array shape|unsupported pixel type|"
    r"cannot read a \w+ as an image|no ink found|almost no ink found|"
    r"the image is fully transparent|\w+ images are not supported)"
)
MAX_EXTRA_MB = 200


def seven(size=(200, 280), ink=0, paper=255, width=18) -> Image.Image:
    """A handwritten-looking 7, dark ink on light paper by default."""
    img = Image.new("L", size, paper)
    w, h = size
    ImageDraw.Draw(img).line(
        [(0.25 * w, 0.15 * h), (0.8 * w, 0.15 * h), (0.4 * w, 0.9 * h)], fill=ink, width=width
    )
    return img


REFERENCE = None


def reference() -> np.ndarray:
    global REFERENCE
    if REFERENCE is None:
        REFERENCE = to_mnist(np.asarray(seven()))
    return REFERENCE


def likeness(a: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel(), reference().ravel())[0, 1])


def outcome(value) -> str:
    """'digit', 'blank' or 'error', checking the result or the message on the way."""
    try:
        out = to_mnist(value)
    except BlankImageError as exc:
        assert MESSAGES.match(str(exc)), str(exc)
        return "blank"
    except ImageError as exc:
        assert MESSAGES.match(str(exc)), str(exc)
        return "error"
    assert out.shape == (28, 28) and out.dtype == np.float32
    assert np.isfinite(out).all() and out.min() >= 0 and out.max() <= 1
    return "digit"


def encoded(img: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # Linux: the peak resident size starts again from now


# -- the same digit in every format and colour mode ------------------------------------------


def _modes() -> dict[str, Image.Image]:
    grey = seven()
    rgb = grey.convert("RGB")
    alpha = Image.merge("LA", [Image.new("L", grey.size, 0), grey.point(lambda v: 255 - v)])
    return {
        "L": grey,
        "1": grey.convert("1"),
        "P": rgb.convert("P"),
        "P-transparency": grey.convert("P"),
        "RGB": rgb,
        "RGBA": rgb.convert("RGBA"),
        "LA-transparent-ink": alpha,
        "La": alpha.convert("La"),
        "RGBa": alpha.convert("RGBA").convert("RGBa"),
        "CMYK": rgb.convert("CMYK"),
        "YCbCr": rgb.convert("YCbCr"),
        "HSV": rgb.convert("HSV"),
        "LAB": Image.merge(
            "LAB", [grey, Image.new("L", grey.size, 128), Image.new("L", grey.size, 128)]
        ),
        "I": grey.convert("I"),
        "I;16": Image.fromarray(np.asarray(grey).astype(np.uint16) * 257),
        "F": grey.convert("F"),
    }


@pytest.mark.parametrize("mode", list(_modes()))
def test_every_colour_mode_reads_as_the_same_digit(mode):
    img = _modes()[mode]
    if mode == "P-transparency":
        img.info["transparency"] = 255  # the paper is see-through
    assert outcome(img) == "digit"
    assert likeness(to_mnist(img)) > 0.9


FILES = {
    "png-L": lambda: encoded(seven(), "PNG"),
    "png-16bit": lambda: encoded(
        Image.fromarray(np.asarray(seven()).astype(np.uint16) * 257), "PNG"
    ),
    "png-palette-transparent": lambda: encoded(seven().convert("P"), "PNG", transparency=255),
    "png-interlaced": lambda: encoded(seven().convert("RGB"), "PNG", optimize=True),
    "jpeg": lambda: encoded(seven().convert("RGB"), "JPEG", quality=85),
    "jpeg-progressive": lambda: encoded(seven().convert("RGB"), "JPEG", progressive=True),
    "jpeg-cmyk": lambda: encoded(seven().convert("CMYK"), "JPEG"),
    "jpeg-grey": lambda: encoded(seven(), "JPEG"),
    "bmp": lambda: encoded(seven().convert("RGB"), "BMP"),
    "bmp-1bit": lambda: encoded(seven().convert("1"), "BMP"),
    "gif": lambda: encoded(seven(), "GIF"),
    "webp-lossy": lambda: encoded(seven().convert("RGB"), "WEBP", quality=80),
    "webp-lossless-rgba": lambda: encoded(seven().convert("RGBA"), "WEBP", lossless=True),
    "tiff-raw": lambda: encoded(seven(), "TIFF"),
    "tiff-lzw": lambda: encoded(seven().convert("RGB"), "TIFF", compression="tiff_lzw"),
    "tiff-deflate-16bit": lambda: encoded(
        Image.fromarray(np.asarray(seven()).astype(np.uint16) * 257),
        "TIFF",
        compression="tiff_adobe_deflate",
    ),
    "tiff-float": lambda: encoded(seven().convert("F"), "TIFF"),
    "tiff-cmyk": lambda: encoded(seven().convert("CMYK"), "TIFF"),
    "psd-grey": lambda: psd(np.asarray(seven())),
    "psd-rgb": lambda: psd(np.stack([np.asarray(seven())] * 3)),
    "psd-rgb-rle": lambda: psd(np.stack([np.asarray(seven())] * 3), rle=True),
}


def psd(channels: np.ndarray, rle: bool = False) -> bytes:
    """A minimal Photoshop file (no layers): header, empty sections, planar 8-bit image data."""
    if channels.ndim == 2:
        channels = channels[None]
    n, h, w = channels.shape
    header = b"8BPS" + struct.pack(">H6xHIIHH", 1, n, h, w, 8, 1 if n == 1 else 3)
    empty = struct.pack(">I", 0) * 3  # colour mode data, image resources, layers and masks
    if not rle:
        return header + empty + struct.pack(">H", 0) + channels.astype(np.uint8).tobytes()
    rows, counts = [], []
    for row in channels.reshape(n * h, w).astype(np.uint8):
        packed = b"".join(  # PackBits: literal runs of up to 128 bytes
            bytes([len(chunk) - 1]) + chunk.tobytes()
            for chunk in (row[i : i + 128] for i in range(0, w, 128))
        )
        rows.append(packed)
        counts.append(len(packed))
    return (
        header
        + empty
        + struct.pack(">H", 1)
        + struct.pack(f">{len(counts)}H", *counts)
        + b"".join(rows)
    )


@pytest.mark.parametrize("kind", list(FILES))
def test_every_file_format_reads_as_the_same_digit(kind):
    data = FILES[kind]()
    assert outcome(data) == "digit"
    assert likeness(to_mnist(data)) > 0.85


# -- arrays ---------------------------------------------------------------------------------


def _matrix(values: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():  # numpy discourages np.matrix; people still pass one
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        return np.matrix(values)


def _arrays() -> dict[str, np.ndarray]:
    dark_on_light = np.asarray(seven())
    light = 255 - dark_on_light
    unit = light / 255.0
    nan = unit.copy()
    nan[::7, ::5] = np.nan
    inf = unit.copy()
    inf[3, 3], inf[4, 4] = np.inf, -np.inf
    rgba = np.dstack([np.stack([light] * 3, -1), np.full(light.shape, 255, np.uint8)])
    return {
        "uint8": dark_on_light,
        "uint16": light.astype(np.uint16) * 257,
        "int32-0-255": light.astype(np.int32),
        "int64-0-65535": light.astype(np.int64) * 257,
        "float64-unit": unit,
        "float32-0-255": light.astype(np.float32),
        "float-slightly-above-1": unit * 1.02,
        "float-negative-background": unit - 0.05,
        "float-nan": nan,
        "float-inf": inf,
        "bool": light > 127,
        "matrix": _matrix(dark_on_light),
        "fortran-order": np.asfortranarray(dark_on_light),
        "strided-view": np.repeat(dark_on_light, 2, axis=1)[:, ::2],
        "grey+alpha": np.dstack([light, np.full(light.shape, 255, np.uint8)]),
        "rgb": np.stack([dark_on_light] * 3, -1),
        "rgba-canvas": rgba,
        "one-channel-axis": dark_on_light[..., None],
    }


@pytest.mark.parametrize("kind", list(_arrays()))
def test_every_array_type_reads_as_the_same_digit(kind):
    value = _arrays()[kind]
    assert outcome(value) == "digit"
    assert likeness(to_mnist(value)) > 0.9


def test_a_one_pixel_pencil_line_on_white_survives():
    # A thin grey stroke, drawn without anti-aliasing at a size that needs no shrinking: where it
    # runs diagonally its pixels touch only at their corners.
    paper = Image.new("L", (300, 390), 255)
    ImageDraw.Draw(paper).line([(70, 60), (230, 60), (110, 350)], fill=110, width=1)
    out = to_mnist(encoded(paper, "PNG"))
    assert likeness(out) > 0.7


# -- broken, hostile and odd inputs ----------------------------------------------------------


def tiff_with_strip_offsets_type(type_code: int) -> bytes:
    """A valid TIFF whose StripOffsets entry claims another value type."""
    data = bytearray(encoded(seven((40, 40)), "TIFF"))
    assert data[:2] == b"II"
    ifd = struct.unpack_from("<I", data, 4)[0]
    for i in range(struct.unpack_from("<H", data, ifd)[0]):
        entry = ifd + 2 + 12 * i
        if struct.unpack_from("<H", data, entry)[0] == 273:
            struct.pack_into("<H", data, entry + 2, type_code)
    return bytes(data)


def dds_with_pixel_format(fourcc: bytes) -> bytes:
    header = bytearray(128)
    header[:4] = b"DDS "
    struct.pack_into("<IIII", header, 4, 124, 0x1007, 64, 64)  # size, flags, height, width
    struct.pack_into("<II4s", header, 76, 32, 0x4, fourcc)  # pixel format: a FourCC
    return bytes(header) + bytes(64 * 64 * 4)


def png_header(width: int, height: int, bit_depth: int = 8, colour: int = 0) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))


def big_sixteen_bit_png() -> bytes:
    """A 7000 x 7000 16-bit grey PNG: ~100 KB on disk, 98 MB decoded."""
    row = b"\0" + bytes(7000 * 2)
    compressor = zlib.compressobj(9)
    body = b"".join(compressor.compress(row) for _ in range(7000)) + compressor.flush()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", 7000, 7000, 16, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def closed_image() -> Image.Image:
    img = seven().copy()
    img.close()
    return img


def lazily_opened_truncated() -> Image.Image:
    return Image.open(io.BytesIO(encoded(seven(), "PNG")[:-300]))


BROKEN = {
    "empty": (b"", "error"),
    "text": (b"just some notes about digits", "error"),
    "pdf": (b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n", "error"),
    "svg": (b'<svg xmlns="http://www.w3.org/2000/svg"><path d="M0 0L9 9"/></svg>', "error"),
    "zip": (b"PK\x03\x04" + bytes(60), "error"),
    "truncated-png": (encoded(seven(), "PNG")[:200], "error"),
    "truncated-jpeg": (encoded(seven().convert("RGB"), "JPEG")[:300], "error"),
    "png-bad-crc": (encoded(seven(), "PNG")[:-20] + b"\xff" * 20, "error"),
    "tiff-strip-offsets-rational": (tiff_with_strip_offsets_type(5), "error"),
    "tiff-strip-offsets-ascii": (tiff_with_strip_offsets_type(2), "error"),
    "tiff-strip-offsets-unknown-type": (tiff_with_strip_offsets_type(99), "error"),
    "dds-unknown-pixel-format": (dds_with_pixel_format(b"ZZZZ"), "error"),
    "dds": (encoded(seven().convert("RGBA"), "DDS"), "error"),  # not a format for photos
    "ico": (encoded(seven().convert("RGBA").resize((64, 64)), "ICO"), "error"),
    # readable by Pillow, but not what the upload offers (PNG, JPEG, BMP, GIF, WebP, TIFF, PSD)
    "tga": (encoded(seven().convert("RGB"), "TGA"), "error"),
    "ppm": (encoded(seven().convert("RGB"), "PPM"), "error"),
    "png-claims-50000x50000": (png_header(50000, 50000), "error"),
    "png-claims-8000x8000": (png_header(8000, 8000), "error"),
    "png-claims-0-width": (png_header(0, 10), "error"),
    "png-16bit-7000x7000": (big_sixteen_bit_png(), "error"),
    "gif-claims-65535x65535": (b"GIF89a" + struct.pack("<HH", 65535, 65535) + bytes(20), "error"),
    "psd-truncated": (psd(np.asarray(seven()))[:500], "error"),
    "closed-pil-image": (closed_image(), "error"),
    "lazily-opened-truncated-pil": (lazily_opened_truncated(), "error"),
    "white-paper": (encoded(Image.new("L", (300, 300), 255), "PNG"), "blank"),
    "black": (np.zeros((100, 100), np.uint8), "blank"),
    "all-nan": (np.full((50, 50), np.nan), "blank"),
    "transparent": (np.zeros((50, 50, 4), np.uint8), "blank"),
    "complex": (np.zeros((20, 20), np.complex64), "error"),
    "object": (np.array([[object()] * 3] * 3), "error"),
    "strings": (np.array([["a", "b"], ["c", "d"]]), "error"),
    "1-d": (np.zeros(784, np.uint8), "error"),
    "4-d": (np.zeros((2, 28, 28, 1), np.uint8), "error"),
    "5-channels": (np.zeros((28, 28, 5), np.uint8), "error"),
    "zero-size": (np.zeros((0, 28), np.uint8), "error"),
    "none": (None, "error"),
    "a-string": ("seven.png", "error"),
}


@pytest.mark.parametrize("kind", list(BROKEN))
def test_broken_and_odd_inputs_end_in_a_clear_error(kind):
    value, expected = BROKEN[kind]
    assert outcome(value) == expected


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("16-bit 7000x7000 png", big_sixteen_bit_png),
        ("rgba array 5000x5000", lambda: np.full((5000, 5000, 4), 255, np.uint8)),
        ("float64 array 4000x4000 with NaN", lambda: np.full((4000, 4000), np.nan)),
        (
            "rgb png 4000x3000",
            lambda: encoded(seven((4000, 3000), width=200).convert("RGB"), "PNG"),
        ),
        (
            "jpeg photo 8000x6000",
            lambda: encoded(seven((8000, 6000), width=300).convert("RGB"), "JPEG"),
        ),
    ],
)
def test_big_inputs_stay_within_the_memory_budget(kind, value):
    value = value()
    reset_peak()
    before = peak_rss_mb()
    outcome(value)
    assert peak_rss_mb() - before < MAX_EXTRA_MB, kind


def test_size_limits_are_checked_from_the_header_before_decoding():
    reset_peak()
    before = peak_rss_mb()
    with pytest.raises(ImageError, match=r"7000 x 7000 pixels and would take 187 MB to read"):
        to_mnist(big_sixteen_bit_png())
    assert peak_rss_mb() - before < 20  # nothing was decoded


# -- mutations ------------------------------------------------------------------------------


def mutate(data: bytes, rng: np.random.Generator) -> bytes:
    """One random corruption: flipped bytes, a cut, a deleted or a repeated block."""
    data = bytearray(data)
    kind = rng.integers(4)
    if kind == 0:
        for i in rng.integers(0, len(data), size=rng.integers(1, 16)):
            data[i] = rng.integers(256)
    elif kind == 1:
        del data[rng.integers(1, len(data)) :]
    elif kind == 2:
        start = rng.integers(len(data))
        del data[start : start + rng.integers(1, 64)]
    else:
        start = rng.integers(len(data))
        data[start:start] = data[start : start + rng.integers(1, 64)] * int(rng.integers(1, 50))
    return bytes(data)


MUTATION_SEEDS = [
    "png-L",
    "jpeg",
    "jpeg-progressive",
    "gif",
    "bmp",
    "webp-lossy",
    "tiff-lzw",
    "psd-rgb-rle",
]


@pytest.mark.parametrize("kind", MUTATION_SEEDS)
def test_mutated_files_end_in_a_digit_or_a_clear_error(kind):
    rng = np.random.default_rng(sum(map(ord, kind)))
    original = FILES[kind]()
    outcomes = [outcome(mutate(original, rng)) for _ in range(120)]
    assert "error" in outcomes  # the corpus does reach the decoders' error paths
