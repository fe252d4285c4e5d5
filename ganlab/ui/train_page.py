"""The Train page: settings in the sidebar, play / step / reset, and live views of the game."""

from __future__ import annotations

import contextlib
import time

import streamlit as st

from .. import plots
from ..config import DATASETS, LOSSES, MODELS, OPTIMIZERS, Config
from ..data import load_points_csv
from ..errors import GanlabError
from . import session
from .checkpoints import checkpoint_section

REFRESH_S = 1.0           # how often the live view reruns while playing
TRAIN_BUDGET_S = 0.8      # training time per refresh; drawing takes the rest of the cycle
MAX_SLICE = 5000          # iterations per refresh, whatever the measured speed
DATA_LABELS = {"gaussian1d": "gaussian1d (Figure 1)", "ring": "ring (8 Gaussians)", "grid": "grid (25 Gaussians)",
               "digits": "digits (8×8, bundled)", "mnist": "mnist", "fashion-mnist": "fashion-mnist",
               "points": "my own points (CSV)"}
BATCH_SIZES = [16, 32, 64, 100, 128, 256, 512, 1024]
EMAS = [0.0, 0.9, 0.99, 0.999, 0.9999]
R1S = [0.0, 0.01, 0.1, 1.0, 10.0]
LRS = [1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2, 0.1, 0.2]


def render() -> None:
    session.init()
    session.ensure_widget_state()
    ss = st.session_state
    for note in ss.pop("notes", []) or []:
        st.toast(note)
    sidebar()
    apply_settings()
    st.title("ganlab: train a GAN")
    controls()
    live_view()
    with st.expander("Checkpoints: save this run, or load one and keep training"):
        checkpoint_section()


# ------------------------------------------------------------------ sidebar
def _options(values, current):
    return list(values) if current in values else sorted({*values, current})


def sidebar() -> None:
    ss = st.session_state
    sb = st.sidebar
    sb.header("Settings")
    sb.selectbox("Dataset", DATASETS, key="data", format_func=DATA_LABELS.get,
                 on_change=session.on_data_or_model_change, args=("data",))
    if ss["data"] == "points":
        upload = sb.file_uploader("CSV of 2-D points (x,y per line)", type=["csv", "txt"], key="points_file")
        if upload is not None and getattr(ss, "points_name", None) != (upload.name, upload.size):
            try:
                ss.points = load_points_csv(upload)
                ss.points_name = (upload.name, upload.size)
            except GanlabError as exc:
                sb.error(str(exc))
    sb.selectbox("Model", MODELS, key="model", on_change=session.on_data_or_model_change, args=("model",),
                 help="mlp: small MLPs for toy data · seed: the seed script's MLPs · paper: maxout D with dropout · "
                 "dcgan: a small convolutional pair for 28x28 images (mnist, fashion-mnist) · dcgan-deep: a deeper one "
                 "whose preset is the recommended MNIST recipe (docs/performance.md)")
    if ss["model"] == "mlp":
        c1, c2 = sb.columns(2)
        c1.select_slider("Width", [16, 32, 64, 128, 256, 512], key="hidden")
        c2.number_input("Depth", 1, 6, key="depth")
    sb.number_input("latent_dim (size of z)", 1, 512, key="latent_dim")
    c1, c2 = sb.columns(2)
    c1.select_slider("lr of G", _options(LRS, ss["lr_g"]), key="lr_g", format_func=lambda v: f"{v:g}")
    c2.select_slider("lr of D", _options(LRS, ss["lr_d"]), key="lr_d", format_func=lambda v: f"{v:g}")
    sb.number_input("k: D steps per G step", 1, 20, key="k", help="Algorithm 1 takes k steps on D, then one on G")
    sb.select_slider("Batch size m", _options(BATCH_SIZES, ss["batch_size"]), key="batch_size")
    sb.radio("G loss", LOSSES, key="loss", horizontal=True,
             help="nonsat: ascend log D(G(z)) (the paper's fix, Sec. 3) · minimax: descend log(1 − D(G(z)))")
    sb.radio("Optimizer", OPTIMIZERS, key="optimizer", horizontal=True)
    sb.select_slider("Average of G's weights (EMA)", _options(EMAS, ss["ema"]), key="ema",
                     format_func=lambda v: "off" if v == 0 else f"{v:g}",
                     help="the samples shown come from a moving average of G's weights (0.999: about the last "
                     "1,000 steps), which sits nearer the equilibrium the players circle; training is unchanged")
    sb.select_slider("R1 penalty on D's slope at real data (γ)", _options(R1S, ss["r1"]), key="r1",
                     format_func=lambda v: "off" if v == 0 else f"{v:g}",
                     help="adds (γ/2)·E‖∇ₓD(x)‖² over real x to D's loss (Mescheder et al., 2018): D cannot grow "
                     "steep walls at the data, so the players stop circling; on grid it keeps modes from being dropped")
    sb.number_input("Seed", 0, 2**31 - 1, key="seed")
    sb.caption("lr, k, batch size, G loss, the average and the penalty apply to the running model at once; the other settings "
               "start a new run (you will be asked first). The link in the address bar reproduces these settings.")


def apply_settings() -> None:
    """Apply what the sidebar asks for: in place where possible, else offer a new run."""
    ss = st.session_state
    trainer = ss.trainer
    try:
        wanted = session.wanted_config()
    except GanlabError as exc:
        st.sidebar.error(str(exc))
        return
    if wanted.data == "points" and ss.points is None:
        st.info("Upload a CSV of 2-D points in the sidebar to train on your own data.")
        return
    changes = session.structural_changes(trainer.config, wanted)
    if changes and trainer.step_count == 0:
        session.start_run(wanted)
    elif changes:
        with st.container(border=True):
            st.warning(f"{'; '.join(changes)}: this needs new networks, so the current run "
                       f"(step {trainer.step_count}) would be discarded.")
            c1, c2, _ = st.columns([1, 1, 3])
            c1.button("Start new run", key="confirm_new", type="primary", on_click=session.confirm_new_run)
            c2.button("Keep current run", key="keep_run", on_click=session.keep_current_run)
    mutable = session.in_place_changes(trainer.config, wanted)
    if mutable:
        trainer.update(**mutable)
        if ss.status and "NaN" in ss.status:
            ss.status = None              # new learning rates: let the person try again
    query = session.query_from_settings(wanted)
    if st.query_params.to_dict() != query:
        st.query_params.from_dict(query)


# ------------------------------------------------------------------ controls
def controls() -> None:
    c1, c2, c3, c4, c5 = st.columns([1.2, 1, 1, 1, 3])
    c1.toggle("Play", key="playing", help="train continuously; the views refresh every second")
    c2.button("Step", key="step", on_click=session.step_once, help="one iteration: k D steps + 1 G step")
    c3.button("Reset", key="reset", on_click=session.reset_run, help="start over with the same seed")
    c4.button("New seed", key="new_seed", on_click=session.new_seed_run)
    status = st.session_state.status
    if status:
        st.error(status)


# ------------------------------------------------------------------ live view
def live_view() -> None:
    ss = st.session_state
    playing = bool(ss.get("playing")) and not ss.status
    st.fragment(run_every=REFRESH_S if playing else None)(_live)()


def _advance(trainer) -> tuple[int, float]:
    """Train one slice sized to TRAIN_BUDGET_S from the measured speed; return (iterations, seconds)."""
    ss = st.session_state
    n = 10 if ss.ips is None else max(1, min(MAX_SLICE, int(ss.ips * TRAIN_BUDGET_S)))
    t0 = time.perf_counter()
    trainer.step(n)
    dt = time.perf_counter() - t0
    ips = n / max(dt, 1e-6)
    ss.ips = ips if ss.ips is None else 0.5 * ss.ips + 0.5 * ips
    return n, dt


def _live() -> None:
    ss = st.session_state
    trainer = ss.trainer
    header = st.empty()
    header.markdown(_header_text(trainer))    # at once, so the counter never blinks during a refresh
    if ss.get("playing") and not ss.status:
        try:
            with st.spinner("loading data…") if not trainer.data_loaded else contextlib.nullcontext():
                trained, train_s = _advance(trainer)
        except GanlabError as exc:
            ss.status = str(exc)
            st.rerun(scope="app")             # redraw the controls with training stopped
        t0 = time.perf_counter()
        draw(trainer)
        ss.timing = {"iterations": trained, "train_s": train_s, "draw_s": time.perf_counter() - t0}
        header.markdown(_header_text(trainer))
    else:
        draw(trainer)


def _header_text(trainer) -> str:
    cfg: Config = trainer.config
    text = f"**step {trainer.step_count:,}** · {cfg.model} on {cfg.data} · k={cfg.k} · m={cfg.batch_size} · {cfg.loss}"
    t = st.session_state.timing
    if t:
        cycle = t["train_s"] + t["draw_s"]
        text += (f" · {t['iterations'] / t['train_s']:,.0f} it/s · refresh: {100 * t['train_s'] / cycle:.0f}% "
                 f"training, {100 * t['draw_s'] / cycle:.0f}% drawing")
    return text


def draw(trainer) -> None:
    cfg = trainer.config
    left, right = st.columns([1.15, 1])
    with left:
        if cfg.is_image:
            st.subheader("Samples from a fixed batch of z")
            st.image(plots.image_grid(trainer.sample(), nrow=8), width="stretch" if cfg.data != "digits" else 480)
            st.caption("The same 64 noise vectors every refresh, so you watch the same digits sharpen. "
                       "Pixels are G's output mapped to [0, 1].")
        elif cfg.data == "gaussian1d":
            st.subheader("Figure 1, live")
            st.plotly_chart(plots.figure1(trainer), key="fig1")
            with st.expander("What am I looking at?"):
                st.markdown(
                    "The paper's Figure 1: the data density (black dots), the generator's density pg "
                    "(green, a kernel estimate from samples), the discriminator D (blue dashes) and the "
                    "optimal D* = pdata / (pdata + pg) (purple, Proposition 1). Below, each line maps a "
                    "z to x = G(z). At the end of training pg = pdata and D = 1/2 everywhere. "
                    "`notebooks/03_algorithm1_1d.ipynb`")
        else:
            st.subheader("Real vs generated, over D")
            show_dstar = cfg.data != "points" and st.checkbox("compare with the optimal D*", key="show_dstar")
            st.plotly_chart(plots.toy2d_figure(trainer, show_dstar=show_dstar), key="toy2d")
            with st.expander("What am I looking at?"):
                st.markdown(
                    "Black: real samples; green: G's samples. The colour is D(x), the probability D gives "
                    "that x is real (red ≈ 0, blue ≈ 1). D* = pdata / (pdata + pg) is the best possible "
                    "discriminator against the current G (Proposition 1), with pdata exact and pg estimated "
                    "from G's samples. When G has learnt the data, D* = 1/2 everywhere. "
                    "`notebooks/01_optimal_discriminator.ipynb` · "
                    "`notebooks/05_k_and_mode_collapse.ipynb`")
    with right:
        st.subheader("The minimax game")
        if trainer.step_count:
            st.plotly_chart(plots.history_figure(trainer.history(max_rows=1500)), key="history")
        else:
            st.info("Press **Play** (or **Step**) to start training.")
        with st.expander("What do these curves mean?"):
            st.markdown(
                "D ascends V(D, G) = E[log D(x)] + E[log(1 − D(G(z)))]; G descends it (Algorithm 1). "
                "At the global optimum pg = pdata, D(x) = D(G(z)) = 1/2 and V = −log 4 ≈ −1.386 "
                "(Theorem 1), the dashed line. k is the number of D steps per G step: a larger k keeps D "
                "near D*, which Proposition 2 assumes, yet on `ring` k = 5 collapses G onto one or two "
                "modes where k = 1 covers all eight (notebook 5). With the minimax G loss, G's gradient vanishes when D "
                "rejects fakes confidently (Sec. 3); nonsat fixes that. "
                "`notebooks/02_global_optimum.ipynb` · "
                "`notebooks/04_saturation.ipynb`")
