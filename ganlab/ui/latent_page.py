"""The latent explorer: walk between two noise vectors of a trained generator (the paper's Figure 3)."""

from __future__ import annotations

import hashlib
import io

import streamlit as st
import torch

from .. import directions, plots
from ..checkpoint import checkpoint_dir
from ..data import class_names
from ..errors import GanlabError
from ..latent import interpolate, z_from_seed
from . import image_sources, session
from .checkpoints import list_checkpoints, load_trainer
from .session.explorer import keep_completion, kept_completion
from .steer import steer_tab

SOURCES = ("Current run", "A checkpoint in checkpoints/", "Upload a checkpoint")
N_CANDIDATES = 8
BEST_FIRST = ("mnist-dcgan.pt", "mnist-paper.pt")     # shown first, in this order of quality (docs/results.md)


def render() -> None:
    session.get()
    st.title("Latent explorer")
    st.caption("Walk between two noise vectors z: picked by their seeds, or found from real images by the "
               "generator's inference net (Sec. 7.2). Slerp (spherical) keeps ‖z‖ where the prior puts its "
               "mass; lerp (the paper's Figure 3) cuts through the middle.")
    trainer = explorer_trainer()
    if trainer is None:
        return
    cfg = trainer.config
    st.markdown(f"**{cfg.model}** generator on **{cfg.data}**, step {trainer.step_count:,}, z of {cfg.latent_dim} dims "
                f"({cfg.prior} prior)")
    label = None
    if cfg.classes:
        names = class_names(cfg.data)
        label = st.selectbox("Class of the walk (a conditional generator: G(z, c))", range(cfg.classes),
                             key="lx_class", format_func=lambda c: f"{c}: {names[c]}")
    if not cfg.is_image:
        walk(trainer, label)
        return
    walk_tab, steer, complete_tab = st.tabs(["Walk", "Steer (directions in z)", "Complete a masked image (Sec. 7.3)"])
    with walk_tab:
        walk(trainer, label)
    with steer:
        steer_tab(trainer, label, endpoint)
    with complete_tab:
        completion(trainer, label)
    image_sources.offer_encoder(trainer)


def walk(trainer, label) -> None:
    cfg = trainer.config
    if cfg.is_image:
        candidates = torch.stack([z_from_seed(s, cfg.latent_dim, cfg.prior) for s in range(N_CANDIDATES)])
        st.image(plots.image_grid(trainer.sample(z=candidates, labels=label), nrow=N_CANDIDATES), width=640,
                 caption="candidates: seeds 0–7, left to right; use one as an endpoint below")
    c1, c2 = st.columns(2)
    with c1:
        a, name_a = endpoint(trainer, "A", 0, label)
    with c2:
        b, name_b = endpoint(trainer, "B", 1, label)
    if a is None or b is None:
        return
    c3, c4 = st.columns(2)
    method = c3.radio("Path", ("slerp", "lerp"), key="lx_method", horizontal=True)
    steps = c4.slider("Points on the path", 2, 48, 12, key="lx_steps")
    paths = {m: interpolate(a, b, steps, m) for m in ("slerp", "lerp")}
    path = paths[method]
    pos = st.slider("Position on the path", 0, steps - 1, min(st.session_state.get("lx_pos", 0), steps - 1), key="lx_pos")
    x = trainer.sample(z=path, labels=label)            # (steps, ...) on the CPU

    left, right = st.columns([1, 1.4])
    with left:
        if cfg.is_image:
            st.image(plots.image_grid(x[pos:pos + 1], nrow=1, padding=0), width=280, caption=f"G(z) at {pos}")
        else:
            st.plotly_chart(plots.latent_path_figure(trainer, x, pos, label=label), key="lx_plane")
    with right:
        st.plotly_chart(plots.norms_figure(paths, current=pos), key="lx_norms")
        st.caption("‖z‖ along both paths. For unit-variance z in d dims (either prior) almost all mass lies near ‖z‖ = √d; "
                   "lerp dips below it mid-way, slerp does not.")
    if cfg.is_image:
        st.image(plots.image_grid(x, nrow=steps), width="stretch", caption=f"the whole path, {name_a} to {name_b}")
        with st.expander("G's manifold: a 2-D slice of z through endpoint A"):
            st.image(plots.latent_slice(trainer, a, label=label), width=480,
                     caption=f"endpoint A's z in the centre, turned along two fixed random directions, down the "
                             f"rows and along the columns, up to {plots.SLICE_REACH:.0f}° to each edge at the same "
                             f"‖z‖: how G lays out that patch of the sphere where z lives")
    if cfg.classes and cfg.is_image:
        class_views(trainer, a, name_a)
    st.download_button("Export the walk as a GIF", data=lambda: walk_gif(trainer, x), file_name="latent-walk.gif",
                       mime="image/gif", key="lx_gif", on_click="ignore")


def endpoint(trainer, which: str, seed: int, label) -> tuple[torch.Tensor | None, str]:
    """One end of the walk: z from a seed, or from a real image through the inference net."""
    cfg = trainer.config
    kinds = ("Seed", *image_sources.KINDS) if cfg.is_image else ("Seed",)
    kind = st.radio(f"Endpoint {which}", kinds, key=f"lx_{which.lower()}_kind", horizontal=True) \
        if len(kinds) > 1 else "Seed"
    if kind == "Seed":
        s = st.number_input(f"Endpoint {which}: seed", 0, 2**31 - 1, seed, key=f"lx_{which.lower()}")
        return z_from_seed(s, cfg.latent_dim, cfg.prior), f"seed {s}"
    if not image_sources.need_encoder(trainer):
        return None, ""
    x = image_sources.image_input(cfg, f"lx_{which.lower()}", kind)
    if x is None:
        return None, ""
    steps = st.slider("search steps from E(x)", 0, 300, 100, step=25, key=f"lx_{which.lower()}_refine",
                      help="gradient steps on z that bring G(z) closer to x in pixels and in D's features")
    z = image_sources.z_of(trainer, x, steps, label)
    image_sources.reconstruction(trainer, x, z, label)
    return z, f"your {kind.lower()}"


def completion(trainer, label) -> None:
    """Hide part of an image and let G fill it in, several ways (the paper's Sec. 7.3)."""
    from ..classinference import name_partly_seen
    from ..inference import COMPLETE_STEPS, MASKS, complete, named_mask, pool_draws

    kind = st.radio("Image", image_sources.KINDS, key="cx_kind", horizontal=True)
    x = image_sources.image_input(trainer.config, "cx", kind)
    if x is None:
        return
    voted, guessed = False, trainer.class_net is not None
    # An image of unknown class (one drawn, one of your own): a conditional G's class net names it where the
    # checkpoint holds one (classinference.py), else its own draws vote for one (`vote`).
    unknown = "the class its class net names" if guessed else "the class G's draws vote for"
    if label is not None:
        voted = st.radio("Complete as", (False, True), key="cx_class", horizontal=True,
                         format_func=lambda vote: unknown if vote else f"class {label}")
    c1, c2, c3 = st.columns(3)
    hide = c1.radio("Hide", (*MASKS, "drawn"), index=1, key="cx_mask", horizontal=True)
    n = c2.slider("Completions", 1, 8, 4, key="cx_n")
    steps = c3.slider("Search steps", 0, 400, COMPLETE_STEPS, step=50, key="cx_steps")
    shape, image = trainer.config.shape, hashlib.sha256(x.numpy().tobytes()).hexdigest()
    try:
        mask = named_mask(hide, shape) if hide != "drawn" else image_sources.drawn_mask(x, shape)
    except GanlabError as exc:
        st.info(str(exc))
        mask = None
    if mask is not None:
        given = x * (1 - mask) + 0.5 * mask
        st.image(plots.image_grid(given[None], nrow=1), width=140, caption="what G sees (grey: hidden)")
        if st.button("Complete", key="cx_go", type="primary"):
            # The class net's class, named here to be shown, is the class `complete` would ask it for.
            named = int(name_partly_seen(trainer, x[None], mask)[0]) if voted and guessed else None
            with st.spinner("searching z for each completion…"):
                given_class = named if named is not None else (None if voted else label)
                out = complete(trainer, x[None], mask, n=n, steps=steps, labels=given_class)[0]
            settings = f"{hide} hidden, {steps} search steps"
            if label is not None:
                settings += f", {unknown}" if voted else f", class {label}"
            if named is not None:
                settings += f" ({class_names(trainer.config.data)[named]})"
            pool = pool_draws(trainer.config, voted and not guessed)
            keep_completion(trainer, image, (torch.cat([x[None], given[None], out]), settings, pool))
    kept = kept_completion(trainer, image)      # through any change of the settings above, until the image changes
    if kept is not None:
        row, settings, pool = kept
        st.image(plots.image_grid(row, nrow=len(row)), width="stretch",
                 caption=f"the image, what G saw ({settings}), then the completions: each completion keeps the "
                         f"visible pixels and fills the hidden ones from G(z), each z searched from one of the "
                         f"{pool:,} draws of z whose G(z) best matched the visible pixels; the closest match first")


def class_views(trainer, z: torch.Tensor, name: str) -> None:
    """A conditional generator at one z: every class (the style held, the class changed), and a
    straight walk from one class's embedding to another's."""
    cfg, names = trainer.config, class_names(trainer.config.data)
    every = trainer.sample(z=z.expand(cfg.classes, -1), labels=torch.arange(cfg.classes))
    st.image(plots.image_grid(every, nrow=cfg.classes), width="stretch",
             caption=f"same z (endpoint A, {name}), every class: {', '.join(names)}")
    c1, c2 = st.columns(2)
    a = c1.selectbox("Walk from class", range(cfg.classes), key="lx_from", format_func=lambda c: names[c])
    b = c2.selectbox("to class", range(cfg.classes), index=1, key="lx_to", format_func=lambda c: names[c])
    st.image(plots.image_grid(trainer.sample_between_classes(z, a, b, 12), nrow=12), width="stretch",
             caption=f"same z, the class embedding moved in a straight line from {names[a]} to {names[b]}")


def walk_gif(trainer, x: torch.Tensor) -> bytes:
    if trainer.config.is_image:
        frames = [plots.image_grid(img[None], nrow=1, padding=0) for img in x]
        return plots.gif_bytes(frames + frames[::-1][1:-1], duration_ms=90, scale=4)
    background = trainer.sample(400, seed=0)
    return plots.gif_bytes(plots.points_frames(_in_plane(x), _in_plane(background)), duration_ms=90)


def _in_plane(x: torch.Tensor) -> torch.Tensor:
    """1-D samples drawn on the x axis of the plane; 2-D ones as they are."""
    return x if x.shape[1] == 2 else torch.cat([x, torch.zeros_like(x)], dim=1)


def current_run_trainer():
    """The live run as the explorer reads it: a frozen copy of its latest snapshot."""
    return session.current_run_view()


def explorer_trainer():
    """The generator to explore: the live run, a file in checkpoints/, or an upload (kept per session).
    Until the live run has trained, the page opens on the checkpoints (the best shipped generator
    first): an untrained G draws noise."""
    run, files = current_run_trainer(), list_checkpoints()
    trained = run is not None and run.step_count > 0
    session.set_default("lx_source", SOURCES[0] if trained or not files else SOURCES[1])
    source = st.radio("Generator", SOURCES, key="lx_source", horizontal=True)
    if source == SOURCES[0]:
        if run is None:
            st.info("The current run is not in memory: open the Train page to bring it back, or explore a checkpoint.")
        elif not trained:
            st.info("The current run has not trained yet: press Play on the Train page, or explore a checkpoint.")
        return run
    if source == SOURCES[1]:
        if not files:
            st.info(f"No checkpoints in {checkpoint_dir()} yet.")
            return None
        names = [f.name for f in files]
        best = next((n for n in BEST_FIRST if n in names), None)            # the best shipped generator
        first = names.index(best) if best else 0
        choice = st.selectbox("Checkpoint", files, index=first, key="lx_file", format_func=lambda p: p.name)
        key = ("file", str(choice), choice.stat().st_mtime_ns)
        loader = lambda: with_directions(choice)  # noqa: E731
    else:
        upload = st.file_uploader("Checkpoint (.pt)", type=["pt"], key="lx_upload")
        if upload is None:
            return None
        key = ("upload", hashlib.sha256(upload.getvalue()).hexdigest())
        loader = lambda: with_directions(upload)  # noqa: E731
    try:
        return session.explorer_generator(key, loader)
    except GanlabError as exc:
        st.error(str(exc))
        return None


def with_directions(source):
    """A checkpoint's generator, with the named directions its file keeps (`ganlab.directions`)."""
    trainer = load_trainer(source)
    if trainer.config.is_image:
        file = io.BytesIO(source.getvalue()) if hasattr(source, "getvalue") else source
        session.keep_directions(trainer, directions.read(file))
    return trainer
