"""Where an image comes from in the app: a test image by index, an uploaded PNG/JPEG, or a drawing on
a canvas; and its z under a generator with an inference net (the paper's Sec. 7.2)."""

from __future__ import annotations

import hashlib

import numpy as np
import streamlit as st
import torch

from .. import plots
from ..config import Config
from ..data import load_dataset
from ..errors import GanlabError
from ..imagefiles import MAX_BYTES, read_image, to_dataset_image
from ..inference import encode
from . import session

KINDS = ("Test image", "Upload", "Drawing")
CANVAS = 224                    # canvas side in pixels: 8x a 28x28 image
APP_ENCODER_STEPS = 1000        # the app's own encoder training (shorter than the CLI's default)
PAINT_ALPHA = 0.6               # the opacity of the mask brush


@st.cache_resource(show_spinner="loading the test images…")
def test_images(data: str, image_size: int, channels: int):
    """The test set of `data` (a folder's own images: it has none apart); read-only, shared by every session."""
    return load_dataset(data, train=False, image_size=image_size, channels=channels)


def image_input(cfg: Config, key: str, kind: str) -> torch.Tensor | None:
    """An image (C, H, W) in [0, 1] of `cfg`'s data's shape from source `kind` (one of KINDS); None until
    there is one. Errors are shown, not raised."""
    shape = cfg.shape
    try:
        if kind == KINDS[0]:
            test = test_images(cfg.data, cfg.image_size, cfg.channels)
            i = st.number_input("test image index", 0, len(test) - 1, 0, key=f"{key}_index")
            return test.images[i].reshape(shape)
        if kind == KINDS[1]:
            upload = st.file_uploader(f"a PNG or JPEG, any size (up to {MAX_BYTES // 2**20} MB)",
                                      type=["png", "jpg", "jpeg"], key=f"{key}_upload")
            if upload is None:
                return None
            return _converted(read_image(upload.getvalue(), upload.name), cfg)
        drawing = canvas()(stroke_width=18, stroke_color="#ffffff", background_color="#000000", height=CANVAS,
                            width=CANVAS, drawing_mode="freedraw", return_image_data=True, key=f"{key}_canvas")
        st.caption("Draw white on black, as the dataset's images are; the toolbar undoes and clears.")
        if drawing.image_data is None or float(np.asarray(drawing.image_data)[..., :3].max()) == 0:
            return None
        return _converted(np.asarray(drawing.image_data), cfg)
    except GanlabError as exc:
        st.error(str(exc))
        return None


def drawn_mask(x: torch.Tensor, shape) -> torch.Tensor:
    """The hidden pixels (C, H, W) painted over image x on a canvas (paint covers a pixel when it
    covers at least a third of it)."""
    from PIL import Image

    from ..inference import named_mask

    picture = Image.fromarray(plots.image_grid(x[None], nrow=1, padding=0)).resize((CANVAS, CANVAS), Image.NEAREST)
    painted = canvas()(stroke_width=20, stroke_color=f"rgba(255, 0, 0, {PAINT_ALPHA})", background_image=picture,
                        height=CANVAS, width=CANVAS, drawing_mode="freedraw", return_image_data=True, key="cx_paint")
    st.caption("Paint over the part to hide.")
    alpha = np.zeros((CANVAS, CANVAS), np.uint8) if painted.image_data is None else \
        np.asarray(painted.image_data)[..., 3].astype(np.uint8)
    covered = np.asarray(Image.fromarray(alpha).resize(shape[:0:-1], Image.BOX), np.float32) / (255 * PAINT_ALPHA)
    return named_mask(covered > 1 / 3, shape)


def canvas():
    """The drawing component, imported where it is drawn: it registers itself with a running app, so
    importing it at module level would fail wherever this module is imported outside one."""
    from streamlit_drawable_canvas import st_canvas

    return st_canvas


def _converted(image, cfg: Config) -> torch.Tensor:
    x, steps = to_dataset_image(image, cfg.shape, photo=cfg.is_folder or cfg.data == "cifar10")
    with st.expander("How the image was converted"):
        cols = st.columns(len(steps))
        for col, (caption, grey) in zip(cols, steps):
            col.image(np.clip(grey, 0, 1), caption=caption, width=120, clamp=True)
    return x


def z_of(trainer, x: torch.Tensor, steps: int, label=None) -> torch.Tensor:
    """z of image x (C, H, W) under the trainer's G: E(x), then `steps` search steps (cached)."""
    digest = hashlib.sha256(x.numpy().tobytes()).hexdigest()
    key = (id(trainer), trainer.step_count, trainer.encoder_steps, digest, steps, label)
    return session.cached_encoding(key, lambda: encode(trainer, x[None], refine=steps, labels=label)[0])


def need_encoder(trainer) -> bool:
    """True if the generator has an inference net; else say how to get one (`offer_encoder`'s button)."""
    if trainer.encoder is not None:
        return True
    st.info("This generator has no inference net E: x → z yet (Sec. 7.2). `python -m ganlab encoder CKPT` trains "
            "one into a checkpoint, the shipped mnist-dcgan.pt has one, and the button at the foot of the page "
            "trains one here.")
    return False


def offer_encoder(trainer) -> None:
    """A button that trains the generator an inference net, drawn once per page: both endpoints may
    each need one, and two buttons of one key stop the page."""
    if trainer.encoder is None and st.button(f"Train an inference net now ({APP_ENCODER_STEPS:,} steps on G's "
                                             f"own samples)", key="train_encoder"):
        with st.spinner("training the inference net…"):
            session.train_explorer_encoder(trainer, APP_ENCODER_STEPS)
        st.rerun()


def reconstruction(trainer, x: torch.Tensor, z: torch.Tensor, label=None) -> None:
    """x beside G(z), with the pixel error."""
    g = trainer.sample(z=z[None], labels=label)[0]
    st.image(plots.image_grid(torch.stack([x, g]), nrow=2), width=240,
             caption=f"x and G(E(x)): mean squared pixel error {float((g - x).square().mean()):.4f}")
