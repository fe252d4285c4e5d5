"""The Train page: settings in the sidebar, play / step / reset, and live views of the game.

The run trains in its own thread (`ganlab.run`); this page sends it commands and draws its
snapshots. Everything that shows the run (header, curves, samples, D's view, slow motion, the runs
compared) is drawn from one snapshot per refresh, so it all shows one step."""

from __future__ import annotations

import time

import streamlit as st

from .. import evaluate, plots, scheduler
from ..config import DATASET_CLASSES, FIELDS, FOLDER, STRUCTURAL, Config, needs_new_run, rules
from ..data import class_names, points_from_drawing
from ..errors import GanlabError, size_text
from ..imagefolder import MAX_ZIP_BYTES
from ..lossdefs import LOSS, MEANINGS
from ..recipes import RECIPES
from ..run import Snapshot
from . import session
from .checkpoints import checkpoint_section
from .compare import compare_panel
from .painter import ViewOptions, paint
from .session import widget_key

REFRESH_S = 1.0           # how often the live view reads the run's latest snapshot while it plays
SMOOTHING = (0.0, 0.6, 0.8, 0.9, 0.95, 0.99)      # the curves' moving average, as TensorBoard offers it
DATA_SHOWN = {session.MY_IMAGES: "my images (a zip of PNG/JPEG)"}


def render() -> None:
    state = session.get()
    snap = state.snapshot()
    if snap.view is None:
        with st.spinner("bringing the run back…"):
            snap = state.settled_snapshot()
    if snap.view is None:                         # a slow disk: say so, and look again in a moment
        st.info("The run is coming back from where it was saved while nobody watched; this page shows it "
                "as soon as it is ready.")
        time.sleep(1.0)
        st.rerun()
    session.follow_the_run(snap.playing)          # the toggle shows what the run does
    session.ensure_widget_state()
    link_notes()
    sidebar()
    st.title("ganlab: train a GAN")
    apply_settings()
    controls()
    live_view(snap.playing)
    with st.expander("Checkpoints: save this run, or load one and keep training"):
        checkpoint_section(state.snapshot())


def link_notes() -> None:
    """What a link asked for and could not have, one line each, until read (a toast would vanish
    before a person opening the link has found the page)."""
    notes = session.get().notes
    if notes:
        with st.container(border=True):
            for note in notes:
                st.warning(f"From the link: {note}")
            st.button("OK", key="notes_read", on_click=session.take_notes)


# ------------------------------------------------------------------ sidebar
def field_widget(name: str, where, **kw) -> None:
    """The widget of config field `name`, from its declared rules: choices as a selectbox (radio
    when few), typical values as a slider, bounds as a number input. A value the rules allow but the
    widget does not offer (from a link or a checkpoint) is added, never replaced."""
    rule, key = rules(name), widget_key(name)
    current = st.session_state[key]
    kw = {"key": key, "help": rule["help"], **kw}
    if rule.get("brings_settings"):
        kw.update(on_change=session.on_preset_change, args=(name,))
    if rule.get("own_settings"):
        kw.update(on_change=session.on_loss_change)
    if "choices" in rule:
        choices = session.data_choices() if name == "data" else rule["choices"]
        if "described" in rule:
            kw.setdefault("format_func", lambda v: f"{v} ({rule['described'][v]})" if v in rule["described"] else
                          DATA_SHOWN.get(v, v))
        if len(choices) <= 3:
            where.radio(rule["label"], choices, horizontal=True, **kw)
        else:
            where.selectbox(rule["label"], choices, **kw)
    elif "ladder" in rule:
        ladder = rule["ladder"]
        options = list(ladder) if current in ladder else sorted({*ladder, current})
        off = "off" if rule["bounds"][0] == 0 else None
        where.select_slider(rule["label"], options, format_func=lambda v: off if off and v == 0 else f"{v:.8g}", **kw)
    else:
        lo, hi = rule["bounds"]
        hi = max(min(hi, rule.get("widget_max", hi)), current)
        if isinstance(lo, int) and isinstance(current, int):
            where.number_input(rule["label"], lo, hi, **kw)
        else:
            # A half-open bound [lo, hi) takes values just below hi.
            top = hi - 1e-6 if rule.get("hi_open") else hi
            where.number_input(rule["label"], float(lo), float(top), step=0.01, format="%.6g", **kw)


def _applies(name: str) -> bool:
    only = rules(name).get("only_for") or {}
    return all(st.session_state[widget_key(k)] in (v if isinstance(v, tuple) else (v,))
               or (k == "data" and v == FOLDER and str(st.session_state[widget_key(k)]).startswith(FOLDER))
               for k, v in only.items())


def sidebar() -> None:
    sb = st.sidebar
    sb.header("Settings")
    field_widget("data", sb)
    data = st.session_state[widget_key("data")]
    if data == session.MY_IMAGES or data.startswith(FOLDER):
        sb.file_uploader(f"A zip of PNG or JPEG images, up to {MAX_ZIP_BYTES // 2**20} MB (subfolders are classes)",
                         type=["zip"], key=session.IMAGES_ZIP, on_change=session.on_images_upload)
        note = session.get().images_note
        if note:
            getattr(sb, note[0])(note[1])
    if data == "points":
        if sb.radio("My points from", ["a drawing", "a CSV file"], key="points_from", horizontal=True) == "a CSV file":
            upload = sb.file_uploader("CSV of 2-D points (x,y per line)", type=["csv", "txt"], key="points_file")
            error = session.set_points(upload) if upload is not None else None
            if error:
                sb.error(error)
    field_widget("model", sb)
    sb.selectbox("Recipe", list(RECIPES), key=session.RECIPE, on_change=session.on_preset_change, args=("recipe",),
                 help="named training settings: " + " · ".join(f"{n}: {r.summary}" for n, r in RECIPES.items())
                 + ". A new model brings the recipe it was built with; pick another here.")
    main = [n for n in FIELDS if not rules(n).get("brings_settings") and not rules(n).get("advanced") and _applies(n)]
    for name in main:
        field_widget(name, sb)
    with sb.expander("More settings"):
        for name in FIELDS:
            if rules(name).get("advanced") and _applies(name):
                field_widget(name, st)
    server = scheduler.default()
    sb.caption(f"This server: {server.runs()} run{'s' if server.runs() != 1 else ''}, holding about "
               f"{size_text(server.held())} of a {size_text(server.budget)} budget; they take turns on the cores.")
    in_place = [rules(n)["label"] for n in FIELDS if n not in STRUCTURAL]
    sb.caption(f"{', '.join(in_place)} apply to the running model at once; the other settings start a new "
               f"run (you will be asked first). The link in the address bar reproduces these settings.")


def apply_settings() -> None:
    """Apply what the sidebar asks for: in place where possible, else offer a new run."""
    state = session.get()
    live = state.config
    if st.session_state[widget_key("data")] == session.MY_IMAGES:
        st.info("Upload a zip of PNG or JPEG images in the sidebar to train on your own images; each is "
                "centre-cropped to a square and resized to 32x32 (or 64x64, under Image size).")
        return
    try:
        wanted = session.wanted_config()
    except GanlabError as exc:
        st.sidebar.error(str(exc))
        return
    if wanted.data == "points" and st.session_state.get("points_from", "a drawing") == "a drawing":
        draw_points(expanded=state.points is None)
    if wanted.data == "points" and state.points is None:
        st.info("Draw your points above, or upload a CSV of 2-D points in the sidebar, to train on your own data.")
        return
    names = live.structural_diff(wanted)
    step = state.snapshot().step
    if names and step == 0:
        session.start_run(wanted)
    elif names:
        # Nothing applies in place until the person decides, so keeping the run keeps it whole.
        changes = "; ".join(f"{n}: {getattr(live, n)} → {getattr(wanted, n)}" for n in names)
        with st.container(border=True):
            why = needs_new_run(names)
            st.warning(f"{changes}. {why[0].upper() + why[1:]}: the current run (step "
                       f"{step:,}) would be discarded.")
            c1, c2, _ = st.columns([1, 1, 3])
            c1.button("Start new run", key="confirm_new", type="primary", on_click=session.confirm_new_run)
            c2.button("Keep current run", key="keep_run", on_click=session.keep_current_run)
    else:
        session.apply_in_place(live.in_place_diff(wanted))
    session.sync_link(wanted)


DRAW_PX, DRAW_SPAN = 360, 3.0      # the drawing canvas: its side in pixels, and the plane [-3, 3]^2 it shows


def draw_points(expanded: bool) -> None:
    """Your own 2-D data: click points onto the plane, or drag to spray them along the stroke; the
    canvas's toolbar undoes, redoes and clears."""
    from .image_sources import canvas

    with st.expander("Draw your own points", expanded=expanded):
        mode = st.radio("Add points by", ["click", "drag"], horizontal=True, key="draw_mode",
                        help="click: one point per click; drag: a point at every step of the stroke")
        drawing = canvas()(stroke_width=2, stroke_color="#2ca02c", fill_color="#2ca02c", background_color="#f4f4f4",
                            height=DRAW_PX, width=DRAW_PX, point_display_radius=3, key="points_canvas",
                            drawing_mode="point" if mode == "click" else "freedraw", return_image_data=True)
        drawn = len(points_from_drawing(drawing.json_data, DRAW_PX, DRAW_PX, DRAW_SPAN))
        st.caption(f"{drawn:,} points drawn. The square shows [−{DRAW_SPAN:g}, {DRAW_SPAN:g}]², y up. Undo, redo "
                   f"and clear are in the canvas's toolbar.")
        st.button("Train on these points", key="use_drawing", type="primary", on_click=session.use_drawn_points,
                  args=(drawing.json_data, DRAW_PX, DRAW_PX, DRAW_SPAN))
        note = session.get().drawing_note
        if note:
            (st.success if note[0] == "success" else st.error)(note[1])


# ------------------------------------------------------------------ controls
def controls() -> None:
    c1, c2, c3, c4, c5, c6, c7 = st.columns([1.2, 1, 1, 1, 1, 1.2, 1.4])
    c1.toggle("Play", key="playing", on_change=session.on_play_toggle,
              help="train continuously in the background; the views refresh every second")
    c2.button("Step", key="step", on_click=session.step_once, help="one iteration: k D steps + 1 G step")
    c3.button("D step", key="d_step", on_click=session.slow_step, args=("d",),
              help="slow motion: one D step alone, and what it changed in D")
    c4.button("G step", key="g_step", on_click=session.slow_step, args=("g",),
              help="slow motion: one G step alone (ending the iteration), and how it moved G's samples")
    c5.button("Reset", key="reset", on_click=session.reset_run, help="start over with the same seed")
    c6.button("New seed", key="new_seed", on_click=session.new_seed_run)
    c7.button("Pin this run", key="pin", on_click=session.pin_current,
              help="keep a copy of this run as it is now, to compare the next runs with (curves overlaid, samples side by side)")
    error = session.get().error
    if error:
        st.error(error)


# ------------------------------------------------------------------ live view
def live_view(playing: bool) -> None:
    every = scheduler.default().refresh_s(REFRESH_S) if playing else None
    st.fragment(run_every=every)(_live)(playing, every)


def _live(was_playing: bool, every: float | None) -> None:
    """One refresh: one snapshot, everything drawn from it. Drawing never trains, so a refresh takes
    only as long as its figures."""
    state = session.get()
    snap = state.snapshot()
    if snap.playing != was_playing or (every and scheduler.default().refresh_s(REFRESH_S) != every):
        st.rerun(scope="app")                 # the run stopped or started, or the server's load moved
    st.markdown(header_text(snap), help="the run trains in the background; the header, charts and samples "
                "below all show the step named here")
    if snap.status:
        st.error(snap.status)
    elif snap.note:
        st.info(snap.note)
    if snap.view is not None:
        options = view_options(snap.config)
        state.run.paint(options, lambda view: paint(view, options))     # the next snapshots come drawn
        drawn = snap.drawn[1] if snap.drawn and snap.drawn[0] == options else paint(snap.view, options)
        draw(snap, drawn)


def view_options(cfg: Config) -> ViewOptions:
    """What the view's widgets ask for, read before they are drawn (their values from the last rerun)."""
    ss = st.session_state
    return ViewOptions(label=ss.get("show_class") if cfg.classes else None, show_dstar=bool(ss.get("show_dstar")),
                       arrows=bool(ss.get("show_arrows")), manifold=bool(ss.get("show_manifold")),
                       smoothing=float(ss.get("smoothing", 0.0)))


def header_text(snap: Snapshot) -> str:
    cfg: Config = snap.config
    text = f"**step {snap.step:,}** · {cfg.model} on {cfg.data} · k={cfg.k} · m={cfg.batch_size} · {cfg.loss}"
    if snap.ips:
        text += f" · {snap.ips:,.0f} it/s"
    wanted = st.session_state.get(widget_key("data"))
    if wanted == "points" and cfg.data != "points":
        text += f" · still the {cfg.data} run until your points are used"
    return text


def class_picker(cfg) -> int | None:
    """The class a conditional G is asked for in the views (None: every class)."""
    names = class_names(cfg.data)
    options = [None, *range(cfg.classes)]
    return st.selectbox("Class asked of G (Sec. 7.1: p(x | c))", options, key="show_class",
                        format_func=lambda c: "every class" if c is None else f"{c}: {names[c]}")


def slow_motion_panel(snap: Snapshot) -> None:
    """What the last D step or G step taken alone changed, while it is still the latest thing done."""
    slow, trainer = snap.slow, snap.view
    if slow is None or slow.step != snap.step or slow.d_steps != snap.pending_d_steps or snap.playing:
        return
    cfg = snap.config
    with st.container(border=True):
        if slow.kind == "d":
            st.markdown(f"**Slow motion: one D step** ({slow.d_steps} of this iteration's k = {cfg.k}"
                        f"{'; steps past k are extra' if slow.d_steps > cfg.k else ''}). G is unchanged.")
        else:
            st.markdown(f"**Slow motion: one G step**, ending iteration {snap.step:,}. D is unchanged; "
                        "each generated sample moved along G's push.")
        if cfg.is_image:
            if slow.kind == "g":
                a, b = st.columns(2)
                a.image(plots.image_grid(slow.before["images"]), caption="G's fixed batch before", width="stretch")
                b.image(plots.image_grid(slow.after["images"]), caption="after", width="stretch")
            else:
                a, b = st.columns(2)
                a.metric("mean D on 64 real images", f"{slow.after['d_real']:.3f}",
                         f"{slow.after['d_real'] - slow.before['d_real']:+.3f}")
                b.metric("mean D on 64 generated", f"{slow.after['d_fake']:.3f}",
                         f"{slow.after['d_fake'] - slow.before['d_fake']:+.3f}")
        else:
            st.plotly_chart(plots.step_change_figure(trainer, slow.kind, slow.before, slow.after), key="slow")


def draw(snap: Snapshot, drawn: dict) -> None:
    """The run at `snap`, its figures `drawn` (`painter.paint`) already made for it."""
    trainer, cfg = snap.view, snap.config
    slow_motion_panel(snap)
    left, right = st.columns([1.15, 1])
    with left:
        label = class_picker(cfg) if cfg.classes else None
        if cfg.is_image:
            st.subheader("Samples from a fixed batch of z")
            by_class = cfg.classes and label is None
            st.image(drawn["main"], width="stretch" if cfg.data != "digits" else 480)
            st.caption(("One row per class, the same noise vectors in each row: a column keeps its style "
                        "and changes its class. " if by_class else "The same 64 noise vectors every refresh, "
                        "so you watch the same samples sharpen. ") + "Pixels are G's output mapped to [0, 1].")
        elif cfg.data == "gaussian1d":
            st.subheader("Figure 1, live")
            st.plotly_chart(drawn["main"], key="fig1")
            with st.expander("What am I looking at?"):
                st.markdown(
                    "The paper's Figure 1: the data density (black dots), the generator's density pg "
                    "(green, a kernel estimate from samples), the discriminator D (blue dashes) and the "
                    "optimal D* = pdata / (pdata + pg) (purple, Proposition 1). Below, each line maps a "
                    "z to x = G(z). At the end of training pg = pdata and D = 1/2 everywhere. "
                    "`notebooks/03_algorithm1_1d.ipynb`")
        else:
            st.subheader("Real vs generated, over D")
            c1, c2, c3 = st.columns(3)
            if plots.has_dstar(trainer):
                c1.checkbox("optimal D*", key="show_dstar", help="compare D with the best D against this G")
            if LOSS[cfg.loss].meaning == "critic":
                c1.caption(f"{cfg.loss}'s critic has no closed-form optimum to compare with")
            c2.checkbox("G's push", key="show_arrows",
                                 help="an arrow on each shown sample: −∇ₓ of G's loss, where G's next step moves it")
            c3.checkbox("G's manifold", key="show_manifold",
                        help="a regular grid in z (its first two coordinates) drawn through G")
            st.plotly_chart(drawn["main"], key="toy2d")
            with st.expander("What am I looking at?"):
                st.markdown(
                    f"Black: real samples; green: G's samples. The colour is {MEANINGS[LOSS[cfg.loss].meaning]}. "
                    "D* = pdata / (pdata + pg) is the best possible "
                    "discriminator against the current G (Proposition 1), with pdata exact and pg estimated "
                    "from G's samples. When G has learnt the data, D* = 1/2 everywhere. The orange arrows "
                    "(on request) are G's push: −∇ₓ of G's loss at each generated sample, on one fixed scale; with "
                    "the minimax loss they vanish where D confidently says fake (Sec. 3). The grey mesh (on "
                    "request) is G's manifold: a regular grid of z carried into the plane by G; where its lines "
                    "crowd, G packs much of z into little of the plane. "
                    "`notebooks/01_optimal_discriminator.ipynb` · "
                    "`notebooks/05_k_and_mode_collapse.ipynb`")
    with right:
        st.subheader("The minimax game")
        if drawn["history"] is not None:
            st.select_slider("Smoothing", SMOOTHING, key="smoothing", format_func=lambda v: f"{v:g}" if v else "off",
                             help="an exponential moving average of the curves, the raw values faint behind")
            st.plotly_chart(drawn["history"], key="history")
        else:
            st.info("Press **Play** (or **Step**) to start training.")
        with st.expander("What do these curves mean?"):
            st.markdown(
                f"{LOSS[cfg.loss].words} k is the number of D steps per G step: a larger k keeps D "
                "near D*, which Proposition 2 assumes, yet on `ring` k = 5 collapses G onto one or two "
                "modes where k = 1 covers all eight (notebook 5). With the minimax G loss, G's gradient vanishes when D "
                "rejects fakes confidently (Sec. 3); nonsat fixes that. "
                "`notebooks/02_global_optimum.ipynb` · "
                "`notebooks/04_saturation.ipynb`")
        if cfg.semi_labels:
            semi_panel(snap)
    compare_panel(trainer)


def semi_panel(snap: Snapshot) -> None:
    """A semi-supervised D scored as a classifier, on demand: a pass over the whole test set is too
    slow for every refresh."""
    cfg = snap.config
    st.subheader("D as a classifier")
    if st.button("Score D on the test set", key="score_d"):
        session.record_d_score(snap, evaluate.semi_classifier(snap.view))    # on the copy: the run plays on
    score = session.d_score(snap)                       # a score of this run, not of one before
    if score:
        step, result = score
        st.metric(f"test error at step {step:,}", f"{100 * result['test_error']:.2f} %",
                  help=f"on {result['test_images']:,} images D never saw labelled")
    st.caption(f"D ends in {DATASET_CLASSES[cfg.data]} class logits, learnt from {cfg.semi_labels:,} labelled "
               f"images while it plays the game on all of them (Salimans et al., 2016); its real-vs-fake "
               f"D(x) = Z / (Z + 1), Z the sum of the exponentiated logits. They report 0.93 % test error on "
               f"MNIST with 100 labels. `python -m ganlab eval CKPT --metric semi_classifier`")
