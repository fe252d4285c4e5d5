"""A copy of the trainer's run state kept in buffers that are reused from one copy to the next.

`Trainer.step(n)` copies the weights, the optimizer's moments and the stream before each call, so
that a call that meets NaN/inf can be rolled back. `copy.deepcopy` made that copy in new tensors on
every call, a Python walk over every object of the state and fresh memory for every tensor, which
showed in calls of one iteration (slow motion, the app's shortest refreshes; docs/performance.md,
"Where the gap is"). Here the tensors are copied into the buffers of the last copy, in one foreach
call, and only the containers are rebuilt.

>>> snap = Snapshot()
>>> live = {"w": torch.zeros(2), "step": 3}
>>> saved = snap.take(live)
>>> live["w"] += 1
>>> saved["w"].tolist(), saved["step"]
([0.0, 0.0], 3)
"""

from __future__ import annotations

import torch
from torch.utils._pytree import tree_flatten, tree_unflatten


class Snapshot:
    def __init__(self):
        self._buffers: list = []

    def take(self, state):
        """A copy of `state` (dicts, lists and tuples of tensors and plain values) that later changes
        to `state`'s tensors do not reach; valid until the next `take`."""
        leaves, spec = tree_flatten(state)
        if len(self._buffers) != len(leaves):
            self._buffers = [None] * len(leaves)
        sources, targets = [], []
        for i, leaf in enumerate(leaves):
            if not torch.is_tensor(leaf):
                self._buffers[i] = leaf
                continue
            buf = self._buffers[i]
            if not (torch.is_tensor(buf) and buf.shape == leaf.shape and buf.dtype == leaf.dtype
                    and buf.device == leaf.device):
                buf = self._buffers[i] = torch.empty_like(leaf, memory_format=torch.preserve_format)
            sources.append(leaf.detach())
            targets.append(buf)
        if targets:
            torch._foreach_copy_(targets, sources)
        return tree_unflatten(list(self._buffers), spec)
