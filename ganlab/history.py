"""The training record: one row of metrics per iteration, kept on the device and bounded in size.

An app left training for hours must not grow without limit, and the loss curve of a million
iterations needs no million points. So the record holds at most `capacity` rows: when it fills,
neighbouring rows are averaged in pairs and every row then stands for twice as many iterations
(the stride, a power of two). Below `capacity` iterations each row is exactly one iteration. Rows
are appended in blocks (one `step(n)` call at a time) with tensor ops only: no host sync.

>>> h = History(n_keys=1, device="cpu", capacity=4)
>>> h.extend(torch.arange(6.0).reshape(6, 1))
>>> h.stride, h.view()["step"].tolist(), h.view()["rows"][:, 0].tolist()
(2, [2, 4, 6], [0.5, 2.5, 4.5])
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .errors import CheckpointError

# Per-iteration record, one row of the history tensor. d_real / d_fake are mean D(x) and mean
# D(G(z)) on the last D step's batch (probabilities for the log losses, scores for the others:
# `losses.d_display`); value is the game's value on that batch (`losses.game_value`: V(D, G) for the
# log losses, -log 4 at the optimum).
HISTORY_KEYS = ("d_loss", "g_loss", "d_real", "d_fake", "value")


def strided_indices(n: int, max_rows: int) -> np.ndarray:
    """Indices of at most `max_rows` evenly spaced rows of n, the first and the last among them, so
    thinning twice to the same size changes nothing (the app thins on the device, plots again).

    >>> strided_indices(10, 4).tolist(), strided_indices(11, 4).tolist(), strided_indices(3, 4).tolist()
    ([0, 3, 6, 9], [0, 3, 7, 10], [0, 1, 2])
    """
    if n <= max_rows:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, max(max_rows, 2)).round().astype(np.int64))


CAPACITY = 2**16   # 65,536 rows of 5 float32: 1.3 MB, per-iteration detail for the first 65,536 iterations


class History:
    def __init__(self, n_keys: int, device, capacity: int = CAPACITY):
        if capacity < 2 or capacity % 2:
            raise ValueError(f"capacity must be an even number >= 2, got {capacity}")
        self.capacity = capacity
        self.stride = 1                      # iterations per complete row
        self.steps = 0                       # iterations recorded
        self._rows = torch.zeros(min(1024, capacity), n_keys, device=device)
        self._full = 0                       # complete rows
        self._pending = torch.zeros(n_keys, device=device)   # sum over the iterations of the partial row
        self._pending_n = 0

    def extend(self, rows: torch.Tensor) -> None:
        """Record `rows` (n, n_keys), one per iteration, in order."""
        self.steps += len(rows)
        while len(rows):
            s = self.stride
            if self._pending_n or len(rows) < s:
                take = min(s - self._pending_n, len(rows))
                self._pending += rows[:take].sum(0)
                self._pending_n += take
                rows = rows[take:]
                if self._pending_n == s:
                    self._append((self._pending / s)[None])
                    self._pending.zero_()
                    self._pending_n = 0
            else:
                count = min(len(rows) // s, self.capacity - self._full)
                self._append(rows[:count * s].reshape(count, s, -1).mean(1))
                rows = rows[count * s:]

    def _append(self, new: torch.Tensor) -> None:
        end = self._full + len(new)
        if end > len(self._rows):             # amortised growth up to the capacity
            size = min(self.capacity, max(end, 2 * len(self._rows)))
            self._rows = torch.cat([self._rows, self._rows.new_zeros(size - len(self._rows), self._rows.shape[1])])
        self._rows[self._full:end] = new
        self._full = end
        if self._full == self.capacity:       # full: pairs become one row, the stride doubles
            half = self.capacity // 2
            self._rows[:half] = self._rows[:self.capacity].reshape(half, 2, -1).mean(1)
            self._full = half
            self.stride *= 2

    def rows(self) -> torch.Tensor:
        """Complete rows, then the partial one (the mean of its iterations so far) if any: (R, n_keys)."""
        rows = self._rows[:self._full]
        if self._pending_n:
            rows = torch.cat([rows, (self._pending / self._pending_n)[None]])
        return rows

    def view(self, start: int = 0, stop: int | None = None, max_rows: int | None = None) -> dict:
        """Rows covering iterations [start, stop), at most `max_rows` of them (`strided_indices`),
        copied to the host once: {"step": last iteration of each row
        (1-based), "rows": (R, n_keys)}."""
        stop = self.steps if stop is None else min(stop, self.steps)
        first, last = start // self.stride, math.ceil(stop / self.stride) if stop > start else start // self.stride
        rows = self.rows()[first:last]
        steps = torch.arange(first + 1, first + len(rows) + 1, dtype=torch.int64) * self.stride
        if len(rows) and self._pending_n and last > self._full:
            steps[-1] = self.steps            # the partial row ends at the latest iteration
        if max_rows is not None and len(rows) > max_rows:
            idx = torch.from_numpy(strided_indices(len(rows), max_rows))
            rows, steps = rows[idx.to(rows.device)], steps[idx]
        return {"step": steps.numpy(), "rows": rows.cpu().numpy().astype(np.float32, copy=False)}

    def state(self) -> dict:
        return {"history": self.rows().cpu(), "history_stride": self.stride}

    @classmethod
    def from_state(cls, rows: torch.Tensor, stride: int, steps: int, device, capacity: int = CAPACITY) -> "History":
        """Rebuild from `state()` of a run at iteration `steps`; shapes are checked, not trusted."""
        if not isinstance(stride, int) or stride < 1 or stride & (stride - 1):
            raise CheckpointError(f"checkpoint history stride must be a power of two >= 1, got {stride!r}")
        full, pending_n = divmod(steps, stride)
        if not isinstance(rows, torch.Tensor) or rows.ndim != 2 or len(rows) != full + (pending_n > 0):
            shape = tuple(rows.shape) if isinstance(rows, torch.Tensor) else type(rows).__name__
            raise CheckpointError(f"checkpoint history has shape {shape}, expected {full + (pending_n > 0)} rows "
                                  f"for {steps} iterations at stride {stride}")
        h = cls(rows.shape[1], device, capacity=max(capacity, 2 * math.ceil((full + 1) / 2)))
        h.stride, h.steps = stride, steps
        rows = rows.to(device, torch.float32)
        h._rows = torch.zeros(max(1024, min(h.capacity, 2 * full + 2)), rows.shape[1], device=device)
        h._rows[:full] = rows[:full]
        h._full = full
        if pending_n:
            h._pending = rows[full] * pending_n
            h._pending_n = pending_n
        return h
