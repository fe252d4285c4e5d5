"""One training iteration replayed as a CUDA graph: one replay per iteration instead of a launch per kernel.

On a GPU the seed pair's iteration is a long run of small kernels, each shorter to run than to
launch, so the trainer runs at the rate the host launches them (docs/performance.md, "CUDA"). A CUDA
graph records the iteration's kernels once and replays them all with one call (PyTorch's "whole
network capture"); the copy of its record row and the weight averages' update stay outside it.

What capture asks of the iteration, and how the trainer meets it:
- no host syncs inside it: the trainer reads results back once per `step(n)`, never per iteration;
- random draws from a generator registered with the graph, so each replay draws fresh numbers from
  where the stream stands (the trainer's one generator; its state, and so resume, is as before);
- optimizers whose step counter lives on the device (`capturable`), and tensors that stay where they
  were at capture: after a load, a rollback or a change of settings the trainer drops the graph;
- the same Python numbers every iteration, since capture bakes them into the kernels: learning rates
  and momentum on a schedule, and lazy R1's every-n-th penalty, are refused (`check_capturable`).

Where capture is not available (the CPU) `IterationGraph` runs the same iteration eagerly through the
same warmup and static record, which is what the CPU tests hold equal to the plain trainer.
"""

from __future__ import annotations

import torch

from .config import Config
from .errors import ConfigError
from .optim import is_scheduled, set_capturable

WARMUP = 3  # eager iterations before capture: the optimizers create their moments, cuBLAS its workspace


def check_capturable(cfg: Config) -> None:
    """ConfigError unless every iteration of `cfg` runs the same kernels with the same numbers."""
    if is_scheduled(cfg):
        raise ConfigError("a CUDA graph fixes the learning rates at capture: set --lr-decay 1 and --momentum-steps 0, "
                          "or train without --cuda-graph")
    if cfg.r1 and cfg.r1_every > 1:
        raise ConfigError(f"lazy R1 (every {cfg.r1_every} D steps) changes the iteration from step to step: "
                          f"use --r1-every 1 with --cuda-graph, or train without it")


class IterationGraph:
    """`work(row)` (one iteration's tensor work, its record written into `row`) captured once and
    replayed; eager where `capture` is off."""

    def __init__(self, work, generator: torch.Generator, capture: bool):
        self.work, self.generator, self.capture = work, generator, capture
        self.warm = 0
        self.graph = self.row = None
        # One side stream for every warm-up iteration: the caching allocator keeps blocks per stream.
        self.side = torch.cuda.Stream() if capture else None

    def __call__(self, row: torch.Tensor) -> None:
        if self.warm < WARMUP:
            self._warmup(row)
            return
        if self.row is None:
            self.row = torch.empty_like(row)        # the record's static home: replays write it here
            if self.capture:
                self._capture()
        if self.graph is not None:
            self.graph.replay()
        else:
            self.work(self.row)
        row.copy_(self.row)

    def _warmup(self, row: torch.Tensor) -> None:
        # PyTorch's recipe warms up on a side stream, so that nothing of the warmup is left queued
        # on the stream the capture will record.
        if self.capture:
            self.side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(self.side):
                self.work(row)
            torch.cuda.current_stream().wait_stream(self.side)
        else:
            self.work(row)
        self.warm += 1

    def _capture(self) -> None:
        if not hasattr(torch.cuda.CUDAGraph, "register_generator_state"):
            raise ConfigError(f"this torch ({torch.__version__}) cannot give a graph the trainer's own random "
                              f"generator; --cuda-graph needs a newer torch, or train without it")
        graph = torch.cuda.CUDAGraph()
        graph.register_generator_state(self.generator)
        try:
            with torch.cuda.graph(graph):
                self.work(self.row)
        except RuntimeError as exc:
            raise ConfigError(f"this iteration cannot be captured as a CUDA graph ({str(exc).splitlines()[0][:160]}); "
                              f"train without --cuda-graph") from None
        self.graph = graph              # capture records without running: the first replay is this iteration


def use(trainer, on: bool = True) -> None:
    """Replay each iteration of the trainer's `step()` as one CUDA graph from the next step on, or
    stop. Refused, in one line, for settings a capture would freeze and with --compile or torchrun."""
    if on and (trainer.compiled or trainer.ranks is not None):
        raise ConfigError("--cuda-graph runs one process without --compile; drop --compile, or run without torchrun")
    if on:
        check_capturable(trainer.config)
    trainer.cuda_graph, trainer._graph = on, None
    set_capturable(trainer._capture_on, trainer.opt_g, trainer.opt_d)
