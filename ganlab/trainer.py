"""The step-wise, resumable GAN trainer: Algorithm 1 of the paper, one iteration per `step()`.

Shaped for an app as much as for a script: construction does no I/O (image data loads on the first
step), `step(n)` advances exactly n iterations and returns plain numbers, lr / k / G loss change
between steps without a reset, and `state_dict()` holds everything needed to continue
bit-identically (weights, BatchNorm buffers, optimizer moments, the one RNG stream, the history).

>>> t = Trainer(Config(data="ring", seed=0), device="cpu")
>>> t.step(10)["step"]
10
"""

from __future__ import annotations

import contextlib
import copy
import math
import warnings
from dataclasses import asdict

import numpy as np
import torch
from tqdm.auto import tqdm

from .allocator import keep_freed_blocks
from .checkpoint import FORMAT, VERSION, load_checkpoint, save_atomic
from .config import DATASET_SHAPES, Config, config_from_dict
from .data import PointCloud, load_dataset
from .errors import CheckpointError, ConfigError, DivergenceError
from .history import History
from .latent import sample_z
from .losses import d_loss, g_loss, r1_penalty
from .models import build_models, set_dropout_generator

# Per-iteration record, one row of the history tensor. d_real / d_fake are mean D(x) and mean
# D(G(z)) on the last D step's batch; value is the V(D, G) estimate on that batch (-log 4 at the optimum).
HISTORY_KEYS = ("d_loss", "g_loss", "d_real", "d_fake", "value")
N_FIXED_Z = 64  # the fixed noise batch whose samples the app shows sharpening over time


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise ConfigError(f"unknown device {device!r}; choose auto, cpu or cuda") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' was asked for but no CUDA GPU is available; use --device cpu or auto")
    if dev.type not in ("cpu", "cuda"):
        raise ConfigError(f"unsupported device {device!r}; choose auto, cpu or cuda")
    return dev


@contextlib.contextmanager
def _eval_mode(net: torch.nn.Module):
    """Eval mode (BatchNorm running statistics, no dropout) for a block, then the previous mode."""
    was_training = net.training
    net.eval()
    try:
        yield net
    finally:
        net.train(was_training)


class Trainer:
    def __init__(self, config: Config, device: str | torch.device = "auto", data_root=None, dataset=None,
                 compile: bool = False):
        """`dataset` overrides loading `config.data` by name; it is required for data "points".
        `compile=True` runs the training passes through `torch.compile` (opt-in: it costs a compile
        of tens of seconds up front and pays only on long runs; docs/performance.md)."""
        if config.data == "points" and dataset is None:
            raise ConfigError("data 'points' needs its points: pass dataset=load_points_csv(...)")
        self.config = config
        self.device = resolve_device(device)
        if self.device.type == "cpu":
            keep_freed_blocks()         # reuse activation buffers instead of faulting in new pages
        self.data_root = data_root
        self.G, self.D = build_models(config)
        self.G.to(self.device)
        self.D.to(self.device)
        # The training passes go through these; the compiled wrappers share the modules' parameters,
        # so state_dict(), sampling and checkpoints see the plain modules.
        self._g, self._d = (torch.compile(self.G), torch.compile(self.D)) if compile else (self.G, self.D)
        # One generator feeds every random draw of training (batch indices, toy samples, z, dropout
        # masks): its state is the whole randomness a checkpoint must carry.
        self.rng = torch.Generator(self.device).manual_seed(config.seed)
        set_dropout_generator(self.D, self.rng)
        self.opt_g = self._make_optimizer(self.G, config.lr_g)
        self.opt_d = self._make_optimizer(self.D, config.lr_d)
        # Noise for views is drawn on the CPU and moved: CPU and CUDA generators give different
        # streams for one seed, and a seed should show the same samples on every device.
        fixed = torch.Generator().manual_seed(config.seed + 1)
        self.fixed_z = sample_z(N_FIXED_Z, config.latent_dim, config.prior, fixed).to(self.device)
        self.step_count = 0
        self._history = History(len(HISTORY_KEYS), self.device)
        self._data = None if dataset is None else dataset.to(self.device)
        self.G_ema = None
        self._sync_ema_to_config()

    # ----------------------------------------------------------------- set-up
    def _make_optimizer(self, net: torch.nn.Module, lr: float) -> torch.optim.Optimizer:
        cfg = self.config
        if cfg.optimizer == "adam":
            make = lambda **kw: torch.optim.Adam(net.parameters(), lr=lr, betas=(cfg.beta1, cfg.beta2), **kw)  # noqa: E731
        else:
            make = lambda **kw: torch.optim.SGD(net.parameters(), lr=lr, momentum=cfg.momentum, **kw)  # noqa: E731
        # One fused kernel per step instead of a Python loop over parameters: +28 % it/s for the seed
        # MLPs at batch 64 on one CPU thread (34.8 -> 44.7). Older torch builds lack it on CPU.
        try:
            return make(fused=True)
        except (RuntimeError, TypeError, ValueError):
            return make(foreach=True)

    # ------------------------------------------------------- weight average
    def _sync_ema_to_config(self, start: torch.nn.Module | None = None) -> None:
        """Hold an average of G's weights while `config.ema` > 0 (started from `start`, else from G
        as it is now); drop it when `ema` is 0."""
        if not self.config.ema:
            self.G_ema = None
            return
        if self.G_ema is None or start is not None:
            self.G_ema = (start if start is not None else copy.deepcopy(self.G)).requires_grad_(False)
        ema, live = self.G_ema.state_dict(), self.G.state_dict()    # views of the same storage
        self._ema_float = ([ema[k] for k in ema if ema[k].is_floating_point()],
                           [live[k] for k in ema if ema[k].is_floating_point()])
        self._ema_other = [(ema[k], live[k]) for k in ema if not ema[k].is_floating_point()]

    def _update_ema(self) -> None:
        # Averaging G's iterates (Yazici et al., 2019, "The Unusual Effectiveness of Averaging in
        # GAN Training"): simultaneous gradient play circles around an equilibrium rather than
        # settling on it, and the average of the circling weights samples closer to it. The decay
        # warms up as (1 + t) / (10 + t) so a young run's average is not held at its random init.
        t = self.step_count
        decay = min(self.config.ema, (1 + t) / (10 + t))
        torch._foreach_lerp_(self._ema_float[0], self._ema_float[1], 1.0 - decay)
        for avg, now in self._ema_other:                      # e.g. BatchNorm's batch counter
            avg.copy_(now)

    @property
    def sample_net(self) -> torch.nn.Module:
        """The generator that samples, views and metrics use: the weight average when `ema` > 0."""
        return self.G_ema if self.G_ema is not None else self.G

    @property
    def data(self):
        """The training data on the device, in G's output range (loaded on first use)."""
        if self._data is None:
            data = load_dataset(self.config.data, self.data_root, train=True, device=self.device)
            if data.is_image and self.G.out_range is not None:
                data = data.for_training(*self.G.out_range)
            self._data = data
        return self._data

    @property
    def data_loaded(self) -> bool:
        return self._data is not None

    def rates(self, step: int | None = None) -> dict[str, float]:
        """lr_g, lr_d and (SGD) momentum in force at iteration `step` (default: the next one).

        The paper's schedule (DESIGN §1): the learning rates are divided by `lr_decay` every step and
        the momentum moves linearly from `momentum` to `momentum_end` over `momentum_steps` steps.
        A function of the step count alone, so a resumed run continues it exactly."""
        cfg, t = self.config, self.step_count if step is None else step
        # exp/log rather than decay ** -t: the same value, and it underflows to 0 instead of raising.
        scale = math.exp(-t * math.log(cfg.lr_decay))
        ramp = min(1.0, t / cfg.momentum_steps) if cfg.momentum_steps else 0.0
        return {"lr_g": cfg.lr_g * scale, "lr_d": cfg.lr_d * scale,
                "momentum": cfg.momentum + (cfg.momentum_end - cfg.momentum) * ramp}

    def _apply_rates(self) -> None:
        rates = self.rates()
        for opt, lr in ((self.opt_g, rates["lr_g"]), (self.opt_d, rates["lr_d"])):
            for group in opt.param_groups:
                group["lr"] = lr
                if "momentum" in group:
                    group["momentum"] = rates["momentum"]

    def update(self, **changes) -> None:
        """Change lr_g, lr_d, k, loss, batch_size, betas, momentum, their schedule, ema or r1 (r1_every) in place, between steps.

        Fields that define the networks or the data need a new Trainer and are refused by name.
        """
        new = self.config.replace(**changes)
        structural = self.config.structural_diff(new)
        if structural:
            raise ConfigError(f"changing {', '.join(structural)} needs a new run (the networks or data change); "
                              f"build a new Trainer")
        self.config = new
        self._sync_ema_to_config()
        for opt in (self.opt_g, self.opt_d):
            for group in opt.param_groups:
                if "betas" in group:
                    group["betas"] = (new.beta1, new.beta2)
        self._apply_rates()

    # ------------------------------------------------------------- training
    def _iteration(self, record: torch.Tensor) -> None:
        """One iteration of Algorithm 1: k steps ascending V in D, then one G step; its metrics go
        into `record` (a row on the device: no host sync)."""
        cfg, m = self.config, self.config.batch_size
        if cfg.lr_decay != 1 or cfg.momentum_steps:
            self._apply_rates()
        # bf16 autocast covers the forward passes only; logits go back to fp32 before the losses,
        # whose log-sigmoids need the range, and optimizer state stays fp32.
        autocast = torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=cfg.precision == "bf16")
        for j in range(cfg.k):
            # Lazy R1 (Karras et al., 2020, StyleGAN2 Sec. 3.1): the penalty on every r1_every-th D step,
            # weighted by r1_every, moves D the same on average at a fraction of the double backwards.
            # A function of the step count, so a resumed run penalises the same steps.
            penalise = cfg.r1 > 0 and (self.step_count * cfg.k + j) % cfg.r1_every == 0
            # The penalty needs a double backward, which torch.compile does not do: plain D for it.
            d_net = self.D if penalise else self._d
            real = self.data.sample(m, self.rng).requires_grad_(penalise)
            z = sample_z(m, cfg.latent_dim, cfg.prior, self.rng)
            with torch.no_grad(), autocast:
                fake = self._g(z)
            # One D pass over [real; fake]: D has no batch statistics, so this equals two passes.
            with autocast:
                logits = d_net(torch.cat([real, fake.to(real.dtype)])).float()
            real_logits, fake_logits = logits[:m], logits[m:]
            loss_d = d_loss(real_logits, fake_logits)      # recorded without the penalty: -V, as before
            loss = loss_d + 0.5 * cfg.r1 * cfg.r1_every * r1_penalty(real_logits, real) if penalise else loss_d
            self.opt_d.zero_grad(set_to_none=True)
            loss.backward()
            self.opt_d.step()
            self.D.constrain()

        z = sample_z(m, cfg.latent_dim, cfg.prior, self.rng)
        self.D.requires_grad_(False)    # G's step needs gradients through D, not D's own weight grads
        with autocast:
            fake_logits_g = self._d(self._g(z)).float()
        loss_g = g_loss(fake_logits_g, cfg.loss)
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.opt_g.step()
        self.D.requires_grad_(True)
        if self.G_ema is not None:
            self._update_ema()

        with torch.no_grad():
            record.copy_(torch.stack([loss_d, loss_g, torch.sigmoid(real_logits).mean(),
                                      torch.sigmoid(fake_logits).mean(), -loss_d]))
        self.step_count += 1

    def step(self, n: int = 1) -> dict:
        """Advance `n` iterations; return the step count and each history key's mean over them.

        This reads the results back once (a host sync on CUDA); call it with n in the tens for speed.
        If any loss became NaN/inf, the trainer is rolled back to its state before this call and
        `DivergenceError` names the first bad step.
        """
        if n < 1:
            raise ConfigError(f"step(n) needs n >= 1, got {n}")
        start, saved = self.step_count, self._snapshot()
        self.G.train()
        self.D.train()
        rows = torch.empty(n, len(HISTORY_KEYS), device=self.device)
        for i in range(n):
            self._iteration(rows[i])
        finite = torch.isfinite(rows).all(dim=1)
        if not bool(finite.all()):
            bad = start + 1 + int((~finite).nonzero()[0])
            self._restore(saved)
            raise DivergenceError(f"losses became NaN/inf at step {bad}; rolled back to step {start}, the last "
                                  f"good state; lower the learning rates (lr_g={self.config.lr_g:g}, "
                                  f"lr_d={self.config.lr_d:g}) and resume")
        self._history.extend(rows)      # only good rows are ever recorded
        return {"step": self.step_count, **dict(zip(HISTORY_KEYS, rows.mean(0).tolist()))}

    def train(self, n: int, callback=None, chunk: int = 100, every: int | None = None,
              progress: bool = True) -> dict:
        """Run `n` iterations in chunks of `step()`, with a progress bar.

        Chunks end at multiples of `chunk` and of `every`, so `callback(trainer, stats)`, called
        after each chunk, sees exactly the steps a periodic checkpoint wants.
        """
        stats = {}
        with tqdm(total=n, disable=not progress, unit="it", dynamic_ncols=True) as bar:
            done = 0
            while done < n:
                size = min(n - done, chunk - self.step_count % chunk)
                if every:
                    size = min(size, every - self.step_count % every)
                stats = self.step(size)
                done += size
                bar.update(size)
                bar.set_postfix(d_loss=f"{stats['d_loss']:.3f}", g_loss=f"{stats['g_loss']:.3f}")
                if callback is not None:
                    callback(self, stats)
        return stats

    # ------------------------------------------------------------- outputs
    def history(self, start: int = 0, stop: int | None = None, max_rows: int | None = None) -> dict[str, np.ndarray]:
        """The record of iterations [start, stop) as numpy arrays keyed by HISTORY_KEYS, plus "step"
        (the last iteration each row covers, 1-based), in one device->host copy.

        One row per iteration for the first 65,536 iterations; past that, rows are means over a
        power-of-two number of iterations, so memory stays bounded (`ganlab.history`). `max_rows`
        thins the rows on the device before the copy, for plots."""
        view = self._history.view(start, stop, max_rows)
        return {"step": view["step"], **{k: view["rows"][:, i] for i, k in enumerate(HISTORY_KEYS)}}

    @torch.inference_mode()
    def sample(self, n: int | None = None, seed: int | None = None, z: torch.Tensor | None = None) -> torch.Tensor:
        """Samples from G in eval mode (BatchNorm running statistics), on the CPU.

        Images come back as (n, C, H, W) in [0, 1]; toy data as (n, d). With neither n nor z, the
        fixed noise batch is used. The training RNG is never touched.
        """
        cfg = self.config
        if z is None:
            if n is None:
                z = self.fixed_z
            else:
                gen = torch.Generator().manual_seed(cfg.seed if seed is None else seed)   # CPU: same z on any device
                z = sample_z(n, cfg.latent_dim, cfg.prior, gen)
        net = self.sample_net
        with _eval_mode(net):
            x = net(z.to(self.device)).float().cpu()
        if cfg.is_image:
            if self.G.out_range is not None:
                lo, hi = self.G.out_range
                x = ((x - lo) / (hi - lo)).clamp_(0.0, 1.0)
            x = x.reshape(len(x), *DATASET_SHAPES[cfg.data])
        return x

    @torch.inference_mode()
    def d_prob(self, x: torch.Tensor) -> torch.Tensor:
        """D(x) in eval mode (no dropout) for x of shape (n, dim), on the CPU."""
        with _eval_mode(self.D):
            return torch.sigmoid(self.D(x.to(self.device, torch.float32))).float().cpu()

    # ---------------------------------------------------------- state / I/O
    def state_dict(self) -> dict:
        return {
            "format": FORMAT,
            "version": VERSION,
            "config": asdict(self.config),
            "step": self.step_count,
            "G": self.G.state_dict(),
            "D": self.D.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "rng": {"device": self.device.type, "state": self.rng.get_state()},
            "fixed_z": self.fixed_z.cpu(),
            **({"G_ema": self.G_ema.state_dict()} if self.G_ema is not None else {}),
            **self._history.state(),     # "history" rows and their "history_stride"
            # A user's own point set cannot be reloaded by name, so it travels with the run.
            **({"points": self.data.points.cpu()} if self.config.data == "points" else {}),
        }

    def load_state_dict(self, sd: dict) -> None:
        cfg = config_from_dict(sd["config"])
        diff = self.config.structural_diff(cfg)
        if diff:
            raise CheckpointError(f"checkpoint does not fit this trainer: {', '.join(diff)} differ")
        # Checked before anything is changed, so a refused file leaves this trainer as it was.
        step, rng, fixed_z = sd["step"], sd["rng"], sd["fixed_z"]
        if isinstance(step, torch.Tensor) and step.numel() == 1 and not step.is_floating_point():
            step = int(step)
        if isinstance(step, bool) or not isinstance(step, int) or step < 0:
            raise CheckpointError(f"checkpoint step must be an integer >= 0, got {step!r}")
        if not (isinstance(rng, dict) and isinstance(rng.get("state"), torch.Tensor) and rng["state"].dtype == torch.uint8
                and rng.get("device") in ("cpu", "cuda")
                and (rng["device"] != self.device.type or rng["state"].shape == self.rng.get_state().shape)):
            raise CheckpointError("checkpoint rng is not a generator state ({'device': 'cpu'|'cuda', 'state': uint8 tensor})")
        if not isinstance(fixed_z, torch.Tensor) or fixed_z.shape != self.fixed_z.shape:
            raise CheckpointError(f"checkpoint fixed_z must have shape {tuple(self.fixed_z.shape)}")
        rows = sd["history"]
        if not isinstance(rows, torch.Tensor) or rows.ndim != 2 or rows.shape[1] != len(HISTORY_KEYS):
            raise CheckpointError(f"checkpoint history is not a (rows, {len(HISTORY_KEYS)}) tensor")
        history = History.from_state(rows, sd.get("history_stride", 1), step, self.device)
        try:
            self.G.load_state_dict(sd["G"])
            self.D.load_state_dict(sd["D"])
            self.opt_g.load_state_dict(sd["opt_g"])
            self.opt_d.load_state_dict(sd["opt_d"])
            # A file from before `ema` was switched on starts its average at its G.
            ema = copy.deepcopy(self.G).requires_grad_(False) if cfg.ema else None
            if ema is not None and sd.get("G_ema") is not None:
                ema.load_state_dict(sd["G_ema"])
        except (RuntimeError, ValueError, KeyError, AttributeError, TypeError) as exc:
            raise CheckpointError(f"checkpoint weights do not fit the model: {str(exc).splitlines()[0][:200]}") from None
        self.config = cfg
        self._sync_ema_to_config(start=ema)
        rng = sd["rng"]
        if rng["device"] == self.device.type:
            self.rng.set_state(rng["state"].cpu())
        else:
            # CPU and CUDA generators have different states; the stream cannot continue exactly.
            warnings.warn(f"checkpoint was trained on {rng['device']}, resuming on {self.device.type}: "
                          f"random stream reseeded, so this run is not bit-identical to an uninterrupted one")
            self.rng.manual_seed(cfg.seed + step)
        self.fixed_z = sd["fixed_z"].to(self.device)
        self._history = history
        self.step_count = step

    def save(self, path) -> None:
        """Write a checkpoint atomically (temp file + rename)."""
        save_atomic(self.state_dict(), path)

    @classmethod
    def load(cls, path, device: str | torch.device = "auto", data_root=None, compile: bool = False) -> "Trainer":
        """Rebuild a trainer from a checkpoint file, ready to `step()` on."""
        dev = resolve_device(device)
        sd = load_checkpoint(path, map_location=dev)
        try:
            cfg = config_from_dict(sd["config"])
        except ConfigError as exc:
            raise CheckpointError(f"{path} holds an invalid config: {exc}") from None
        dataset = None
        if cfg.data == "points":
            points = sd.get("points")
            if not isinstance(points, torch.Tensor) or points.ndim != 2 or points.shape[1] != 2 or len(points) < 2:
                raise CheckpointError(f"{path} is a 'points' run without a valid (N, 2) points tensor")
            dataset = PointCloud(points.float())
        trainer = cls(cfg, device=dev, data_root=data_root, dataset=dataset, compile=compile)
        try:
            trainer.load_state_dict(sd)
        except CheckpointError as exc:
            raise CheckpointError(f"{path}: {exc}") from None
        return trainer

    # ------------------------------------------------------------- internals
    def _snapshot(self) -> dict:
        """In-memory copy of what a rollback needs (the history only records a call once it succeeds)."""
        return copy.deepcopy({"G": self.G.state_dict(), "D": self.D.state_dict(),
                              "G_ema": self.G_ema.state_dict() if self.G_ema is not None else None,
                              "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(),
                              "rng": self.rng.get_state(), "step": self.step_count})

    def _restore(self, snap: dict) -> None:
        self.G.load_state_dict(snap["G"])
        self.D.load_state_dict(snap["D"])
        if self.G_ema is not None and snap["G_ema"] is not None:
            self.G_ema.load_state_dict(snap["G_ema"])
        self.opt_g.load_state_dict(snap["opt_g"])
        self.opt_d.load_state_dict(snap["opt_d"])
        self.rng.set_state(snap["rng"])
        self.step_count = snap["step"]
