"""The views read as a newcomer expects: legends clear of every axis, toy panels fitted to their data,
D named alike in titles and colour bars under every loss, curves smoothed as TensorBoard smooths
them, and the latent explorer opening on a generator that draws digits, with a manifold slice that
varies and completions that stay while their settings change."""

from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from ganlab import Trainer, make_config, plots
from ganlab.lossdefs import LOSS
from ganlab.plots.style import LEGEND_ROW, TITLE_ROW

ROOT = Path(__file__).resolve().parents[1]
CHECKPOINTS = ROOT / "checkpoints"


@pytest.fixture(scope="module")
def ring():
    t = Trainer(make_config(data="ring", seed=0), device="cpu")
    t.step(3)
    return t


def slow_figures(trainer) -> dict:
    """Slow motion's two views: one D step, then one G step, each taken alone."""
    out = {}
    for kind, take in (("d", trainer.d_step), ("g", trainer.g_step)):
        before = plots.snapshot(trainer)
        take()
        out[kind] = plots.step_change_figure(trainer, kind, before, plots.snapshot(trainer))
    return out


def subplot_titles(fig) -> list[str]:
    return [a.text for a in fig.layout.annotations if a.yref == "paper" and a.yanchor == "bottom"]


# ------------------------------------------------------------------ legends
def assert_legend_clear_of_the_axes(fig) -> None:
    """A horizontal legend in the figure's top margin, which leaves it a row above any subplot titles:
    placed against the whole figure, it can cover no axis, tick label or data."""
    legend, top = fig.layout.legend, fig.layout.margin.t
    assert legend.orientation == "h" and legend.yref == "container" and legend.yanchor == "top" and legend.y >= 0.99
    assert top >= LEGEND_ROW + (TITLE_ROW if subplot_titles(fig) else 0), (top, subplot_titles(fig))


def test_legends_sit_above_the_plot_area_clear_of_the_ticks(ring):
    from ganlab.latent import interpolate

    a, b = torch.randn(100, generator=torch.Generator().manual_seed(0)), torch.zeros(100) + 1
    history = ring.history()
    figures = [plots.toy2d_figure(ring, show_dstar=True), plots.toy2d_figure(ring, arrows=True, manifold=True),
               plots.norms_figure({m: interpolate(a, b, 12, m) for m in ("slerp", "lerp")}, current=3),
               plots.history_figure(history), plots.compare_figure([("a", history, "nonsat")]),
               plots.latent_path_figure(ring, ring.sample(5, seed=1), 2), *slow_figures(ring).values()]
    for fig in figures:
        assert_legend_clear_of_the_axes(fig)


# ------------------------------------------------------------------ toy panels fit their window
def test_slow_motion_panels_span_the_plane_bounds_at_equal_aspect(ring):
    x0, x1, y0, y1 = plots.plane_bounds(ring)
    for kind, fig in slow_figures(ring).items():
        xaxes = [fig.layout[k] for k in fig.layout if k.startswith("xaxis")]
        yaxes = [fig.layout[k] for k in fig.layout if k.startswith("yaxis")]
        assert len(xaxes) == len(yaxes) == (3 if kind == "d" else 1)
        for ax in xaxes:
            assert tuple(ax.range) == pytest.approx((x0, x1), abs=1e-5) and ax.constrain == "domain"
        for ax in yaxes:
            assert tuple(ax.range) == pytest.approx((y0, y1), abs=1e-5) and ax.constrain == "domain"
            assert ax.scaleanchor == "x"            # one scale for every panel's both axes: equal aspect


# ------------------------------------------------------------------ D's name under every loss
@pytest.mark.parametrize("loss", list(LOSS))
def test_titles_and_colour_bars_name_d_alike_under_every_loss(loss):
    t = Trainer(make_config(data="ring", loss=loss, seed=0), device="cpu")
    name = plots.d_of(loss)
    assert name.startswith("critic(" if LOSS[loss].meaning == "critic" else "D(")
    toy = plots.toy2d_figure(t)
    (bar,) = [h.colorbar.title.text for h in toy.data if h.type == "heatmap" and h.showscale]
    assert bar == subplot_titles(toy)[0] == name
    slow = slow_figures(t)["d"]
    bar = next(h.colorbar.title.text for h in slow.data if h.type == "heatmap")
    assert bar == name and subplot_titles(slow)[:2] == [f"{name} before the step", f"{name} after"]
    history = {k: np.zeros(4) for k in ("d_loss", "g_loss", "d_real", "d_fake", "value")}
    curves = plots.history_figure(history, loss=loss)
    assert {name, plots.d_of(loss, "G(z)")} <= {tr.name for tr in curves.data}
    assert subplot_titles(curves)[1] == f"mean {name} and {plots.d_of(loss, 'G(z)')}"


# ------------------------------------------------------------------ smoothing
def noisy_history(n: int = 400) -> dict:
    rng = np.random.default_rng(0)
    return {"step": np.arange(1, n + 1), **{k: 1.0 + rng.normal(0, 0.5, n)
                                           for k in ("d_loss", "g_loss", "d_real", "d_fake", "value")}}


def test_ema_is_tensorboards_debiased_moving_average():
    x = np.array([2.0, 4.0, np.nan, 1.0])
    s = 0.6
    last1 = (1 - s) * 2.0
    last2 = s * last1 + (1 - s) * 4.0
    last3 = s * last2 + (1 - s) * 1.0           # the NaN passes through and stays out of the average
    expected = [last1 / (1 - s), last2 / (1 - s**2), np.nan, last3 / (1 - s**3)]
    np.testing.assert_allclose(plots.ema(x, s), expected)
    assert plots.ema(x, s)[0] == 2.0                                    # debiased: the first value itself
    with pytest.raises(ValueError, match=r"smoothing must lie in \[0, 1\), got 1.0"):
        plots.ema(x, 1.0)


def test_history_curves_smooth_over_their_faint_raw_values():
    h = noisy_history()
    raw = plots.history_figure(h)
    assert all(tr.opacity is None for tr in raw.data)
    assert np.array_equal(next(tr for tr in raw.data if tr.name == "D loss").y, h["d_loss"])   # 0: as they are
    smooth = plots.history_figure(h, smoothing=0.9)
    curve = next(tr for tr in smooth.data if tr.name == "D loss")
    behind = next(tr for tr in smooth.data if tr.name == "D loss, raw")
    assert np.array_equal(behind.y, h["d_loss"]) and behind.opacity < 0.5 and behind.showlegend is False
    assert behind.line.color == curve.line.color and behind.legendgroup == curve.legendgroup
    assert smooth.data.index(behind) < smooth.data.index(curve)         # drawn first: behind the curve
    assert curve.y[0] == h["d_loss"][0] and np.var(curve.y) < 0.2 * np.var(h["d_loss"])


def test_compared_runs_smooth_alike():
    h = noisy_history()
    fig = plots.compare_figure([("a", h, "nonsat"), ("b", h, "wgan-gp")], smoothing=0.9)
    curves = [tr for tr in fig.data if tr.name in ("a", "b")]
    assert len(curves) == 6 and all(np.var(tr.y) < 0.2 * np.var(h["g_loss"]) for tr in curves)
    assert len([tr for tr in fig.data if tr.name.endswith(", raw")]) == 6
    plain = plots.compare_figure([("a", h, "nonsat")])
    assert np.array_equal(plain.data[0].y, h["g_loss"]) and len(plain.data) == 3


# ------------------------------------------------------------------ the manifold slice
def test_a_slice_of_z_turns_z_on_its_sphere():
    z = torch.randn(100, generator=torch.Generator().manual_seed(0))
    zz = plots.slice_z(z, 5, "normal")
    assert zz.shape == (25, 100) and torch.allclose(zz.norm(dim=1), z.norm().expand(25), rtol=1e-5)
    cos = (zz @ z) / z.norm() ** 2
    assert float(cos[12]) == pytest.approx(1.0, abs=1e-6)                  # the centre cell is z
    angles = torch.rad2deg(torch.arccos(cos.clamp(-1, 1))).reshape(5, 5)
    assert float(angles[0, 2]) == pytest.approx(plots.SLICE_REACH, abs=0.01)        # an edge's middle
    assert float(angles[0, 0]) == pytest.approx(plots.SLICE_REACH * 2**0.5, abs=0.01)  # a corner
    assert torch.equal(plots.slice_z(z, 5, "normal"), zz)                 # the same directions each redraw
    assert plots.slice_z(z * 3, 5, "uniform").abs().max() <= 3**0.5 + 1e-6     # inside the uniform cube


def test_the_manifold_slice_of_the_shipped_mnist_generator_shows_several_digits():
    from ganlab.classifier import load_classifier, predict
    from ganlab.latent import z_from_seed

    t = Trainer.load(CHECKPOINTS / "mnist-dcgan.pt", device="cpu", training=False)
    judge = load_classifier(CHECKPOINTS / "classifier-mnist.pt", "mnist")
    d, prior = t.config.latent_dim, t.config.prior
    independent = t.sample(z=torch.randn(64, d, generator=torch.Generator().manual_seed(9))).reshape(64, -1)
    for seed in (0, 1):                                           # the explorer's endpoints A and B
        grid = plots.latent_slice(t, z_from_seed(seed, d, prior))     # 8 x 8 tiles of 28 px, 2 px apart
        cells = torch.stack([torch.from_numpy(grid[2 + 30 * i:30 * (i + 1), 2 + 30 * j:30 * (j + 1), 0]) / 255
                             for i in range(8) for j in range(8)])
        digits = set(predict(judge, cells)[0].argmax(1).tolist())
        spread = float(cells.reshape(64, -1).var(0).mean()) / float(independent.var(0).mean())
        assert len(digits) >= 3 and spread > 0.4, (seed, digits, spread)


# ------------------------------------------------------------------ the latent explorer
@pytest.fixture
def shipped(monkeypatch):
    monkeypatch.setenv("GANLAB_CHECKPOINTS", str(CHECKPOINTS))


def explorer() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("app_pages/latent.py").run()
    assert not at.exception, at.exception
    return at


def test_the_explorer_opens_on_the_shipped_generator_until_the_run_has_trained(shipped):
    at = explorer()
    assert at.radio(key="lx_source").value == "A checkpoint in checkpoints/"
    assert at.selectbox(key="lx_file").value.name == "mnist-dcgan.pt"
    assert at.session_state["ganlab"].explorer[1].config.data == "mnist"
    at.switch_page("app_pages/train.py").run()
    at.button(key="step").click().run()
    at.switch_page("app_pages/latent.py").run()
    assert not at.exception and at.radio(key="lx_source").value == "Current run"


def test_a_completion_stays_while_its_settings_change_and_goes_with_the_image(shipped, real_data_root, monkeypatch):
    monkeypatch.setenv("GANLAB_DATA", str(real_data_root))
    at = explorer()
    at.radio(key="cx_kind").set_value("Test image").run()
    at.slider(key="cx_steps").set_value(0).run()
    at.slider(key="cx_n").set_value(2).run()
    at.button(key="cx_go").click().run()

    def shown() -> bool:
        return any("then the completions" in c for img in at.get("image") for c in img.captions)

    assert not at.exception and shown()
    at.slider(key="cx_n").set_value(3).run()
    at.radio(key="cx_mask").set_value("top").run()
    assert shown()
    at.number_input(key="cx_index").set_value(1).run()
    assert not at.exception and not shown()


def test_the_kept_completion_follows_its_generator_and_image():
    from ganlab.ui.session.explorer import keep_completion, kept_completion

    a, b = (Trainer(make_config(data="ring", seed=s), device="cpu") for s in (0, 1))
    keep_completion(a, "img", "result")
    assert kept_completion(a, "img") == "result"
    assert kept_completion(a, "other") is None and kept_completion(b, "img") is None
    a.step(1)
    assert kept_completion(a, "img") is None                    # the run trained on: another generator
