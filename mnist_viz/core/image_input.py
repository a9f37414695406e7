"""Read any image input as grey levels in [0, 1], safely: bounded memory and time, one error type.

Inputs: image file bytes (PNG, JPEG, BMP, GIF, WebP, TIFF, PSD: the formats the upload offers),
PIL images, and numpy arrays (grey, grey + alpha, RGB, RGBA; bool, any integer or float type).

The rules, each learnt from a bad-input corpus (``tests/core/test_bad_inputs.py``) or a measured fault
(``tests/core/test_upload_memory.py``):
- Nothing is decoded before its memory is known, from the header alone, to fit
  ``MAX_DECODE_BYTES``: width x height x bands x bytes, colour conversion included, and for a
  progressive JPEG the decoder's buffer of every DCT coefficient of the whole image (2 bytes per
  coefficient, whatever scale it is decoded at). Baseline JPEGs are decoded at a reduced scale
  (up to 8x smaller), so big phone photos fit.
- An EXIF rotation is applied to the shrunk result, never by copying the full-size image.
- At most ``MAX_LARGE_DECODES`` large decodes run at once in a process; another one waits a
  moment, then gets ``ImageBusyError`` ("busy, try again") instead of piling up memory.
- Whatever a decoder raises on a malformed file (Pillow's parsers raise ValueError, TypeError,
  struct.error, NotImplementedError, ...) becomes one ``ImageError`` with a sentence a learner can
  act on; so does a closed or truncated PIL image, or an odd colour mode.
- Big images are shrunk to ``WORK_SIZE`` by averaging blocks, a band of rows at a time, so a
  5000 x 5000 RGBA array costs megabytes, not gigabytes. Transparency is averaged
  premultiplied, so compositing after shrinking gives the same result as before.
- Floats are read robustly: NaN and infinite pixels count as background, a little above 1 (from
  resampling) is still the 0-1 scale, and only a maximum above 2 means 0-255.
"""

from __future__ import annotations

import contextlib
import io
import math
import threading
import warnings
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from mnist_viz.core.errors import BlankImageError, ImageBusyError, ImageError

WORK_SIZE = 400  # the longer side everything is shrunk to; plenty for a 20-px result
MAX_PIXELS = 50_000_000  # larger images are refused from their header (decompression bombs)
MAX_DECODE_BYTES = 128 * 2**20  # what a full-size decode and its colour conversion may hold
MAX_FILE_BYTES = 25 * 2**20  # a photo of one digit is far smaller
BAND_BYTES = 16 * 2**20  # rows are shrunk in bands of about this many bytes (as float32)
FLOAT_255_SCALE = 2.0  # a float image whose largest finite value is above this is 0-255
# The file formats read: those the upload offers (PNG, JPEG, BMP, GIF, WebP, TIFF, PSD; MPO is
# how some phones label their JPEGs). Pillow knows dozens more, some decoded pixel by pixel in
# Python (a mutated 200 x 280 DDS file took 0.3 s, a megapixel one would take seconds), and none
# of them is how anyone sends a picture of a digit.
FORMATS = {"PNG", "JPEG", "MPO", "BMP", "GIF", "WEBP", "TIFF", "PSD"}
FORMAT_NAMES = "PNG, JPEG, BMP, GIF, WebP, TIFF or PSD"
# Bytes per pixel held at full size while an image of this mode is read here: Pillow's own
# storage (1 byte for 1/L/P, 2 for I;16, 4 for every other mode) plus the copies a conversion
# makes (P to RGB, or with transparency to RGBA and premultiplied RGBa; alpha to premultiplied;
# CMYK/LAB to RGB; 16-bit to an array).
_WORKING_BYTES = {"L": 1, "1": 2, "P": 5, "RGB": 4, "I;16": 4, "LAB": 5}
_TRANSPARENT_PALETTE_BYTES = 9
_OTHER_WORKING_BYTES = 8
_COEFFICIENT_BYTES = 2  # libjpeg keeps a progressive JPEG's DCT coefficients as 16-bit values
# Decodes of more than this many bytes take one of MAX_LARGE_DECODES places (a canvas drawing or
# a phone photo needs far less than the limit; 20 students sending one big file at once needed
# 7.5 GB without it). A decode waits up to BUSY_WAIT_SECONDS for a place.
LARGE_DECODE_BYTES = 16 * 2**20
MAX_LARGE_DECODES = 2
BUSY_WAIT_SECONDS = 3.0
_LARGE_DECODES = threading.BoundedSemaphore(MAX_LARGE_DECODES)
# EXIF orientation -> how to turn the decoded (rows, columns) array upright.
_ORIENT = {
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1, :],
    5: lambda a: a.T,
    6: lambda a: np.rot90(a, -1),
    7: lambda a: np.rot90(a, 2).T,
    8: lambda a: np.rot90(a, 1),
}


def read_grey(image: Any) -> np.ndarray:
    """``image`` as float32 grey levels in [0, 1], transparency flattened onto a background that
    contrasts with the ink, at most ``WORK_SIZE`` pixels on its longer side.

    Raises ``BlankImageError`` for a fully transparent image, ``ImageBusyError`` when too many
    large images are being read at once, and ``ImageError`` for anything that cannot be read as
    an image.
    """
    if isinstance(image, bytes | bytearray | memoryview):
        img, need = _open_checked(bytes(image))
        return _from_pil(img, from_file=True, need=need)
    if isinstance(image, Image.Image):
        return _from_pil(image, from_file=False)
    if isinstance(image, np.ndarray):
        return _from_array(np.asarray(image))  # np.matrix and other subclasses become plain
    raise ImageError(f"cannot read a {type(image).__name__} as an image")


def check_canvas_png(data: bytes, max_side: int) -> bytes:
    """``data`` if it is a PNG of at most ``max_side`` pixels a side, as the drawing pad sends;
    ``ImageError`` otherwise. The pad's picture arrives over the websocket, past the uploader's
    type filter: it is held to what a canvas can send before anything else reads it."""
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise ImageError("the drawing is not a PNG picture")
    img, _ = _open_checked(data)
    if max(img.size) > max_side:
        raise ImageError(f"the drawing is {img.size[0]} x {img.size[1]} pixels, not a canvas's")
    return data


# -- files and PIL images --------------------------------------------------------------------


def _open_checked(data: bytes) -> tuple[Image.Image, int]:
    """The image in ``data``, opened from its header and checked, not yet decoded, and the bytes
    its decode will take."""
    if not data:
        raise ImageError("the file is empty")
    if len(data) > MAX_FILE_BYTES:
        raise ImageError(
            f"the file is {len(data) / 2**20:.0f} MB; a photo of one digit needs far less "
            f"(at most {MAX_FILE_BYTES // 2**20} MB)"
        )
    try:
        with _decoder_warnings():
            img = Image.open(io.BytesIO(data))  # reads the header only
            if img.format not in FORMATS:
                raise ImageError(
                    f"{img.format} images are not supported: please send a {FORMAT_NAMES} file"
                )
            _check_size(img)
            full_size = img.size
            coefficients = _coefficient_bytes(img)  # before draft, from the full-size header
            img.draft("RGB", (WORK_SIZE, WORK_SIZE))  # baseline JPEG: decode at reduced size
            need = _check_budget(img, coefficients, full_size)
    except ImageError:
        raise
    except UnidentifiedImageError:
        raise ImageError(f"this file is not an image ({FORMAT_NAMES})") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(
            f"the image is far too large; images above {MAX_PIXELS // 1_000_000} megapixels "
            "are refused"
        ) from None
    except Exception as exc:  # Pillow's format parsers raise many kinds on malformed files
        raise ImageError(f"the image file is damaged or truncated ({_reason(exc)})") from None
    return img, need


@contextlib.contextmanager
def _decoder_warnings():
    """A decompression bomb is an error; Pillow's other warnings about odd files (skipped TIFF
    tags, corrupt EXIF) are noise in the server's log: the file is judged on what it yields."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        yield


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."


def _check_size(img: Image.Image) -> None:
    width, height = img.size
    if width <= 0 or height <= 0:
        raise ImageError("the image has no pixels")
    if width * height > MAX_PIXELS:
        raise ImageError(
            f"the image is {width} x {height} pixels; images above {MAX_PIXELS // 1_000_000} "
            "megapixels are refused"
        )


def _coefficient_bytes(img: Image.Image) -> int:
    """What a progressive JPEG's decoder buffers (every DCT coefficient of the full image), 0 for
    any other image."""
    if img.format not in ("JPEG", "MPO") or not (
        img.info.get("progressive") or img.info.get("progression")
    ):
        return 0
    width, height = img.size
    return width * height * len(img.getbands()) * _COEFFICIENT_BYTES


def working_bytes(img: Image.Image, coefficients: int = 0) -> int:
    """The memory reading ``img`` takes here at most, from its header: its decoded pixels at the
    size it will be decoded at, the colour conversions, and a progressive JPEG's coefficients."""
    width, height = img.size
    mode = "I;16" if img.mode.startswith("I;16") else img.mode
    if mode in ("P", "PA") and ("transparency" in img.info or mode == "PA"):
        per_pixel = _TRANSPARENT_PALETTE_BYTES
    else:
        per_pixel = _WORKING_BYTES.get(mode, _OTHER_WORKING_BYTES)
    return width * height * per_pixel + coefficients


def _check_budget(
    img: Image.Image, coefficients: int = 0, full_size: tuple[int, int] | None = None
) -> int:
    """Refuse an image whose decode (or colour conversion) would not fit the budget; returns the
    bytes it needs. ``full_size``: the size the header gives, before a reduced-scale decode."""
    need = working_bytes(img, coefficients)
    if need > MAX_DECODE_BYTES:
        width, height = full_size or img.size
        kind = " (a progressive JPEG)" if coefficients else ""
        raise ImageError(
            f"the image is {width} x {height} pixels{kind} and would take {need / 2**20:.0f} MB "
            "to read, too much here; please send a smaller photo (a few megapixels is plenty "
            "for one digit)"
        )
    return need


@contextlib.contextmanager
def _decode_place(need: int):
    """Hold one of ``MAX_LARGE_DECODES`` places while a large image is decoded (small ones need
    none); ``ImageBusyError`` when none frees up within ``BUSY_WAIT_SECONDS``."""
    if need <= LARGE_DECODE_BYTES:
        yield
        return
    if not _LARGE_DECODES.acquire(timeout=BUSY_WAIT_SECONDS):
        raise ImageBusyError(
            "the server is reading other large pictures right now; try again in a few seconds"
        )
    try:
        yield
    finally:
        _LARGE_DECODES.release()


def _orientation(img: Image.Image) -> int:
    """The EXIF orientation (1-8; 1 is upright). A broken EXIF block is no reason to refuse."""
    try:
        with _decoder_warnings():
            value = img.getexif().get(0x0112, 1)
    except Exception:
        return 1
    return value if value in _ORIENT else 1


def _from_pil(img: Image.Image, from_file: bool, need: int | None = None) -> np.ndarray:
    _check_size(img)  # from the header: before a lazily opened image is decoded
    need = need if need is not None else _check_budget(img)
    with _decode_place(need):
        try:
            with _decoder_warnings():
                img.load()
        except MemoryError:
            raise ImageError("the image is too large to read") from None
        except Exception as exc:  # closed, truncated, or a malformed file behind a PIL image
            what = (
                "the image file is damaged or truncated"
                if from_file
                else "the image could not be read"
            )
            raise ImageError(f"{what} ({_reason(exc)})") from None
        orientation = _orientation(img)  # phone photos store their rotation in EXIF
        grey = _shrunk_grey(img)
    # Rotated once it is small: rotating the full-size image would hold a second copy of it.
    return np.ascontiguousarray(_ORIENT[orientation](grey)) if orientation != 1 else grey


def _shrunk_grey(img: Image.Image) -> np.ndarray:
    """A decoded image as grey levels at most ``WORK_SIZE`` on a side (see ``read_grey``)."""
    try:
        img = _normalise_mode(img)
    except ImageError:
        raise
    except Exception as exc:
        raise ImageError(f"the image's colours could not be read ({_reason(exc)})") from None
    if img.mode in ("I;16", "I", "F"):
        return _from_array(_numeric_array(img))
    if img.mode in ("LA", "RGBA"):
        # Shrink premultiplied, so averaging transparent pixels cannot bleed their hidden colour.
        premultiplied = img.convert("La" if img.mode == "LA" else "RGBa")
        del img  # the premultiplied copy is all that is needed now
        premultiplied.thumbnail((WORK_SIZE, WORK_SIZE), Image.Resampling.BOX)
        arr = np.asarray(premultiplied, dtype=np.float32) / 255.0
        alpha = arr[..., -1]
        covered = _luminance(arr[..., :3]) if arr.shape[-1] == 4 else arr[..., 0]
        return _composite(covered, alpha)
    img.thumbnail((WORK_SIZE, WORK_SIZE), Image.Resampling.BOX)
    return np.asarray(img.convert("L"), dtype=np.float32) / 255.0


def _normalise_mode(img: Image.Image) -> Image.Image:
    """One of L, LA, RGB, RGBA or a numeric mode (I;16, I, F), from whatever the file holds."""
    mode = img.mode
    if mode in ("L", "LA", "RGB", "RGBA", "I", "F"):
        return img
    if mode.startswith("I;16"):
        return img if mode == "I;16" else img.convert("I")
    if mode == "1":
        return img.convert("L")
    if mode == "La":
        return img.convert("LA")
    if mode == "RGBa":
        return img.convert("RGBA")
    if mode in ("P", "PA"):
        return img.convert("RGBA" if "transparency" in img.info or mode == "PA" else "RGB")
    if mode == "LAB":
        return img.getchannel("L")  # lightness is the grey level
    if mode in ("CMYK", "YCbCr", "HSV", "RGBX"):
        return img.convert("RGB")
    raise ImageError(f"images with {mode} colours are not supported")


def _numeric_array(img: Image.Image) -> np.ndarray:
    """A 16- or 32-bit image as an array whose type says how to scale it (see _scale_of)."""
    arr = np.asarray(img)
    if img.mode.startswith("I;16"):
        return arr.astype(np.uint16, copy=False)
    return arr  # int32 ("I") or float32 ("F")


# -- arrays ----------------------------------------------------------------------------------


def _from_array(arr: np.ndarray) -> np.ndarray:
    if arr.size == 0:
        raise ImageError("the image has no pixels")
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (2, 3, 4)):
        raise ImageError(f"unsupported image array shape {arr.shape}")
    if arr.shape[0] * arr.shape[1] > MAX_PIXELS:
        raise ImageError(
            f"the image is {arr.shape[1]} x {arr.shape[0]} pixels; images above "
            f"{MAX_PIXELS // 1_000_000} megapixels are refused"
        )
    scale = _scale_of(arr)
    factor = max(1, math.ceil(max(arr.shape[:2]) / WORK_SIZE))
    channels = 1 if arr.ndim == 2 else arr.shape[2]
    alpha = channels in (2, 4)
    # Block-averaged planes: luminance x alpha ("covered"), and alpha.
    rows = max(factor, BAND_BYTES // max(1, arr.shape[1] * channels * 4) // factor * factor)
    covered_bands, alpha_bands = [], []
    for top in range(0, arr.shape[0], rows):
        band = _to_unit(arr[top : top + rows], scale)
        if band.ndim == 2:
            lum, a = band, None
        else:
            lum = band[..., 0] if channels == 2 else _luminance(band[..., :3])
            a = band[..., -1] if alpha else None
        covered_bands.append(_block_mean(lum * a if a is not None else lum, factor))
        if a is not None:
            alpha_bands.append(_block_mean(a, factor))
    covered = np.concatenate(covered_bands)
    if not alpha:
        return covered
    return _composite(covered, np.concatenate(alpha_bands))


def _scale_of(arr: np.ndarray) -> float:
    """What full intensity is in this array's units."""
    if arr.dtype == bool:
        return 1.0
    if arr.dtype == np.uint8:
        return 255.0
    if arr.dtype == np.uint16:
        return 65535.0
    if np.issubdtype(arr.dtype, np.integer):
        top = int(arr.max())
        return 255.0 if top <= 255 else 65535.0 if top <= 65535 else float(top)
    if np.issubdtype(arr.dtype, np.floating):
        # Resampling overshoots 1.0 a little; a real 0-255 image goes far above 2.
        return 255.0 if _finite_max(arr) > FLOAT_255_SCALE else 1.0
    raise ImageError(f"unsupported pixel type {arr.dtype}")


def _finite_max(arr: np.ndarray) -> float:
    """The largest finite value (0 if none), a band of rows at a time (no full-size copy)."""
    rows = max(1, BAND_BYTES // max(1, arr[0].size * 4))
    top = 0.0
    for start in range(0, arr.shape[0], rows):
        band = arr[start : start + rows]
        finite = band[np.isfinite(band)]
        if finite.size:
            top = max(top, float(finite.max()))
    return top


def _to_unit(band: np.ndarray, scale: float) -> np.ndarray:
    """float32 in [0, 1]; NaN and infinite pixels count as background (0)."""
    out = band.astype(np.float32)
    if np.issubdtype(band.dtype, np.floating):
        out[~np.isfinite(out)] = 0.0
    if scale != 1.0:
        out /= np.float32(scale)
    return np.clip(out, 0.0, 1.0, out=out)


def _block_mean(plane: np.ndarray, factor: int) -> np.ndarray:
    """Average ``factor`` x ``factor`` blocks (the last partial block repeats its edge)."""
    if factor == 1:
        return plane
    h, w = plane.shape
    padded = np.pad(plane, ((0, -h % factor), (0, -w % factor)), mode="edge")
    return padded.reshape(padded.shape[0] // factor, factor, -1, factor).mean(axis=(1, 3))


def _luminance(rgb: np.ndarray) -> np.ndarray:
    # ITU-R 601 weights, the same as PIL's convert("L").
    return rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114


def _composite(covered: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Flatten transparency onto a background that contrasts with the visible ink.

    ``covered`` is luminance x alpha (premultiplied). The canvas is opaque (alpha 1 everywhere,
    white ink on black), so its colour is read as is. A transparent PNG with dark ink goes onto
    white paper; one with light ink onto black.
    """
    if alpha.min() >= 0.999:
        return covered.astype(np.float32)
    total = float(alpha.sum())
    if total <= 0:
        raise BlankImageError("the image is fully transparent")
    ink_level = float(covered.sum()) / total
    background = 1.0 if ink_level < 0.5 else 0.0
    return (covered + background * (1.0 - alpha)).astype(np.float32)
