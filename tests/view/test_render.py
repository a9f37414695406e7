"""Pictures as arrays: colour maps, tiling, legends and the annotated pixel grid."""

import re

import matplotlib
import numpy as np
import pytest

from mnist_viz.view import render


def test_colourise_maps_the_ends_and_the_centre_of_a_diverging_map():
    cmap = matplotlib.colormaps[render.DIVERGING_CMAP]
    out = render.colourise(np.array([-2.0, 0.0, 2.0, 5.0]), render.DIVERGING_CMAP, -2.0, 2.0)
    expected = np.round(np.array([cmap(0.0), cmap(128 / 255), cmap(1.0), cmap(1.0)])[:, :3] * 255)
    np.testing.assert_array_equal(out, expected.astype(np.uint8))  # values beyond vmax clip
    assert out[1].min() > 230  # zero is (nearly) white: neither sign


def test_symmetric_limit_is_the_largest_magnitude():
    assert render.symmetric_limit(np.array([-0.7, 0.2])) == pytest.approx(0.7)
    assert render.symmetric_limit(np.zeros(3)) == 1.0  # no division by zero for dead filters


def test_tile_places_each_tile_in_row_major_order():
    tiles = np.stack([np.full((2, 3, 3), i * 10, np.uint8) for i in range(5)])
    grid = render.tile(tiles, columns=3, scale=2, gap=1)
    assert grid.shape == (2 * (4 + 1) + 1, 3 * (6 + 1) + 1, 3)
    for i in range(5):
        r, c = divmod(i, 3)
        y, x = 1 + r * 5, 1 + c * 7
        assert np.all(grid[y : y + 4, x : x + 6] == i * 10)
    assert np.all(grid[6:10, 15:21] == render.GRID_COLOUR)  # the empty sixth cell


def test_channel_grid_shares_one_scale_unless_asked_per_channel():
    maps = np.zeros((4, 4, 2), np.float32)
    maps[..., 0] = 1.0
    maps[..., 1] = 0.5
    shared = render.channel_grid(maps, columns=2, scale=1, cmap="gray")
    stretched = render.channel_grid(maps, columns=2, scale=1, cmap="gray", per_channel=True)
    assert shared[3, 3, 0] == 255 and shared[3, 9, 0] == 128  # 0.5 of the layer's maximum
    assert stretched[3, 9, 0] == 0  # a constant map stretched to its own range is flat


def test_kernel_grid_puts_zero_at_the_centre_colour():
    kernels = np.array([[[0.0, 1.0], [-1.0, 0.5]]])
    grid = render.kernel_grid(kernels, columns=1, scale=1)
    lut = render.colourise(np.array([-1.0, 0.0, 1.0]), render.DIVERGING_CMAP, -1, 1)
    assert np.array_equal(grid[2, 2], lut[1])
    assert np.array_equal(grid[2, 3], lut[2]) and np.array_equal(grid[3, 2], lut[0])


def _grid(html: str):
    """The grid image's SVG (decoded from its data address), parsed; and the img's alt."""
    import base64
    import xml.etree.ElementTree as ET

    src = re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', html).group(1)
    alt = re.search(r'alt="([^"]+)"', html).group(1)
    return ET.fromstring(base64.b64decode(src)), alt


def _squares_and_numbers(svg, pitch: int = 21):
    """{(row, col): grey} of the inked squares and {(row, col): (text, ink)} of the numbers."""
    ns = "{http://www.w3.org/2000/svg}"
    squares, numbers = {}, {}
    for rect in svg.iter(f"{ns}rect"):
        if rect.get("fill", "").startswith("#") and rect.get("width") == str(pitch - 1):
            x, y = int(rect.get("x")), int(rect.get("y"))
            if (x, y) != (1, 1) or rect.get("fill") != "#000":  # the blank squares' pattern
                squares[((y - 1) // pitch, (x - 1) // pitch)] = int(rect.get("fill")[1:3], 16)
    for text in svg.iter(f"{ns}text"):
        x, y = float(text.get("x")), float(text.get("y"))
        numbers[(int(y // pitch), int(x // pitch))] = (text.text, text.get("fill"))
    return squares, numbers


def test_pixel_grid_has_one_square_per_inked_pixel_with_its_value():
    image = np.zeros((28, 28), np.uint8)
    image[5, 7], image[20, 3] = 200, 60
    html = render.pixel_grid_html(image)
    svg, alt = _grid(html)
    squares, numbers = _squares_and_numbers(svg)
    assert squares == {(5, 7): 200, (20, 3): 60}
    # dark text on the bright square, light text on the dark one; every other square is blank
    assert numbers == {(5, 7): ("200", "#000"), (20, 3): ("60", "#fff")}
    assert svg.get("viewBox") == "0 0 589 589"  # 28 squares of 20 + 29 lines of 1
    assert alt == "28 by 28 pixel values; 2 of 784 are above 0 (ink), the largest 200"
    # 20 px squares at most; on a narrow screen 16 px squares that scroll inside their own box
    assert "clamp(477px,100cqw,589px)" in html and "overflow-x:auto" in html


def test_to_bytes_scales_floats_like_mnist_and_keeps_uint8():
    assert render.to_bytes(np.array([0.0, 0.5, 1.0, 1.5])).tolist() == [0, 128, 255, 255]
    raw = np.array([3, 250], np.uint8)
    assert render.to_bytes(raw) is raw


def test_pad_square_centres_the_image():
    out = render.pad_square(np.ones((4, 2)))
    assert out.shape == (4, 4) and out[:, 1:3].all() and not out[:, 0].any()


def test_colour_bar_is_an_rgb_image():
    bar = render.colour_bar(render.DIVERGING_CMAP, -0.3, 0.3, width=200)
    assert bar.ndim == 3 and bar.shape[2] == 3 and bar.shape[1] == 280


def test_class_rows_put_each_digit_on_its_own_row():
    images = np.zeros((30, 28, 28), np.uint8)
    labels = np.repeat(np.arange(10), 3)
    images[labels == 4] = 255  # only the 4s are white
    grid = render.class_rows(images, labels, per_class=3, scale=1)
    gap = 2
    assert grid.shape == (10 * (28 + gap) + gap, 3 * (28 + gap) + gap, 3)
    row_of_fours = grid[gap + 4 * 30 : gap + 4 * 30 + 28, gap : gap + 28]
    assert row_of_fours.min() == 255 and grid[gap : gap + 28, gap : gap + 28].max() == 0


def test_difference_row_is_red_where_the_second_has_more_ink():
    first, second = np.zeros((2, 28, 28)), np.zeros((2, 28, 28))
    second[0, 10, 10], first[1, 5, 5] = 1.0, 1.0
    row = render.difference_row(first, second, scale=1)
    more, less = row[2 + 10, 2 + 10], row[2 + 5, 2 + 30 + 5]
    assert more[0] > more[2] + 50 and more[0] > more[1] + 50  # red
    assert less[2] > less[0] + 50 and less[2] > less[1] + 30  # blue
    assert row[2 + 20, 2 + 20].min() > 230  # no difference: white
    assert render.grey_row(first, scale=1).shape == (32, 62, 3)


def _luminance(grey: int) -> float:
    """WCAG 2 relative luminance of a grey sRGB level (0-255)."""
    c = grey / 255
    c = c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    return c


def test_pixel_grid_numbers_keep_wcag_aa_contrast_on_every_grey():
    # every value 1-255 written on its own grey square: text colour against square >= 4.5:1
    image = np.arange(1, 785, dtype=np.int64).reshape(28, 28) % 255 + 1
    squares, numbers = _squares_and_numbers(
        _grid(render.pixel_grid_html(image.astype(np.uint8)))[0]
    )
    assert len(squares) == len(numbers) == 784
    text = {"#000": 0, "#fff": 255}
    for where, (value, ink) in numbers.items():
        assert squares[where] == int(value) == image[where]
        lighter, darker = sorted([_luminance(int(value)), _luminance(text[ink])], reverse=True)
        assert (lighter + 0.05) / (darker + 0.05) >= 4.5, (value, ink)


def test_log_shade_is_log_one_plus_n():
    counts = np.array([[0, 9], [99, 999]])
    assert np.allclose(render.log_shade(counts), [[0, np.log(10)], [np.log(100), np.log(1000)]])


def test_share_of_peak_divides_by_the_maximum_and_leaves_zeros():
    assert np.allclose(render.share_of_peak(np.array([1.0, 4.0, 2.0])), [0.25, 1.0, 0.5])
    assert np.array_equal(render.share_of_peak(np.zeros(3)), np.zeros(3))
