"""Saving and loading runs in the app. Every file goes through `Trainer.load`, i.e. the same
`weights_only` path as the CLI; saves are confined to the checkpoint folder by name, and loads to
files that lie in it (a link out of it is neither offered nor followed)."""

from __future__ import annotations

import io
from pathlib import Path

import streamlit as st
import torch

from ..checkpoint import checkpoint_dir, checkpoint_path_in, in_folder
from ..errors import CheckpointError, GanlabError
from ..trainer import Trainer
from . import session

MAX_UPLOAD_MB = 200


def list_checkpoints() -> list[Path]:
    """Generator checkpoints in the folder (the metric classifiers that live beside them are not)."""
    folder = checkpoint_dir()
    files = sorted(folder.glob("*.pt")) if folder.is_dir() else []
    return [f for f in files if not f.name.startswith("classifier-") and in_folder(f, folder)]


def trainer_bytes(trainer: Trainer) -> bytes:
    buf = io.BytesIO()
    torch.save(trainer.state_dict(), buf)
    return buf.getvalue()


def load_trainer(source) -> Trainer:
    """A Trainer from a path in the checkpoints folder or an uploaded file; errors stay one line."""
    if hasattr(source, "size") and source.size > MAX_UPLOAD_MB * 2**20:
        raise CheckpointError(f"{source.name} is {source.size / 2**20:.0f} MB; the app accepts checkpoints up to "
                          f"{MAX_UPLOAD_MB} MB")
    if isinstance(source, (str, Path)) and not in_folder(source, checkpoint_dir()):
        link = f" (a link to {Path(source).resolve()})" if Path(source).is_symlink() else ""
        raise CheckpointError(f"{source} leads out of {checkpoint_dir()}{link}; the app loads only the files in "
                              f"that folder")
    if hasattr(source, "getvalue"):
        data = io.BytesIO(source.getvalue())
        data.name = getattr(source, "name", "uploaded file")
        source = data
    return Trainer.load(source, device="auto")


def _save_to_folder() -> None:
    run = session.get().run
    try:
        path = checkpoint_path_in(checkpoint_dir(), st.session_state["ckpt_name"])
        step = run.call(_save, path).result()
        session.set_message("success", f"saved step {step} to {path}")
    except (GanlabError, OSError) as exc:
        session.set_message("error", str(exc))


def _save(trainer: Trainer, path) -> int:
    """In the run's worker, between slices: the file and its step agree."""
    trainer.save(path)
    return trainer.step_count


def _load(source_key: str) -> None:
    source = st.session_state.get(source_key)
    if source is None:
        session.set_message("error", "choose a checkpoint first")
        return
    try:
        trainer = load_trainer(source)
    except GanlabError as exc:
        session.set_message("error", str(exc))
        return
    text = (f"loaded {getattr(source, 'name', source)}: {trainer.config.model} on {trainer.config.data} at step "
            f"{trainer.step_count}; press Play to keep training")
    session.adopt(trainer)                # from here on the run's worker alone touches it
    session.set_message("success", text)


def checkpoint_section(snap) -> None:
    """Save the run (its snapshot `snap` names it), download it, or load one in its place."""
    c1, c2 = st.columns(2)
    with c1:
        st.markdown("**Save this run**")
        session.set_default("ckpt_name", f"{snap.config.data}-{snap.config.model}")
        st.text_input("Name", key="ckpt_name", help="saved as checkpoints/NAME.pt")
        st.button("Save to checkpoints/", key="save_ckpt", on_click=_save_to_folder)
        st.download_button("Download checkpoint", data=lambda: session.get().run.call(trainer_bytes).result(),
                           file_name=f"ganlab-{snap.config.data}-step{snap.step}.pt",
                           mime="application/octet-stream", key="download_ckpt", on_click="ignore")
    with c2:
        st.markdown("**Load a run and keep training**")
        files = list_checkpoints()
        st.selectbox("From checkpoints/", files, key="ckpt_file", format_func=lambda p: p.name,
                     index=None, placeholder="choose a file")
        st.button("Load", key="load_ckpt", on_click=_load, args=("ckpt_file",))
        st.file_uploader("Or upload a .pt file", type=["pt"], key="ckpt_upload")
        st.button("Load uploaded", key="load_upload", on_click=_load, args=("ckpt_upload",))
    message = session.take_message()
    if message:
        (st.success if message[0] == "success" else st.error)(message[1])
