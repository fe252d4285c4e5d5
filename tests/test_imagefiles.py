"""A person's own image turned into one of the dataset's: the conversion MNIST's images went through."""

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from ganlab.errors import ConfigError
from ganlab.imagefiles import MAX_BYTES, read_image, to_dataset_image


def _png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def test_a_dark_stroke_on_a_light_photo_becomes_a_white_digit_centred_in_a_20_pixel_box():
    page = Image.new("RGB", (640, 480), "white")
    ImageDraw.Draw(page).line([(100, 40), (100, 440)], fill="black", width=30)     # a "1", far off-centre
    x, steps = to_dataset_image(read_image(_png(page)), (1, 28, 28))
    assert x.shape == (1, 28, 28) and 0 <= float(x.min()) and float(x.max()) <= 1
    ink = np.argwhere(x[0].numpy() > 0.3)
    assert ink[:, 0].max() - ink[:, 0].min() + 1 == 20                              # the box's height
    centre = (x[0].numpy() * np.arange(28)[None]).sum() / x[0].numpy().sum()
    assert abs(centre - 14) < 1                                                     # centred by mass
    assert x[0, 0].max() == 0 and x[0, :, 0].max() == 0                            # black page
    assert [caption.split(":")[0] for caption, _ in steps][:2] == ["grey levels", "inverted"]


def test_a_canvas_drawing_white_on_black_is_not_inverted_and_fits_any_dataset_size():
    rgba = np.zeros((224, 224, 4), np.uint8)
    rgba[..., 3] = 255
    rgba[60:170, 100:120, :3] = 255
    x, steps = to_dataset_image(rgba, (1, 8, 8))
    assert x.shape == (1, 8, 8) and not any(c.startswith("inverted") for c, _ in steps)
    assert float(x.max()) > 0.5


@pytest.mark.parametrize("data, message", [
    (b"not an image", "is not an image that can be read"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "is not an image that can be read"),
    (b"0" * (MAX_BYTES + 1), "images up to 10 MB are read"),
])
def test_what_is_not_a_readable_image_is_refused_in_one_line(data, message):
    with pytest.raises(ConfigError, match=message) as exc:
        read_image(data, "upload.png")
    assert "\n" not in str(exc.value)


def test_a_decompression_bomb_is_refused_from_its_header():
    bomb = _png(Image.new("1", (8000, 8000)))       # 64 megapixels, a few kB on disk
    assert len(bomb) < MAX_BYTES
    with pytest.raises(ConfigError, match="8000 x 8000 pixels; images up to 25 megapixels"):
        read_image(bomb)


def test_a_blank_image_has_nothing_to_convert():
    with pytest.raises(ConfigError, match="blank"):
        to_dataset_image(Image.new("L", (50, 50), 255), (1, 28, 28))
