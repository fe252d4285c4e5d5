import io
import math

import numpy as np
import pytest
import torch
from PIL import Image
from scipy import stats

from ganlab import CheckpointError, DataError, Trainer, make_config
from ganlab import plots
from ganlab.checkpoint import checkpoint_path_in
from ganlab.data import load_dataset, load_points_csv
from ganlab.metrics import kde_log_density, mode_coverage, optimal_discriminator


def test_kde_matches_scipy_with_the_same_bandwidth():
    x = torch.randn(300, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    at = torch.randn(50, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    h = 0.3
    # an isotropic Gaussian kernel of std h on every sample, summed by scipy
    expected = np.log(np.mean([stats.multivariate_normal(p, h**2 * np.eye(2)).pdf(at.numpy()) for p in x.numpy()], 0))
    assert np.allclose(kde_log_density(x, at, bandwidth=h).numpy(), expected, atol=1e-8)


def test_optimal_discriminator_is_proposition_1():
    p_data, p_g = torch.tensor([0.2, 0.5, 1e-30]), torch.tensor([0.6, 0.5, 1e-3])
    assert torch.allclose(optimal_discriminator(p_data.log(), p_g.log()), p_data / (p_data + p_g))
    assert float(optimal_discriminator(torch.tensor(-1000.0), torch.tensor(-1000.0))) == 0.5


def test_mode_coverage_protocol_on_real_samples_and_on_a_collapsed_generator():
    ring = load_dataset("ring")
    real = ring.sample(2500, torch.Generator().manual_seed(0))
    m = mode_coverage(real, ring.centres, ring.std)
    assert m["modes_covered"] == 8 and m["high_quality_fraction"] > 0.98 and m["mode_kl_to_uniform"] < 0.01
    collapsed = ring.centres[3].expand(2500, 2) + 0.001
    m = mode_coverage(collapsed, ring.centres, ring.std)
    assert m["modes_covered"] == 1 and m["high_quality_fraction"] == 1.0
    assert m["mode_kl_to_uniform"] == pytest.approx(math.log(8))
    assert mode_coverage(torch.full((10, 2), 50.0), ring.centres, ring.std)["mode_kl_to_uniform"] is None


def test_the_reverse_kl_is_pacgans_kl_of_the_generated_mode_histogram_to_the_true_one():
    ring = load_dataset("ring")
    # 3/4 of the samples on mode 0, 1/4 on mode 1: KL(q || uniform over 8) = sum q log(8 q)
    x = torch.cat([ring.centres[0].expand(300, 2), ring.centres[1].expand(100, 2)])
    q = torch.tensor([0.75, 0.25], dtype=torch.float64)
    assert mode_coverage(x, ring.centres, ring.std)["reverse_kl"] == pytest.approx(float((q * (8 * q).log()).sum()))


@pytest.fixture(scope="module")
def trained():
    out = {}
    for data in ("ring", "gaussian1d", "digits"):
        t = Trainer(make_config(data=data, seed=0), device="cpu")
        t.step(20)
        out[data] = t
    return out


@pytest.mark.slow
def test_figures_carry_the_views_the_app_promises(trained):
    fig = plots.history_figure(trained["ring"].history())
    names = {t.name for t in fig.data}
    assert {"D loss", "G loss", "D(x)", "D(G(z))", "V(D, G)"} <= names
    assert any(abs(s.y0 + math.log(4)) < 1e-9 for s in fig.layout.shapes if s.y0 is not None)
    toy = plots.toy2d_figure(trained["ring"], show_dstar=True)
    heatmaps = [t for t in toy.data if t.type == "heatmap"]
    assert len(heatmaps) == 2 and all(0 <= np.min(h.z) and np.max(h.z) <= 1 for h in heatmaps)
    one_d = plots.figure1(trained["gaussian1d"])
    assert {"pdata", "pg", "D(x)", "D*(x)", "x = G(z)"} <= {t.name for t in one_d.data}


def test_history_figures_stay_small_for_long_runs():
    h = {k: np.arange(100_000, dtype=np.float32) for k in ("d_loss", "g_loss", "d_real", "d_fake", "value")}
    fig = plots.history_figure(h, max_points=1000)
    assert all(len(t.x) <= 1001 for t in fig.data) and fig.data[0].x[-1] == 100_000


def test_image_grid_and_gif(trained):
    grid = plots.image_grid(trained["digits"].sample(16, seed=0), nrow=4)
    assert grid.dtype == np.uint8 and grid.shape == (4 * 8 + 5 * 2, 4 * 8 + 5 * 2, 3)
    frames = [plots.image_grid(torch.full((1, 1, 8, 8), v), nrow=1, padding=0) for v in (0.0, 0.5, 1.0)]
    gif = Image.open(io.BytesIO(plots.gif_bytes(frames, scale=4)))
    assert gif.format == "GIF" and gif.n_frames == 3 and gif.size == (32, 32)


def test_checkpoint_names_cannot_leave_their_folder(tmp_path):
    assert checkpoint_path_in(tmp_path, "run-1") == (tmp_path / "run-1.pt").resolve()
    assert checkpoint_path_in(tmp_path, "run.pt") == (tmp_path / "run.pt").resolve()
    for bad in ("../x", "/etc/passwd", "a/b", ".hidden", "", "x" * 81, "..", "a..b", "~root"):
        with pytest.raises(CheckpointError, match="invalid checkpoint name"):
            checkpoint_path_in(tmp_path, bad)


def test_points_csv_reading(tmp_path):
    good = tmp_path / "p.csv"
    good.write_text("x,y\n0,0\n1,2.5\n-3e-1,4\n")
    pts = load_points_csv(good)
    assert pts.points.shape == (3, 2) and float(pts.points[2, 0]) == pytest.approx(-0.3)
    assert load_points_csv(io.BytesIO(b"1,2\n3,4\n")).points.shape == (2, 2)
    for text, message in (("1,2,3\n4,5,6\n", "3 columns"), ("1,2\n", "has 1 point;"), ("a,b\nc,d\n", "could not read"),
                          ("1,nan\n2,3\n", "NaN")):
        with pytest.raises(DataError, match=message):
            load_points_csv(io.BytesIO(text.encode()))


def test_points_runs_resume_bit_identically(tmp_path):
    pts = load_points_csv(io.BytesIO("\n".join(f"{i % 5},{i % 3}" for i in range(50)).encode()))
    cfg = make_config(data="points", seed=1)
    a = Trainer(cfg, device="cpu", dataset=pts)
    a.step(6)
    b = Trainer(cfg, device="cpu", dataset=pts)
    b.step(2)
    b.save(tmp_path / "p.pt")
    c = Trainer.load(tmp_path / "p.pt", device="cpu")
    c.step(4)
    assert torch.equal(a.sample(20, seed=0), c.sample(20, seed=0))


def test_the_manifold_mesh_is_the_image_of_a_regular_z_grid_under_g():
    from ganlab import Trainer, make_config
    from ganlab.latent import prior_quantiles
    from ganlab.plots import MESH, manifold_mesh

    t = Trainer(make_config(data="ring", seed=0), device="cpu")
    t.step(5)
    mesh = manifold_mesh(t)
    assert len(mesh.x) == 2 * MESH * (MESH + 1)                 # 2 * MESH lines of MESH points and a gap each
    q = prior_quantiles(t.config.prior, MESH)
    corner = t.sample(z=torch.stack([q[0], q[0]])[None])[0]
    assert mesh.x[0] == pytest.approx(float(corner[0]), abs=1e-6) and mesh.y[0] == pytest.approx(float(corner[1]), abs=1e-6)


def test_a_latent_slice_is_an_image_grid_of_g_over_a_slice_of_z():
    from ganlab import Trainer, make_config
    from ganlab.plots import image_grid, latent_slice, slice_z

    t = Trainer(make_config(data="digits", seed=0), device="cpu")
    z = torch.randn(t.config.latent_dim)
    grid = latent_slice(t, z, n=4)
    corner = slice_z(z, 4, t.config.prior)[3 * 4]                       # last row, first column
    expected = image_grid(t.sample(z=corner[None]), nrow=1)          # one 8x8 image, no border
    stride = 8 + 2                                                       # a tile and its 2-pixel border
    assert grid.shape[:2] == (4 * stride + 2, 4 * stride + 2)
    assert (grid[2 + 3 * stride:2 + 3 * stride + 8, 2:10] == expected).all()


def test_with_z_of_two_dims_the_slice_is_the_priors_quantile_grid():
    from ganlab.latent import prior_quantiles
    from ganlab.plots import slice_z

    q = prior_quantiles("normal", 3)
    zz = slice_z(torch.zeros(2), 3, "normal").reshape(3, 3, 2)
    assert torch.equal(zz[..., 0], q[:, None].expand(3, 3)) and torch.equal(zz[..., 1], q[None, :].expand(3, 3))
