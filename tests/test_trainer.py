import copy
import math
from dataclasses import asdict

import numpy as np
import pytest
import torch

from conftest import same_weights_and_moments

from ganlab import ConfigError, DivergenceError, HISTORY_KEYS, Trainer, make_config
from ganlab.config import Config
from ganlab.data import load_dataset
from ganlab.metrics import mode_coverage


def states_equal(a: Trainer, b: Trainer) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    flat = lambda sd: {k: v for k, v in _flatten(sd)}  # noqa: E731
    fa, fb = flat(sa), flat(sb)
    return fa.keys() == fb.keys() and all(
        torch.equal(fa[k], fb[k]) if isinstance(fa[k], torch.Tensor) else fa[k] == fb[k] for k in fa)


def _flatten(obj, prefix=""):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _flatten(v, f"{prefix}/{k}")
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            yield from _flatten(v, f"{prefix}/{i}")
    else:
        yield prefix, obj


def test_step_runs_n_iterations_and_returns_plain_numbers():
    t = Trainer(make_config(data="ring", seed=0), device="cpu")
    out = t.step(7)
    assert out["step"] == 7 == t.step_count
    assert set(out) == {"step", *HISTORY_KEYS} and all(isinstance(v, (int, float)) for v in out.values())
    h = t.history()
    assert all(len(v) == 7 for v in h.values())
    assert out["d_loss"] == pytest.approx(float(h["d_loss"].mean()), rel=1e-5)
    assert h["value"] == pytest.approx(-h["d_loss"])


def test_each_iteration_takes_k_d_steps_and_one_g_step():
    t = Trainer(make_config(data="ring", k=3, seed=0), device="cpu")
    t.step(4)
    d_steps = t.opt_d.state[next(t.D.parameters())]["step"]
    g_steps = t.opt_g.state[next(t.G.parameters())]["step"]
    assert (int(d_steps), int(g_steps)) == (12, 4)


def test_g_step_computes_no_gradients_for_ds_weights():
    t = Trainer(make_config(data="ring", k=1, seed=0), device="cpu")
    t.step(1)                                           # data loaded, optimizer state created
    counts = {i: 0 for i, _ in enumerate(t.D.parameters())}
    hooks = [p.register_hook(lambda g, i=i: counts.__setitem__(i, counts[i] + 1))
             for i, p in enumerate(t.D.parameters())]
    t.step(1)
    for h in hooks:
        h.remove()
    assert set(counts.values()) == {1}                  # D's own step only, nothing from G's step
    assert all(p.requires_grad for p in t.D.parameters())


def test_lr_k_and_loss_change_between_steps_without_a_reset():
    t = Trainer(make_config(data="ring", seed=0), device="cpu")
    t.step(3)
    weights = [p.detach().clone() for p in t.G.parameters()]
    t.update(lr_g=5e-4, lr_d=2e-3, k=2, loss="minimax")
    assert t.step_count == 3 and all(torch.equal(a, b) for a, b in zip(weights, t.G.parameters()))
    assert t.opt_g.param_groups[0]["lr"] == 5e-4 and t.opt_d.param_groups[0]["lr"] == 2e-3
    assert t.config.k == 2 and t.config.loss == "minimax"
    t.step(2)
    assert int(t.opt_d.state[next(t.D.parameters())]["step"]) == 3 + 4
    with pytest.raises(ConfigError, match="changing latent_dim needs a new run"):
        t.update(latent_dim=4)
    with pytest.raises(ConfigError, match="lr_g must be a finite number > 0"):
        t.update(lr_g=-1.0)


@pytest.mark.parametrize("overrides", [
    dict(data="ring"),
    dict(data="digits", model="seed", batch_size=32),       # BatchNorm running stats
    dict(data="digits", model="paper", batch_size=32),      # dropout masks, SGD momentum, uniform z
    dict(data="gaussian1d", k=2, loss="minimax"),
    dict(data="digits", model="paper", batch_size=32, lr_decay=1.05, momentum_end=0.9, momentum_steps=8),
    dict(data="digits", model="seed", batch_size=32, ema=0.9),   # G's weight average, BatchNorm buffers too
    dict(data="grid", r1=1.0),                                   # the gradient penalty's double backward
    dict(data="grid", r1=1.0, r1_every=4),                       # lazy R1: the resume falls mid-period
    dict(data="ring", cond="input", k=2),                        # conditional: labels from the one stream
    dict(data="digits", model="paper", batch_size=32, cond="projection", ema=0.9),
    # a semi-supervised D: labelled batches, Gaussian noise and feature matching from the one stream,
    # its data-dependent initialisation done once
    dict(data="digits", model="improved-gan", batch_size=32, semi_labels=50, ema=0.9),
])
def test_resume_is_bit_identical_to_an_uninterrupted_run(tmp_path, overrides):
    cfg = make_config(seed=3, **overrides)
    straight = Trainer(cfg, device="cpu")
    straight.step(12)
    first = Trainer(cfg, device="cpu")
    first.step(5)
    first.save(tmp_path / "half.pt")
    resumed = Trainer.load(tmp_path / "half.pt", device="cpu")
    resumed.step(7)
    assert states_equal(straight, resumed)
    assert torch.equal(straight.sample(16, seed=1), resumed.sample(16, seed=1))


def test_checkpoint_loads_with_weights_only_and_holds_the_contract(tmp_path):
    t = Trainer(make_config(data="ring", seed=0), device="cpu")
    t.step(5)
    t.save(tmp_path / "c.pt")
    sd = torch.load(tmp_path / "c.pt", weights_only=True, map_location="cpu")
    assert sd["format"] == "ganlab-checkpoint" and sd["version"] == 2 and sd["step"] == 5
    assert sd["config"]["data"] == "ring" and sd["history"].shape == (5, len(HISTORY_KEYS))
    assert {"G", "D", "opt_g", "opt_d", "rng", "fixed_z"} <= set(sd)
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]      # no temp files left behind


def test_sampling_does_not_disturb_training():
    a = Trainer(make_config(data="ring", seed=0), device="cpu")
    b = Trainer(make_config(data="ring", seed=0), device="cpu")
    a.step(3)
    a.sample(100)
    a.sample()
    a.step(3)
    b.step(6)
    assert states_equal(a, b)


def test_image_samples_are_in_unit_range_with_image_shape():
    t = Trainer(make_config(data="digits", batch_size=16), device="cpu")
    t.step(2)
    x = t.sample(10)
    assert x.shape == (10, 1, 8, 8) and float(x.min()) >= 0 and float(x.max()) <= 1
    assert t.sample().shape == (64, 1, 8, 8)          # the fixed z batch


def test_history_grows_past_its_initial_buffer():
    t = Trainer(make_config(data="gaussian1d", batch_size=8, hidden=8, depth=1), device="cpu")
    t.step(1100)
    assert len(t.history()["g_loss"]) == 1100
    assert len(t.history(start=1000)["g_loss"]) == 100


def test_divergence_rolls_back_to_the_last_good_state():
    t = Trainer(make_config(data="ring", optimizer="sgd", momentum=0.9, ema=0.9, seed=0), device="cpu")
    t.step(5)
    good = t.state_dict()
    good_weights = [p.detach().clone() for p in [*t.D.parameters(), *t.G_ema.parameters()]]
    t.update(lr_d=1e30, lr_g=1e30)
    with pytest.raises(DivergenceError, match=r"NaN/inf at step \d+; rolled back to step 5"):
        t.step(50)
    assert t.step_count == 5 and len(t.history()["d_loss"]) == 5
    assert all(torch.equal(a, p) for a, p in zip(good_weights, [*t.D.parameters(), *t.G_ema.parameters()]))
    assert torch.equal(t.rng.get_state(), good["rng"]["state"])
    t.update(lr_d=1e-3, lr_g=1e-3)                     # and training can go on
    assert math.isfinite(t.step(5)["d_loss"])


def test_a_second_rollback_restores_the_state_before_its_own_call():
    # The rollback copy is kept in reused buffers: after one rollback, training must not write into
    # the buffers the next rollback restores from.
    t = Trainer(make_config(data="ring", seed=0), device="cpu")
    t.step(5)
    t.update(lr_d=1e30, lr_g=1e30)
    with pytest.raises(DivergenceError):
        t.step(20)
    t.update(lr_d=1e-3, lr_g=1e-3)
    t.step(3)
    good = copy.deepcopy(t.state_dict())
    t.update(lr_d=1e30, lr_g=1e30)
    with pytest.raises(DivergenceError, match="rolled back to step 8"):
        t.step(20)
    assert same_weights_and_moments(good, t.state_dict())
    assert torch.equal(t.rng.get_state(), good["rng"]["state"])


def test_auto_device_is_cpu_without_cuda_and_cuda_is_refused_cleanly():
    t = Trainer(make_config(data="ring"), device="auto")
    assert t.device.type == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="no CUDA GPU is available"):
            Trainer(make_config(data="ring"), device="cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_training_runs_and_checkpoints_load_on_cpu(tmp_path):
    t = Trainer(make_config(data="digits", batch_size=32), device="cuda")
    t.step(20)
    t.save(tmp_path / "g.pt")
    with pytest.warns(UserWarning, match="random stream reseeded"):
        cpu = Trainer.load(tmp_path / "g.pt", device="cpu")
    # One seed, one z on every device; only the float kernels differ.
    assert torch.allclose(cpu.sample(8, seed=0), t.sample(8, seed=0), atol=1e-4)
    assert torch.equal(cpu.fixed_z, t.fixed_z.cpu())
    cpu.step(5)                                          # and it trains on from there


@pytest.mark.slow
def test_a_short_run_on_ring_covers_most_modes():
    """A learning test: 2,000 iterations of the default toy setup (about 10 s on 2 CPU cores)."""
    t = Trainer(make_config(data="ring", seed=0), device="cpu")
    ring = load_dataset("ring")
    before = mode_coverage(t.sample(2500, seed=0), ring.centres, ring.std)
    t.step(2000)
    after = mode_coverage(t.sample(2500, seed=0), ring.centres, ring.std)
    assert before["modes_covered"] <= 1
    assert after["modes_covered"] >= 6, after
    assert after["high_quality_fraction"] > 0.05, after


@pytest.mark.slow
def test_the_grid_presets_r1_penalty_keeps_every_mode_on_the_seed_the_plain_game_collapses():
    """Seed 4 of `grid` is where the plain game (r1 = 0) loses modes within its first 2,000 iterations
    and never wins them back (docs/results.md); with the preset's R1 penalty all 25 modes hold, and
    evenly. 8,000 iterations at lr 1e-3 each, about 40 s on 2 CPU cores."""
    grid = load_dataset("grid")
    cover = {}
    for r1 in (1.0, 0.0):
        t = Trainer(make_config(data="grid", seed=4, r1=r1), device="cpu")
        t.step(8000)
        cover[r1] = mode_coverage(t.sample(2500, seed=0), grid.centres, grid.std)
    assert make_config(data="grid").r1 == 1.0
    assert cover[1.0]["modes_covered"] == 25 and cover[1.0]["mode_kl_to_uniform"] < 0.15, cover
    assert cover[0.0]["mode_kl_to_uniform"] > 3 * cover[1.0]["mode_kl_to_uniform"], cover


def test_the_papers_schedule_sets_each_steps_lr_and_momentum():
    """lr_t = lr / lr_decay^t and momentum ramps linearly to momentum_end over momentum_steps
    (docs/design.md §1), read off the optimizers as each step runs; the app's lr changes still apply."""
    cfg = make_config(data="digits", model="paper", batch_size=16, lr_g=0.05, lr_d=0.1, lr_decay=1.1,
                      momentum=0.5, momentum_end=0.7, momentum_steps=4)
    t, seen = Trainer(cfg, device="cpu"), []
    step_d = t.opt_d.step

    def spy():
        seen.append((t.opt_g.param_groups[0]["lr"], t.opt_d.param_groups[0]["lr"], t.opt_d.param_groups[0]["momentum"]))
        step_d()
    t.opt_d.step = spy
    t.step(6)
    for i, (lr_g, lr_d, mom) in enumerate(seen):
        assert lr_g == pytest.approx(0.05 / 1.1**i, rel=1e-12) and lr_d == pytest.approx(0.1 / 1.1**i, rel=1e-12)
        assert mom == pytest.approx(0.5 + 0.2 * min(1, i / 4), rel=1e-12)
    t.update(lr_d=0.2)                                   # the step-0 rate changes; the decay goes on
    assert t.opt_d.param_groups[0]["lr"] == pytest.approx(0.2 / 1.1**6, rel=1e-12)
    assert t.rates(10**9)["lr_g"] == 0.0 and t.rates(10**9)["momentum"] == pytest.approx(0.7)
    plain = Trainer(make_config(data="digits", model="paper", batch_size=16, lr_decay=1.0, momentum_steps=0), device="cpu")
    plain.step(3)
    assert plain.opt_d.param_groups[0]["lr"] == 0.1 and plain.opt_d.param_groups[0]["momentum"] == 0.5


def test_the_weight_average_follows_its_recurrence_and_is_what_samples_come_from():
    """G_ema = d * G_ema + (1 - d) * G after each G step, d = min(ema, (1 + t) / (10 + t)); samples,
    views and metrics use the average; training uses G itself."""
    t = Trainer(make_config(data="ring", ema=0.5, seed=1), device="cpu")
    expected = [p.detach().clone() for p in t.G.parameters()]
    for step in range(6):
        t.step(1)
        d = min(0.5, (1 + step) / (10 + step))
        expected = [d * e + (1 - d) * p.detach() for e, p in zip(expected, t.G.parameters())]
    for e, a in zip(expected, t.G_ema.parameters()):
        assert torch.allclose(e, a, atol=1e-6)
    z = torch.randn(32, t.config.latent_dim)
    with torch.no_grad():
        assert torch.allclose(t.sample(z=z), t.G_ema(z), atol=1e-6)
        assert not torch.allclose(t.sample(z=z), t.G(z), atol=1e-4)


def test_the_weight_average_can_be_switched_on_and_off_and_old_files_start_it_at_g(tmp_path):
    t = Trainer(make_config(data="ring", seed=2, ema=0.0), device="cpu")
    t.step(5)
    t.save(tmp_path / "plain.pt")
    assert t.G_ema is None and "G_ema" not in t.state_dict()
    t.update(ema=0.99)                                         # on: starts from G as it is
    assert all(torch.equal(a, b) for a, b in zip(t.G_ema.parameters(), t.G.parameters()))
    t.step(3)
    assert "G_ema" in t.state_dict()
    t.update(ema=0.0)
    assert t.G_ema is None
    cfg = Trainer.load(tmp_path / "plain.pt", device="cpu").config.replace(ema=0.999)
    resumed = Trainer(cfg, device="cpu")                       # a run from before ema, with it switched on
    resumed.load_state_dict({**torch.load(tmp_path / "plain.pt", weights_only=True), "config": asdict(cfg)})
    assert all(torch.equal(a, b) for a, b in zip(resumed.G_ema.parameters(), resumed.G.parameters()))


def test_r1_adds_half_gamma_times_ds_squared_slope_at_real_data_to_ds_loss():
    """With plain SGD, D's step must be -lr * grad of [-V + (gamma/2) mean ||grad_x D(x)||^2 over the
    real batch], computed here with torch.func (per-point slopes by vmap), not the trainer's code."""
    from torch.func import functional_call, grad, vmap

    from ganlab.latent import sample_z
    from ganlab.losses import d_loss

    cfg = make_config(data="ring", optimizer="sgd", momentum=0.0, lr_d=0.1, r1=2.0, batch_size=16, seed=5)
    t = Trainer(cfg, device="cpu")
    before = {n: p.detach().clone() for n, p in t.D.named_parameters()}
    gen = torch.Generator().manual_seed(0)
    gen.set_state(t.rng.get_state())               # replay the trainer's draws: real batch, then z
    real = t.data.sample(16, gen)
    with torch.no_grad():
        fake = t.G(sample_z(16, cfg.latent_dim, cfg.prior, gen))

    def loss(p):
        logit = lambda x: functional_call(t.D, p, (x[None],))[0]      # noqa: E731  D's logit at one point
        slopes = vmap(grad(logit))(real)                               # (16, 2)
        v = d_loss(functional_call(t.D, p, (real,)), functional_call(t.D, p, (fake,)))
        return v + 0.5 * 2.0 * slopes.square().sum(1).mean()

    expected = {n: before[n] - 0.1 * g for n, g in grad(loss)(before).items()}
    plain = Trainer(cfg.replace(r1=0.0), device="cpu")
    t.step(1)
    plain.step(1)
    for n, p in t.D.named_parameters():
        assert torch.allclose(p, expected[n], atol=1e-6), n
    assert any((p - q).abs().max() > 1e-4 for p, q in zip(t.D.parameters(), plain.D.parameters()))


def test_lazy_r1_penalises_every_nth_d_step_with_n_times_the_weight_and_no_other():
    """r1_every = 3: steps 1 and 4 are the steps of gamma = 6 applied every time; steps 2 and 3 are
    plain steps (the penalty switched off in place), bit for bit."""
    cfg = make_config(data="ring", r1=2.0, r1_every=3, seed=2)
    lazy = Trainer(cfg, device="cpu")
    lazy.step(4)
    ref = Trainer(cfg.replace(r1=6.0, r1_every=1), device="cpu")
    for r1, n in ((6.0, 1), (0.0, 2), (6.0, 1)):
        ref.update(r1=r1)
        ref.step(n)
    assert all(torch.equal(p, q) for p, q in zip(lazy.D.parameters(), ref.D.parameters()))
    every = Trainer(cfg.replace(r1_every=1), device="cpu")
    every.step(4)
    assert any(not torch.equal(p, q) for p, q in zip(lazy.D.parameters(), every.D.parameters()))


def test_fused_optimizers_match_the_plain_for_loop_within_float_tolerance():
    fast = Trainer(make_config(data="digits", batch_size=32, seed=4), device="cpu")
    plain = Trainer(make_config(data="digits", batch_size=32, seed=4), device="cpu")
    cfg = plain.config
    plain.opt_g = torch.optim.Adam(plain.G.parameters(), lr=cfg.lr_g, betas=(cfg.beta1, cfg.beta2), foreach=False)
    plain.opt_d = torch.optim.Adam(plain.D.parameters(), lr=cfg.lr_d, betas=(cfg.beta1, cfg.beta2), foreach=False)
    # A GAN amplifies any rounding difference over time, so compare after 3 steps: each Adam step
    # moves a weight by about lr (2e-4); the two kernels agree to a few % of one step.
    a, b = fast.step(3), plain.step(3)
    assert a["d_loss"] == pytest.approx(b["d_loss"], rel=1e-4)
    for p, q in zip(fast.G.parameters(), plain.G.parameters()):
        assert torch.allclose(p, q, atol=2e-5)


def test_bf16_autocast_trains_close_to_fp32_and_resumes_bit_exactly(tmp_path):
    cfg = make_config(data="digits", batch_size=32, seed=2)
    fp32 = Trainer(cfg, device="cpu")
    bf16 = Trainer(cfg.replace(precision="bf16"), device="cpu")
    a, b = fp32.step(10), bf16.step(10)
    assert all(math.isfinite(v) for v in b.values())
    assert abs(a["d_loss"] - b["d_loss"]) < 0.1
    bf16.save(tmp_path / "b.pt")
    bf16.step(5)
    again = Trainer.load(tmp_path / "b.pt", device="cpu")
    again.step(5)
    assert states_equal(bf16, again)


@pytest.mark.slow
def test_compiled_training_matches_the_plain_path_within_float_tolerance():
    cfg = make_config(data="ring", hidden=32, batch_size=64, seed=3)
    plain, compiled = Trainer(cfg, device="cpu"), Trainer(cfg, device="cpu", compile=True)
    a, b = plain.step(20), compiled.step(20)
    assert a["step"] == b["step"] == 20
    for key in HISTORY_KEYS:
        assert abs(a[key] - b[key]) < 1e-3, (key, a[key], b[key])
    for p, q in zip(plain.G.parameters(), compiled.G.parameters()):
        assert torch.allclose(p, q, atol=1e-4)


def test_an_iteration_in_slow_motion_is_exactly_one_step():
    # k D steps taken alone, then G's step, are Algorithm 1's iteration: same weights, same record.
    cfg = Config(data="ring", k=3, seed=4, r1=1.0, r1_every=2)
    a, b = Trainer(cfg, device="cpu"), Trainer(cfg, device="cpu")
    a.step(2)
    b.step(2)
    a.step(1)
    for _ in range(cfg.k):
        b.d_step()
    assert b.pending_d_steps == cfg.k and b.step_count == 2
    b.g_step()
    assert b.step_count == 3 and b.pending_d_steps == 0
    for x, y in zip([*a.G.parameters(), *a.D.parameters()], [*b.G.parameters(), *b.D.parameters()]):
        assert torch.equal(x, y)
    assert all(np.array_equal(a.history()[k], b.history()[k]) for k in a.history())


def test_a_g_step_alone_moves_only_g_and_a_d_step_alone_moves_only_d():
    t = Trainer(Config(data="ring", seed=0), device="cpu")
    t.step(5)
    g0, d0 = copy.deepcopy(t.G.state_dict()), copy.deepcopy(t.D.state_dict())
    t.d_step()
    assert all(torch.equal(g0[k], v) for k, v in t.G.state_dict().items())
    assert not all(torch.equal(d0[k], v) for k, v in t.D.state_dict().items())
    d1 = copy.deepcopy(t.D.state_dict())
    assert t.g_step()["step"] == 6
    assert all(torch.equal(d1[k], v) for k, v in t.D.state_dict().items())
    assert t.g_step()["step"] == 7              # with no D step before it, D is measured, not stepped
    assert all(torch.equal(d1[k], v) for k, v in t.D.state_dict().items())


def test_a_d_step_alone_that_breaks_d_is_rolled_back_with_the_iterations_d_steps_kept():
    t = Trainer(make_config(data="ring", loss="wgan-gp", gp=0.0, seed=0), device="cpu")
    t.step(2)
    t.d_step()
    before = copy.deepcopy(t.D.state_dict())
    t.update(lr_d=1e38)                          # steps this large soon write inf into D's weights
    assert t.pending_d_steps == 0                # a change of settings ends the iteration's steps taken alone
    t.d_step()
    with pytest.raises(DivergenceError, match="non-finite weights; rolled back"):
        t.d_step()
    assert t.pending_d_steps == 1 and all(torch.isfinite(p).all() for p in t.D.parameters())
    assert not all(torch.equal(before[k], v) for k, v in t.D.state_dict().items())


@pytest.mark.parametrize("loss", ["ls", "hinge", "wgan-gp"])
def test_each_loss_of_the_family_trains_and_records_its_own_value(loss):
    t = Trainer(make_config(data="ring", loss=loss, seed=0), device="cpu")
    stats = t.step(20)
    assert all(math.isfinite(v) for v in stats.values())
    h = t.history()
    if loss == "wgan-gp":               # the recorded value is the critic's distance estimate
        assert np.allclose(h["value"], h["d_real"] - h["d_fake"], atol=1e-5)
    else:                               # -(D's loss)
        assert np.allclose(h["value"], -h["d_loss"], atol=1e-6)


def test_a_loss_that_keeps_ds_meaning_applies_in_place_and_one_that_changes_it_needs_a_new_run():
    t = Trainer(make_config(data="ring", seed=0), device="cpu")
    t.step(2)
    t.update(loss="minimax")
    assert t.config.loss == "minimax"
    with pytest.raises(ConfigError, match="changing loss needs a new run .*D's output another meaning"):
        t.update(loss="hinge")
    critic = Trainer(make_config(data="ring", loss="hinge", seed=0), device="cpu")
    critic.update(loss="wgan-gp", gp=1.0)
    assert critic.step(2)["step"] == 2


def test_each_loss_brings_its_own_settings_unless_given():
    wgan = make_config(data="ring", loss="wgan-gp")
    assert (wgan.k, wgan.beta1, wgan.gp) == (5, 0.0, 1.0)
    assert make_config(data="ring", loss="wgan-gp", k=2).k == 2
    assert make_config(data="ring", loss="ls").lr_g == 5e-4
    assert make_config(data="ring", loss="hinge") == make_config(data="ring").replace(loss="hinge")
