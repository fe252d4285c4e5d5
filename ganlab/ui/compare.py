"""Runs side by side: the live run beside up to three pinned copies, curves overlaid and samples next
to each other, each labelled with the settings it differs in."""

from __future__ import annotations

import streamlit as st

from .. import plots
from ..links import MAX_PINS
from . import session


def differences(cfg, live) -> str:
    """The settings in which `cfg` differs from the live run's, as "loss hinge, k 5"."""
    return ", ".join(f"{name} {getattr(cfg, name)}" for name in live.differing(cfg)) or "the live run's settings"


def compare_panel(trainer) -> None:
    """The live run (`trainer`, the frozen copy of the snapshot the page draws) beside the pinned ones."""
    state = session.get()
    if state.pending_pins:
        steps = sum(n for _, n in state.pending_pins)
        st.info(f"The link pins {len(state.pending_pins)} run(s) to compare with, as settings and iterations. "
                f"Training is deterministic, so training them again ({steps:,} iterations in all) gives back the "
                f"runs that were pinned, if they were trained with those settings from the start (no setting "
                f"changed mid-run, no step taken alone, not loaded from a file).")
        st.button("Rebuild the pinned runs", key="rebuild_pins", on_click=session.rebuild_pins)
    if state.pin_note:
        st.error(state.pin_note)
    if not state.pinned:
        return
    st.subheader(f"Runs side by side ({len(state.pinned) + 1} of at most {MAX_PINS + 1})")
    live = trainer.config
    labels = ["live"] + [f"pin {i + 1}: {differences(p.trainer.config, live)}" for i, p in enumerate(state.pinned)]
    runs = [(labels[0], trainer, None)] + [(labels[i + 1], p.trainer, p.view) for i, p in enumerate(state.pinned)]
    histories = [(label, t.history(max_rows=600), t.config.loss) for label, t, _ in runs if t.step_count]
    if histories:
        st.plotly_chart(plots.compare_figure(histories, smoothing=float(st.session_state.get("smoothing", 0.0))),
                        key="compare_curves")
    cols = st.columns(len(runs))
    for i, (col, (label, t, view)) in enumerate(zip(cols, runs)):
        with col:
            st.markdown(f"**{label}** · step {t.step_count:,}")
            view = plots.run_view(t) if view is None else view
            if hasattr(view, "to_plotly_json"):
                st.plotly_chart(view, key=f"compare_view_{i}")
            else:
                st.image(view, width="stretch")
            if i:
                st.button("Unpin", key=f"unpin_{i - 1}", on_click=session.unpin, args=(i - 1,))
    st.caption("The third panel puts different losses on one scale: each run's game value less its own optimum "
               "(−log 4 for the paper's losses), 0 where pg = pdata. Pinned runs are copies, frozen when pinned; "
               "the link in the address bar carries them.")
