"""Data-parallel training on PyTorch's own engine: `torchrun ... -m ganlab train` runs one trainer per
process, each G and D wrapped in DistributedDataParallel (gloo on CPU, NCCL on CUDA).

What each process does differently, and why it stays one run:
- weights start equal (one seed) and stay equal: DDP averages every gradient over the ranks before
  the optimizer steps, so every rank applies the same update;
- batches differ: rank r draws from its own stream, seeded from (seed, r) (`stream_seed`; rank 0's
  is the seed itself), so N ranks see N different batches of the documented per-rank size;
- BatchNorm normalises over the batches of all ranks (`sync_batchnorm`), as one process with the
  N-times larger batch would;
- rank 0 alone writes a checkpoint, holding every rank's stream (`rng_ranks`) and, at its top level,
  the `world_size` that trained it, so the same number of processes resumes bit-exactly.

Outside torchrun (no WORLD_SIZE, or WORLD_SIZE 1) nothing here runs and training is single-process.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from .errors import ConfigError

TIMEOUT = timedelta(minutes=10)         # a rank that stops answering fails the others within this


@dataclass(frozen=True)
class Ranks:
    """This process's place in a torchrun job."""

    rank: int
    world_size: int
    local_rank: int

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def from_env() -> Ranks | None:
    """The job torchrun started this process in, or None for a plain single-process run."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return None
    return Ranks(int(os.environ["RANK"]), world, int(os.environ.get("LOCAL_RANK", "0")))


def restarted() -> bool:
    """Whether torchrun has restarted this job's processes after a failure (`--max-restarts`)."""
    return int(os.environ.get("TORCHELASTIC_RESTART_COUNT", "0")) > 0


def start(ranks: Ranks, device: str) -> torch.device:
    """Join the job's process group; return this rank's device (its own GPU on CUDA)."""
    if device in ("auto", "cuda") and torch.cuda.is_available():
        dev = torch.device("cuda", ranks.local_rank)
        torch.cuda.set_device(dev)
    elif device == "cuda":
        raise ConfigError("--device cuda was asked for, but no CUDA GPU is available")
    else:
        dev = torch.device("cpu")
    if not dist.is_initialized():
        # The job's store outlives a restart by torchrun, and with it the addresses the failed
        # processes published, which the new ones would try to connect to: each attempt gets its own
        # key space.
        store, rank, world = next(dist.rendezvous("env://", timeout=TIMEOUT))
        attempt = os.environ.get("TORCHELASTIC_RESTART_COUNT", "0")
        dist.init_process_group("nccl" if dev.type == "cuda" else "gloo", store=dist.PrefixStore(
            f"ganlab/attempt-{attempt}/", store), rank=rank, world_size=world, timeout=TIMEOUT)
    return dev


def stop() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def stream_seed(seed: int, rank: int, step: int = 0) -> int:
    """The seed of rank `rank`'s training stream: `seed` itself for rank 0 of a new run (a one-process
    run's stream), otherwise a hash of (seed, rank, step) (numpy's SeedSequence), so ranks, and a
    stream re-derived at a resume, never repeat each other's draws."""
    if rank == 0 and step == 0:
        return seed
    return int(np.random.SeedSequence([seed, rank, step]).generate_state(1, np.uint64)[0] >> 1)


def wrap(module: nn.Module, device: torch.device) -> nn.Module:
    """`module` under DDP. No buffer broadcast: BatchNorm's running statistics are computed from the
    synchronised batch statistics, so they are already equal on every rank."""
    import inspect

    from torch.nn.parallel import DistributedDataParallel

    ids = [device.index] if device.type == "cuda" else None
    # Newer torch names the switch forward_sync_buffers, older broadcast_buffers: either way, no buffer
    # traffic in forward passes.
    named = "forward_sync_buffers" if "forward_sync_buffers" in inspect.signature(DistributedDataParallel).parameters \
        else "broadcast_buffers"
    # A (1, n) weight's gradient may come with strides (1, 1) where DDP's bucket has (n, 1): the same
    # memory layout for a dimension of size 1, which DDP still reports as a mismatch.
    warnings.filterwarnings("ignore", message="Grad strides do not match bucket view strides")
    return DistributedDataParallel(module, device_ids=ids, **{named: False})


def sync_batchnorm(module: nn.Module, device: torch.device) -> nn.Module:
    """`module` with each BatchNorm normalising over every rank's batch: PyTorch's SyncBatchNorm on
    CUDA; on CPU, where SyncBatchNorm does not run, `RanksBatchNorm`, the same statistics over gloo."""
    if device.type == "cuda":
        return nn.SyncBatchNorm.convert_sync_batchnorm(module)
    for name, child in module.named_children():
        if isinstance(child, nn.modules.batchnorm._BatchNorm):
            setattr(module, name, RanksBatchNorm.like(child))
        else:
            sync_batchnorm(child, device)
    return module


class RanksBatchNorm(nn.modules.batchnorm._BatchNorm):
    """BatchNorm whose training statistics are those of the batches of all ranks together: each rank's
    count, mean and sum of squared deviations are gathered and combined (Chan et al.'s pairwise
    update, which avoids the cancellation of E[x^2] - E[x]^2), differentiably, so gradients flow to
    every rank's inputs as they would through one BatchNorm over the whole batch."""

    @classmethod
    def like(cls, bn: nn.modules.batchnorm._BatchNorm) -> "RanksBatchNorm":
        new = cls(bn.num_features, bn.eps, bn.momentum, bn.affine, bn.track_running_stats)
        new.load_state_dict(bn.state_dict())
        return new.to(next(iter(bn.state_dict().values())).device)

    def _check_input_dim(self, x):
        if x.dim() < 2:
            raise ValueError(f"expected at least 2-D input, got {x.dim()}-D")

    def forward(self, x):
        if not self.training:
            return super().forward(x)
        dims = [0, *range(2, x.dim())]
        n = x.numel() // x.shape[1]
        var, mean = torch.var_mean(x.float(), dims, correction=0)
        local = torch.cat([mean, var * n, mean.new_tensor([n])])
        parts = _AllGather.apply(local)                              # (world, 2C + 1)
        c = x.shape[1]
        counts = parts[:, -1:]
        total = counts.sum()
        g_mean = (parts[:, :c] * counts).sum(0) / total
        m2 = (parts[:, c:2 * c] + counts * (parts[:, :c] - g_mean).square()).sum(0)
        g_var = m2 / total
        if self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked.add_(1)
                m = self.momentum if self.momentum is not None else 1.0 / float(self.num_batches_tracked)
                self.running_mean.mul_(1 - m).add_(g_mean.detach(), alpha=m)
                self.running_var.mul_(1 - m).add_(g_var.detach() * total / (total - 1), alpha=m)
        shape = [1, c, *([1] * (x.dim() - 2))]
        y = (x - g_mean.view(shape).to(x.dtype)) * torch.rsqrt(g_var.view(shape) + self.eps).to(x.dtype)
        return y * self.weight.view(shape) + self.bias.view(shape) if self.affine else y


class _AllGather(torch.autograd.Function):
    """Every rank's tensor stacked in rank order, differentiably: the gradient of a rank's own part is
    the sum, over the ranks, of the gradients that reached it there."""

    @staticmethod
    def forward(ctx, t):
        out = [torch.empty_like(t) for _ in range(dist.get_world_size())]
        dist.all_gather(out, t.contiguous())
        return torch.stack(out)

    @staticmethod
    def backward(ctx, grad):
        grad = grad.contiguous()
        dist.all_reduce(grad)
        return grad[dist.get_rank()]


def gather_streams(generator: torch.Generator) -> list[torch.Tensor]:
    """Every rank's generator state, in rank order (a collective: every rank calls it)."""
    state = generator.get_state()
    dev = torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else torch.device("cpu")
    out = [torch.empty_like(state, device=dev) for _ in range(dist.get_world_size())]
    dist.all_gather(out, state.to(dev))
    return [s.cpu() for s in out]


def mean_over_ranks(rows: torch.Tensor) -> torch.Tensor:
    """`rows` averaged over the ranks, in place (a collective): every rank keeps the same history."""
    dist.all_reduce(rows)
    return rows.div_(dist.get_world_size())
