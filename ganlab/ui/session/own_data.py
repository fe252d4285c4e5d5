"""Data of one's own: a CSV of 2-D points, points drawn on a canvas, or a zip of images. Each is read
once; a drawing or a zip starts a new run on it, or says in one line why not."""

from __future__ import annotations

import hashlib
import io

import streamlit as st

from ...config import FOLDER, make_config
from ...data import default_data_root, load_points_csv, point_cloud, points_from_drawing
from ...errors import DataError, GanlabError
from ...imagefolder import unpack_zip
from ...recipes import recipe_for
from .runs import start_run
from .settings import wanted_config
from .state import get, sync_widgets_from, widget_key

IMAGES_ZIP = "images_zip"    # the zip uploader's key


def set_points(upload) -> str | None:
    """Read an uploaded CSV of points once per file; return the error, if any."""
    state = get()
    if state.csv_read == (upload.name, upload.size):      # read once: a drawing since then stays in force
        return None
    try:
        state.points = load_points_csv(upload)
    except GanlabError as exc:
        return str(exc)
    state.points_name = state.csv_read = (upload.name, upload.size)
    return None


def on_images_upload() -> None:
    """A zip of images was uploaded: unpack it once (by its content) and start a run on its folder,
    or say in one line why not; the live run is kept either way until a run on the images starts."""
    state, upload = get(), st.session_state.get(IMAGES_ZIP)
    if upload is None:
        return
    data = upload.getvalue()
    folder = default_data_root() / "uploads" / hashlib.sha256(data).hexdigest()[:16]
    try:
        if not folder.is_dir():
            unpack_zip(io.BytesIO(data), folder, upload.name)
        cfg = make_config(data=f"{FOLDER}{folder}", seed=int(st.session_state[widget_key("seed")]))
        state.run.start(cfg).result()
        count = state.run.call(lambda trainer: len(trainer.load_data())).result()
    except GanlabError as exc:
        state.images_note = ("error", str(exc))
        return
    sync_widgets_from(cfg, recipe_for(cfg.model))
    state.images_note = ("success", f"a new run on the {count:,} images of {upload.name} "
                                    f"({cfg.channels}x{cfg.image_size}x{cfg.image_size})")


def use_drawn_points(drawing: dict | None, width: int, height: int, span: float) -> None:
    """Train on the points drawn on the canvas: a new run on them, or one line saying why not (the
    current run untouched)."""
    state = get()
    points = points_from_drawing(drawing, width, height, span)
    try:
        if not points:
            raise DataError("nothing is drawn yet: click points onto the plane, or drag to spray them")
        cloud = point_cloud(points, "the drawing")
        cfg = wanted_config().replace(data="points")
    except GanlabError as exc:
        state.drawing_note = ("error", str(exc))
        return
    state.points, state.points_name = cloud, ("drawing", len(points))
    start_run(cfg)
    state.drawing_note = ("success", f"a new run on the {len(points):,} points drawn")
