"""The step-wise, resumable GAN trainer: Algorithm 1 of the paper, one iteration per `step()`.

Shaped for an app as much as for a script: construction does no I/O (`load_data()` loads, and the
first step calls it), `step(n)` advances exactly n iterations and returns plain numbers, lr / k / G
loss change between steps without a reset, and `state_dict()` holds everything needed to continue
bit-identically (weights, BatchNorm buffers, optimizer moments, the one RNG stream, the history).

The trainer is the iteration and the state it needs. The objective of each phase is in `losses.py`,
the optimizers and their schedule in `optim.py`, the weight average in `ema.py`, the file format and
its checks in `checkpoint.py`; what the views ask of a run (D on a grid, G's push, classes) in
`probes.py`, sampling in `sampling.py`, class labels in `labels.py`, one step at a time in
`slowmotion.py`. The methods of the same names here call them, for older code.

>>> t = Trainer(Config(data="ring", seed=0), device="cpu")
>>> t.step(10)["step"]
10
"""

from __future__ import annotations

import contextlib

import numpy as np
import torch

from . import distributed, ema, graphs, labels, loop, memory, optim, probes, roles, runstate, sampling, slowmotion
from .allocator import keep_freed_blocks
from .config import Config, needs_new_run
from .data import load_dataset
from .devices import resolve_device
from .errors import ConfigError, DivergenceError, GanlabError
from .history import HISTORY_KEYS, History
from .latent import sample_z
from .lossdefs import LOSS
from .losses import d_display, discriminator_phase, game_value, generator_phase, r1_weight
from .models import build_models, frozen, set_noise_generator
from .sampling import FIXED_PER_CLASS  # noqa: F401  (the app reads it here)
from .snapshot import Snapshot

N_FIXED_Z = 64  # the fixed noise batch whose samples the app shows sharpening over time


class Trainer:
    def __init__(self, config: Config, device: str | torch.device = "auto", data_root=None, dataset=None,
                 compile: bool = False, ranks: distributed.Ranks | None = None, cuda_graph: bool = False,
                 training: bool = True):
        """`dataset` overrides loading `config.data` by name (required for "points"). `compile` runs
        the passes through torch.compile (docs/performance.md), `ranks` makes this one process of a
        torchrun job (distributed.py), `cuda_graph` replays each iteration as one CUDA graph (graphs.py);
        `training=False` builds a trainer only to sample from (its memory check counts the networks)."""
        if config.data == "points" and dataset is None:
            raise ConfigError("data 'points' needs its points: pass dataset=load_points_csv(...)")
        if ranks is not None and (compile or config.semi_labels):
            raise ConfigError("--compile and --semi-labels run in one process only; drop them, or run without torchrun")
        self.config, self.device, self.data_root, self.ranks = config, resolve_device(device), data_root, ranks
        self.compiled, self.cuda_graph, self._graph = compile, False, None
        memory.check_fits(config, memory.device_memory(self.device), training)  # refuse before allocating, not be killed
        if self.device.type == "cpu":
            keep_freed_blocks()         # reuse activation buffers instead of faulting in new pages
        G, D = (net.to(self.device) for net in build_models(config))
        self.G, self.D, self.roles = roles.assign(G, D, compile, ranks, self.device)   # the nets the steps run
        # One generator feeds every random draw of training (batch indices, toy samples, z, dropout
        # masks): its state is the whole randomness a checkpoint must carry. Each rank has its own.
        self.rng = torch.Generator(self.device).manual_seed(
            config.seed if ranks is None else distributed.stream_seed(config.seed, ranks.rank))
        set_noise_generator(self.D, self.rng)
        self.opt_g = optim.make_optimizer(self.G, config, config.lr_g)
        self.opt_d = optim.make_optimizer(self.D, config, config.lr_d)
        if cuda_graph:
            self.use_cuda_graph()
        # Noise for views is drawn on the CPU and moved: CPU and CUDA generators give different
        # streams for one seed, and a seed should show the same samples on every device.
        fixed = torch.Generator().manual_seed(config.seed + 1)
        self.fixed_z = sample_z(N_FIXED_Z, config.latent_dim, config.prior, fixed).to(self.device)
        self.step_count = 0
        self._pending = None            # (D steps taken, last D phase) of an iteration in slow motion
        self._snapshot = Snapshot()     # the state a call that meets NaN/inf rolls back to
        self._history = History(len(HISTORY_KEYS), self.device)
        self._data = None if dataset is None else dataset.to(self.device)
        self.ema = ema.kept(None, self.G, config.ema)
        # A semi-supervised D is also a classifier; Salimans et al. score it with averaged weights.
        self.d_ema = ema.kept(None, self.D, config.ema if config.semi_labels else 0.0)
        self.labelled = self.labelled_index = None    # a semi-supervised D's labelled images (`semi_labels`)
        # The inference net E: x -> z of Sec. 7.2, trained after G on G's own samples (inference.py).
        self.encoder, self.encoder_steps, self.encoder_g_step = None, 0, 0   # E, its steps, G's step then
        self.class_net = None     # a conditional G's class of a partly seen image (classinference.py)
        if self._data is not None:
            labels.adopt_data(self)

    # ------------------------------------------------------------ settings
    def load_data(self):
        """Load the training data onto the device, in G's output range (once); return it."""
        if self._data is None:
            cfg = self.config
            data = load_dataset(cfg.data, self.data_root, train=True, device=self.device, image_size=cfg.image_size,
                                channels=cfg.channels)
            if data.is_image and self.G.out_range is not None:
                data = data.for_training(*self.G.out_range)
            self._data = data
            labels.adopt_data(self)
        return self._data

    data = property(load_data, doc="The training data on the device (loaded on first use).")
    data_loaded = property(lambda self: self._data is not None)

    G_ema = property(lambda self: self.ema.net if self.ema is not None else None, doc="G's weight average, if on.")
    sample_net = property(lambda self: self.G_ema if self.ema is not None else self.G,
                          doc="The generator that samples, views and metrics use: the average when `ema` > 0.")

    use_cuda_graph = graphs.use     # replay each iteration of step() as one CUDA graph, or stop
    _capture_on = property(lambda self: self.cuda_graph and self.device.type == "cuda")

    def rates(self, step: int | None = None) -> dict[str, float]:
        """lr_g, lr_d and (SGD) momentum in force at iteration `step` (default: the next one)."""
        return optim.rates(self.config, self.step_count if step is None else step)

    def update(self, **changes) -> None:
        """Change any setting that is not structural (`config.STRUCTURAL`) in place, between steps:
        lr, k, loss, batch size, betas, momentum and schedule, ema, r1, precision. Fields that define
        the networks, the data or the random stream need a new Trainer and are refused by name."""
        new = self.config.replace(**changes)
        structural = self.config.structural_diff(new)
        if structural:
            raise ConfigError(f"{needs_new_run(structural)}; build a new Trainer")
        if self.cuda_graph:
            graphs.check_capturable(new)
            self._graph = None          # captured with the old numbers
        self.ema = ema.kept(self.ema, self.G, new.ema)
        self.d_ema = ema.kept(self.d_ema, self.D, new.ema if new.semi_labels else 0.0)
        self.config, self._pending = new, None     # D steps taken alone under the old settings end here
        optim.set_betas(new, self.opt_g, self.opt_d)
        optim.apply(new, self.step_count, self.opt_g, self.opt_d)

    # ------------------------------------------------------------ training
    def _iteration(self, record: torch.Tensor) -> None:
        """One iteration of Algorithm 1: k steps ascending V in D, then one G step; its metrics go
        into `record` (a row on the device: no host sync). Tensor work only, so that a CUDA graph can
        replay it: the Python bookkeeping that ends an iteration is `_end_iteration`."""
        cfg = self.config
        self._apply_schedule()
        autocast = self._autocast()
        for j in range(cfg.k):
            d = self._d_step(self.step_count * cfg.k + j, autocast)
        self._g_step(d, autocast, record)

    def _end_iteration(self) -> None:
        """After an iteration's G step: the weight averages take it in, and the count moves on."""
        for avg in (self.ema, self.d_ema):
            if avg is not None:
                avg.update(self.step_count)
        self.step_count += 1

    def _apply_schedule(self) -> None:
        """This iteration's lr and momentum into both optimizers, when the schedule moves them."""
        if optim.is_scheduled(self.config):
            optim.apply(self.config, self.step_count, self.opt_g, self.opt_d)

    def _train_mode(self) -> None:
        """Data loaded and both networks in training mode (dropout, BatchNorm batch statistics)."""
        self.load_data()
        self.G.train()
        self.D.train()

    def _autocast(self):
        # A CUDA graph must not capture autocast's cache of cast weights: it lives for one capture.
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.config.precision == "bf16",
                              cache_enabled=not self._capture_on)

    def _d_step(self, d_step: int, autocast, train: bool = True):
        """D's step number `d_step` (counted over the run, for lazy R1's schedule); with `train` off,
        the same draws and objective, measured without a step."""
        cfg, m, data = self.config, self.config.batch_size, self._data
        r1 = r1_weight(cfg.r1, cfg.r1_every, d_step) if train else 0.0
        c_real = c_fake = None
        if cfg.classes:
            real, c_real = data.sample_labeled(m, self.rng)
        else:
            real = data.sample(m, self.rng)
        real.requires_grad_(r1 > 0)
        z = sample_z(m, cfg.latent_dim, cfg.prior, self.rng)
        c_fake = self.draw_labels(m) if cfg.classes else None
        labelled = self.labelled.sample_labeled(m, self.rng) if cfg.semi_labels else None
        gp = cfg.gp if LOSS[cfg.loss].penalty and train else 0.0
        gp_eps = torch.rand(m, 1, generator=self.rng, device=self.device) if gp else None
        # The penalties need a double backward, which torch.compile does not do: plain D for them.
        with contextlib.nullcontext() if train else torch.no_grad():
            d = discriminator_phase(self.roles.d_penalty if r1 or gp else self.roles.d_own, self.roles.g, real, z, r1, autocast, c_real,
                                    c_fake, labelled, cfg.loss, gp, gp_eps)
        if train:
            _descend(self.opt_d, d.loss)
            self.D.constrain()
        return d

    def _g_step(self, d, autocast, record: torch.Tensor) -> None:
        """G's step, which ends an iteration: the row of `record` takes D's last phase `d` and G's loss."""
        cfg, m = self.config, self.config.batch_size
        z = sample_z(m, cfg.latent_dim, cfg.prior, self.rng)
        c_fake = self.draw_labels(m) if cfg.classes else None
        real = self._data.sample(m, self.rng) if LOSS[cfg.loss].g_needs_real else None
        with frozen(self.D):            # G's step needs gradients through D, not D's own weight grads
            loss_g = generator_phase(self.roles.d, self.roles.g_own, z, cfg.loss, autocast, c_fake, real)
            _descend(self.opt_g, loss_g)
        with torch.no_grad():
            record.copy_(torch.stack([d.value_loss, loss_g, d_display(d.real_logits, cfg.loss).mean(),
                                      d_display(d.fake_logits, cfg.loss).mean(),
                                      game_value(d.real_logits, d.fake_logits, cfg.loss)]))

    # One D step or one G step at a time (slowmotion.py), and the class labels training draws.
    d_step, g_step = slowmotion.d_step, slowmotion.g_step
    pending_d_steps = property(slowmotion.pending_d_steps)

    def draw_labels(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n classes for G with the training data's frequencies (Sec. 7.1), from the training stream
        or `generator`."""
        return labels.draw(self.G.class_freq, n, self.rng if generator is None else generator)

    def step(self, n: int = 1) -> dict:
        """Advance `n` iterations; return the step count and each history key's mean over them.

        This reads the results back once (a host sync on CUDA); call it with n in the tens for speed.
        If any loss became NaN/inf, the trainer is rolled back to its state before this call and
        `DivergenceError` names the first bad step.
        """
        if n < 1:
            raise ConfigError(f"step(n) needs n >= 1, got {n}")
        self._train_mode()
        self._pending = None            # D steps taken alone were extra ones; a full iteration starts here

        if self.cuda_graph and self._graph is None:
            self._graph = graphs.IterationGraph(self._iteration, self.rng, capture=self._capture_on)
        iteration = self._graph or self._iteration

        def iterations(rows):
            for i in range(n):
                iteration(rows[i])
                self._end_iteration()
        return self._record_rows(n, iterations)

    def _record_rows(self, n: int, run) -> dict:
        """`run(rows)` fills n history rows; keep them if every loss is finite, else roll back."""
        start, saved = self.step_count, self._snapshot.take(self._run_state())
        rows = torch.empty(n, len(HISTORY_KEYS), device=self.device)
        try:
            run(rows)
        except GanlabError:             # e.g. a capture refused after its warm-up iterations had run
            self._roll_back(saved)
            raise
        if self.ranks is not None:
            distributed.mean_over_ranks(rows)        # one history, and one verdict on divergence, for all ranks
        finite = torch.isfinite(rows).all(dim=1)
        if not bool(finite.all()):
            bad = start + 1 + int((~finite).nonzero()[0])
            self._roll_back(saved)
            raise DivergenceError(f"losses became NaN/inf at step {bad}; rolled back to step {start}, the last "
                                  f"good state; lower the learning rates (lr_g={self.config.lr_g:g}, "
                                  f"lr_d={self.config.lr_d:g}) and resume")
        self._history.extend(rows)      # only good rows are ever recorded
        return {"step": self.step_count, **dict(zip(HISTORY_KEYS, rows.mean(0).tolist()))}

    train = loop.train     # n iterations in chunks of step(), with a progress bar and a callback

    # ------------------------------------------------------------- outputs
    def history(self, start: int = 0, stop: int | None = None, max_rows: int | None = None) -> dict[str, np.ndarray]:
        """The record of iterations [start, stop) as numpy arrays keyed by HISTORY_KEYS, plus "step"
        (the last iteration each row covers, 1-based), in one device->host copy; `max_rows` thins the
        rows on the device first, for plots (`ganlab.history`)."""
        view = self._history.view(start, stop, max_rows)
        return {"step": view["step"], **{k: view["rows"][:, i] for i, k in enumerate(HISTORY_KEYS)}}

    def sample(self, n: int | None = None, seed: int | None = None, z: torch.Tensor | None = None,
               labels=None) -> torch.Tensor:
        """Samples from G in eval mode, on the CPU: images (n, C, H, W) in [0, 1], toy data (n, d);
        with neither n nor z, of the fixed noise batch (`sampling.sample_labeled`)."""
        return self.sample_labeled(n, seed, z, labels)[0]

    # What the views ask of a run and how samples are given out, each a function that takes a trainer.
    sample_labeled, to_g_range, _as_output = sampling.sample_labeled, sampling.to_g_range, sampling.as_output
    d_output, g_push, classify = probes.d_output, probes.g_push, probes.classify
    sample_between_classes = probes.sample_between_classes

    # ---------------------------------------------------------- state / I/O
    # A run's state to and from a checkpoint dict (runstate.py), mirroring nn.Module's.
    state_dict, load_state_dict = runstate.state_dict, runstate.load_state_dict
    _run_state, _load_run_state, _roll_back = runstate.run_state, runstate.load_run_state, runstate.roll_back
    save = runstate.save     # atomically, with extra top-level keys; under torchrun rank 0 writes

    @classmethod
    def load(cls, path, device: str | torch.device = "auto", **options) -> "Trainer":
        """Rebuild a trainer from a checkpoint file, ready to `step()` on; `options` as the constructor's
        (data_root, compile, ranks, cuda_graph, training=False to sample from)."""
        return runstate.load_file(cls, path, device, **options)


def _descend(opt: torch.optim.Optimizer, loss: torch.Tensor) -> None:
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
