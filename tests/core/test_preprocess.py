import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage as ndi

from mnist_viz.core.errors import BlankImageError, ImageError
from mnist_viz.core.preprocess import preprocess, to_mnist


def canvas(draw) -> np.ndarray:
    """A 280x280 RGBA canvas as streamlit-drawable-canvas returns it: opaque black, white ink."""
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[..., 3] = 255
    draw(rgba[..., :3])
    return rgba


def ring(size=280, centre=(140, 140), radius=90, width=18) -> np.ndarray:
    """A white '0' on black (float in [0, 1])."""
    yy, xx = np.mgrid[:size, :size]
    dist = np.hypot(yy - centre[0], (xx - centre[1]) * 1.4)
    return (np.abs(dist - radius) < width / 2).astype(np.float64)


def png_bytes(img: Image.Image, **kwargs) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=kwargs.pop("format", "PNG"), **kwargs)
    return buf.getvalue()


def correlation(a, b) -> float:
    """Likeness of two images, tolerant of the 1-px shifts that rounding makes in thin strokes."""
    a, b = ndi.gaussian_filter(a, 1.0), ndi.gaussian_filter(b, 1.0)
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def test_small_digit_in_a_corner_is_centred_like_mnist():
    def small_zero_top_left(rgb):
        rgb[ring(centre=(40, 40), radius=22, width=8) > 0] = 255

    out = to_mnist(canvas(small_zero_top_left))
    assert out.shape == (28, 28) and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() == pytest.approx(1.0)
    rows, cols = np.nonzero(out > 0)
    assert rows.min() >= 4 and rows.max() < 24 and cols.min() >= 4 and cols.max() < 24
    com = ndi.center_of_mass(out)  # an independent implementation
    assert abs(com[0] - 14) <= 1 and abs(com[1] - 14) <= 1


def test_fit_keeps_aspect_ratio_in_a_20_pixel_box():
    def tall_bar(rgb):
        rgb[50:250, 120:160] = 255  # 200 x 40

    stages = preprocess(canvas(tall_bar))
    assert stages.ink_crop.shape == (200, 40)
    assert stages.fit.shape == (20, 4)
    assert stages.raw.shape == (280, 280) and not stages.inverted


def test_canvas_colour_is_read_not_its_alpha():
    # Opaque everywhere: reading alpha would see a full square, reading colour sees the ring.
    out = to_mnist(canvas(lambda rgb: rgb.__setitem__(ring() > 0, 255)))
    assert out[14, 14] == 0.0  # the hole of the zero
    assert out.mean() < 0.35


def test_mnist_digit_drawn_big_off_centre_comes_back_as_the_same_digit():
    """Reference: an MNIST-like digit scaled up and moved must preprocess back to itself."""
    original = to_mnist(ring(28, (14, 14), 7, 2.2))
    big = np.zeros((280, 280))
    digit = np.asarray(Image.fromarray(original).resize((168, 168), Image.Resampling.BILINEAR))
    big[100:268, 10:178] = digit
    assert correlation(to_mnist(big), original) > 0.9


def test_dark_ink_on_paper_is_inverted():
    white_on_black = to_mnist(ring())
    stages = preprocess(((1 - ring()) * 255).astype(np.uint8))
    assert stages.inverted
    assert correlation(stages.centred, white_on_black) > 0.95


def test_photo_with_uneven_light_and_noise_matches_the_clean_digit():
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:600, :800]
    paper = 0.55 + 0.35 * xx / 800 + 0.05 * yy / 600  # a shadow across the page
    ink = ring(800, (300, 400), 200, 30)[:600]
    photo = paper * (1 - 0.75 * ink) + rng.normal(0, 0.03, paper.shape)
    rgb = np.repeat(np.clip(photo * 255, 0, 255).astype(np.uint8)[..., None], 3, axis=2)
    stages = preprocess(png_bytes(Image.fromarray(rgb), format="JPEG", quality=85))
    assert stages.inverted
    clean = to_mnist(ring(800, (300, 400), 200, 30)[:600])
    assert correlation(stages.centred, clean) > 0.9


def test_thin_pen_strokes_are_thickened_towards_mnist_width():
    thin = ring(400, (200, 200), 150, 3)  # a hairline zero
    stages = preprocess(thin)
    assert stages.thickened
    # A horizontal cut through the middle of the result crosses each side of the zero with a
    # stroke at least 1.5 px wide, like MNIST's (median ~2.8 px).
    assert (stages.centred[14] > 0.5).sum() >= 3
    assert not preprocess(ring(width=36)).thickened  # 36 px on a 200-px digit: MNIST-like


def test_transparent_png_with_dark_ink_is_composited_on_paper():
    rgba = np.zeros((200, 200, 4), np.uint8)
    rgba[..., 3] = (ring(200, (100, 100), 60, 14) * 255).astype(np.uint8)  # black ink, alpha shape
    stages = preprocess(png_bytes(Image.fromarray(rgba, "RGBA")))
    assert stages.inverted
    assert correlation(stages.centred, to_mnist(ring(200, (100, 100), 60, 14))) > 0.95


def test_transparent_png_with_light_ink_is_composited_on_black():
    rgba = np.zeros((200, 200, 4), np.uint8)
    rgba[..., :3] = 255
    rgba[..., 3] = (ring(200, (100, 100), 60, 14) * 255).astype(np.uint8)
    stages = preprocess(Image.fromarray(rgba, "RGBA"))
    assert not stages.inverted
    assert correlation(stages.centred, to_mnist(ring(200, (100, 100), 60, 14))) > 0.95


def _vertical_bar() -> np.ndarray:
    img = np.zeros((200, 200), np.uint8)
    img[20:180, 90:110] = 255
    return img


def test_exif_orientation_is_applied():
    # Stored sideways (a horizontal bar) with EXIF "rotate 90 CW to display" (orientation 6).
    stored = Image.fromarray(np.rot90(_vertical_bar(), 1).copy())
    exif = Image.Exif()
    exif[0x0112] = 6
    stages = preprocess(png_bytes(stored, format="JPEG", exif=exif))
    height, width = stages.ink_crop.shape
    assert height > 3 * width  # upright again


def test_sixteen_bit_images_are_scaled_not_clipped():
    grey = np.full((200, 200), 12000, np.uint16)  # dark grey background
    grey[_vertical_bar() > 0] = 60000  # bright ink
    data = png_bytes(Image.fromarray(grey))
    assert Image.open(io.BytesIO(data)).mode.startswith("I")
    stages = preprocess(data)
    assert stages.ink_crop.shape[0] > 3 * stages.ink_crop.shape[1]
    assert preprocess(grey).ink_crop.shape == stages.ink_crop.shape  # the raw uint16 array too


def test_animated_gif_uses_its_first_frame():
    first = Image.fromarray(_vertical_bar())
    second = Image.fromarray(np.rot90(_vertical_bar()).copy())
    buf = io.BytesIO()
    first.save(buf, format="GIF", save_all=True, append_images=[second], duration=100, loop=0)
    stages = preprocess(buf.getvalue())
    assert stages.ink_crop.shape[0] > 3 * stages.ink_crop.shape[1]


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "BMP", "GIF", "WEBP"])
def test_upload_formats(fmt):
    img = Image.fromarray(((1 - ring()) * 255).astype(np.uint8)).convert("RGB")
    out = to_mnist(png_bytes(img, format=fmt))
    assert correlation(out, to_mnist(ring())) > 0.9


@pytest.mark.parametrize(
    "blank",
    [
        np.zeros((280, 280, 4), np.uint8) + np.array([0, 0, 0, 255], np.uint8),  # empty canvas
        np.full((300, 300, 3), 255, np.uint8),  # white paper
        np.clip(np.random.default_rng(0).normal(200, 3, (300, 300)), 0, 255).astype(np.uint8),
        np.zeros((280, 280, 4), np.uint8),  # fully transparent
    ],
    ids=["empty-canvas", "white-paper", "noisy-paper", "transparent"],
)
def test_blank_inputs_raise_a_blank_error(blank):
    with pytest.raises(BlankImageError):
        to_mnist(blank)


def test_a_speck_is_near_blank():
    c = canvas(lambda rgb: rgb.__setitem__((slice(100, 102), slice(100, 102)), 255))
    with pytest.raises(BlankImageError):
        to_mnist(c)


def _png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 10))


def _noisy_png() -> bytes:
    noise = np.random.default_rng(0).integers(0, 256, (200, 200), dtype=np.uint8)
    return png_bytes(Image.fromarray(noise))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"%PDF-1.4 definitely not an image", "not an image"),
        (_noisy_png()[:5000], "damaged or truncated"),
        (_png_header_only(8000, 8000), "8000 x 8000 pixels.*above 50 megapixels"),
        (_png_header_only(200000, 200000), "far too large"),
    ],
    ids=["empty", "pdf", "truncated-png", "50mp-plus", "decompression-bomb"],
)
def test_bad_files_raise_a_clear_image_error(data, message):
    with pytest.raises(ImageError, match=message):
        to_mnist(data)


@pytest.mark.parametrize(
    "value",
    ["a string", np.zeros((28, 28, 2), np.uint8), np.zeros((0, 5)), np.zeros((4, 4), np.complex64)],
)
def test_unsupported_inputs_raise_an_image_error(value):
    with pytest.raises(ImageError):
        to_mnist(value)


def test_big_photo_is_shrunk_first():
    big = np.full((3000, 4000), 230, np.uint8)
    big[500:2500, 1900:2100] = 20
    stages = preprocess(png_bytes(Image.fromarray(big), format="JPEG"))
    assert max(stages.raw.shape) <= 400
    assert stages.fit.shape[0] == 20


def test_mnist_image_passes_through_nearly_unchanged(official_mnist_path):
    from mnist_viz.core.data import load_mnist

    digits = load_mnist(official_mnist_path).x_test[:200]
    scores = [correlation(to_mnist(d), d / 255.0) for d in digits]
    assert np.median(scores) > 0.9
