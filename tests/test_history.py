"""The training record stays bounded in memory for runs of any length and always says what happened:
each row is the exact mean of the iterations it stands for."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from ganlab import Trainer, make_config
from ganlab.errors import CheckpointError
from ganlab.history import History


def reference(values: np.ndarray, stride: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows a bounded record should hold at `stride`: block means, then the partial block's mean."""
    n = len(values)
    full = n // stride
    rows = [values[i * stride:(i + 1) * stride].mean(0) for i in range(full)]
    steps = [(i + 1) * stride for i in range(full)]
    if n % stride:
        rows.append(values[full * stride:].mean(0))
        steps.append(n)
    return np.array(rows).reshape(-1, values.shape[1]), np.array(steps)


@settings(max_examples=60, deadline=None)
@given(blocks=st.lists(st.integers(1, 40), min_size=1, max_size=30), capacity=st.sampled_from([2, 4, 8, 16]))
def test_rows_are_means_of_their_iterations_and_never_exceed_the_capacity(blocks, capacity):
    values = np.random.default_rng(len(blocks)).normal(size=(sum(blocks), 3)).astype(np.float32)
    h = History(3, "cpu", capacity=capacity)
    at = 0
    for b in blocks:
        h.extend(torch.from_numpy(values[at:at + b]))
        at += b
        assert h._full < capacity and len(h.rows()) <= capacity
    rows, steps = reference(values.astype(np.float64), h.stride)
    view = h.view()
    np.testing.assert_allclose(view["rows"], rows, rtol=1e-5, atol=1e-6)   # float32 sums in another order
    np.testing.assert_array_equal(view["step"], steps)
    assert h.steps == len(values)


def test_a_short_run_keeps_every_iteration_and_a_window_is_exact():
    t = Trainer(make_config(data="gaussian1d", batch_size=8, hidden=8, depth=1), device="cpu")
    t.step(1100)
    h = t.history(start=1000)
    assert len(h["g_loss"]) == 100 and h["step"][0] == 1001 and h["step"][-1] == 1100
    thin = t.history(max_rows=50)
    assert len(thin["d_loss"]) <= 51 and thin["step"][-1] == 1100


def test_a_long_run_is_bounded_and_survives_save_and_resume(tmp_path):
    t = Trainer(make_config(data="gaussian1d", batch_size=8, hidden=8, depth=1), device="cpu")
    t._history = History(5, t.device, capacity=64)      # a small bound, reached in seconds
    t.step(1000)
    assert len(t.history()["d_loss"]) <= 64 and t.history()["step"][-1] == 1000
    t.save(tmp_path / "a.pt")
    back = Trainer.load(tmp_path / "a.pt", device="cpu")
    for key, values in t.history().items():
        np.testing.assert_allclose(back.history()[key], values, rtol=1e-6)
    sd = torch.load(tmp_path / "a.pt", weights_only=True)
    assert sd["history_stride"] == 16 and sd["history"].shape == (63, 5)   # 62 complete rows + 8 of 16


@pytest.mark.parametrize("stride, rows, message", [(3, 10, "power of two"), (1, 7, "shape"), (0, 10, "power of two")])
def test_a_history_that_does_not_fit_its_step_count_is_refused(stride, rows, message):
    with pytest.raises(CheckpointError, match=message):
        History.from_state(torch.zeros(rows, 5), stride, steps=10, device="cpu")
