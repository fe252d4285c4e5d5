"""The latent explorer's Steer tab: one z moved along the generator's named directions (ink, slant,
width, height, and any direction SeFa or GANSpace found), a slider each, with "keep class" and "keep
ink" holding those still (`ganlab.directions`), and the image along each direction from −3 to +3."""

from __future__ import annotations

from functools import partial

import streamlit as st
import torch

from .. import directions, plots
from ..errors import GanlabError
from . import session

SLIDERS = ("ink", "slant", "width", "height")
STRIP = torch.linspace(-3.0, 3.0, 7)       # prior standard deviations


def steer_tab(trainer, label, endpoint) -> None:
    found = session.directions_of(trainer)
    if not found:
        offer_to_find(trainer)
        return
    z, name = endpoint(trainer, "S", 0, label)
    if z is None:
        return
    others = sorted(n for n in found if n not in SLIDERS and not n.startswith("class-"))
    extra = st.multiselect("More directions (found by SeFa or GANSpace, named by what moves most along them)",
                           others, key="st_more")
    shown = [n for n in SLIDERS if n in found] + extra
    c1, c2 = st.columns(2)
    classifier, why_not = classifier_of(trainer.config)
    keep_class = c1.toggle("keep class", key="st_keep_class", disabled=classifier is None,
                           help="the move goes round G's class boundary at each step, so the digit stays the one "
                                "it is" if classifier is not None else why_not)
    keep_ink = c2.toggle("keep ink", key="st_keep_ink", disabled="ink" not in found,
                         help="the ink direction projected out of every move, so boldness stays put")
    amounts = {n: st.slider(n, -3.0, 3.0, 0.0, 0.25, key=f"st_{n}", disabled=keep_ink and n == "ink",
                            help=f"prior standard deviations along {n} ({found[n].method})") for n in shown}
    keep = ["ink"] if keep_ink else []

    def moved(moves: dict, z0: torch.Tensor) -> torch.Tensor:
        moves = {n: a for n, a in moves.items() if a and n not in keep}
        if not moves:
            return z0
        if keep_class and classifier is not None:
            return directions.move_keeping_class(trainer, classifier, z0, found, moves, keep)
        return directions.move(z0, found, moves, keep)

    try:
        here = moved(amounts, z[None])
    except GanlabError as exc:
        st.error(str(exc))
        return
    left, right = st.columns(2)
    left.image(plots.image_grid(trainer.sample(z=z[None], labels=label), nrow=1, padding=0), width=200,
               caption=f"G(z), {name}")
    right.image(plots.image_grid(trainer.sample(z=here, labels=label), nrow=1, padding=0), width=200,
                caption="moved: " + (", ".join(f"{n} {a:+g}" for n, a in amounts.items() if a) or "not yet"))
    for n in shown:
        if n in keep:
            continue
        row = torch.cat([moved({n: float(t)}, z[None]) for t in STRIP])
        st.image(plots.image_grid(trainer.sample(z=row, labels=label), nrow=len(STRIP)), width=560,
                 caption=f"{n}: −3 to +3 standard deviations ({found[n].method}"
                         + (f", ρ {found[n].score:.2f}" if found[n].method != "attributes" else "") + ")")


def offer_to_find(trainer) -> None:
    st.info("This generator holds no directions in z yet. `python -m ganlab directions CKPT` finds and keeps them "
            "in a checkpoint; here they can be found for as long as the page is open.")
    if not trainer.config.is_image:
        st.caption("Directions are named by image attributes (ink, slant, width, class): image generators only.")
        return
    if st.button("Find directions (SeFa and attribute boundaries, about half a minute)", key="st_find"):
        with st.spinner("fitting boundaries on G's samples…"):
            classifier, _ = classifier_of(trainer.config)
            classify = None if classifier is None else partial(directions.class_of, classifier)
            found = directions.find(trainer, "attributes", samples=2000, classify=classify) \
                + directions.find(trainer, "sefa", n=6)
        session.keep_directions(trainer, {d.name: d for d in found})
        st.rerun()


@st.cache_resource(show_spinner=False)
def _load_classifier(data: str):
    return directions.classifier_for(data)


def classifier_of(cfg) -> tuple[object | None, str]:
    """The classifier that keeps a class, loaded once per dataset, or None and why there is none."""
    if cfg.classes:
        return None, "a conditional generator's class is its input: pick it above"
    try:
        classifier = _load_classifier(cfg.data)
    except GanlabError as exc:
        return None, str(exc)
    return classifier, "" if classifier is not None else f"no classifier for {cfg.data}"
