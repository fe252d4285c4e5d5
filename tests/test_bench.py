import pytest
import torch

from ganlab import Trainer, make_config
from ganlab.bench import format_table, forward_flops, iteration_flops, run
from ganlab.roofline import (ADAM_BYTES_PER_PARAM, autograd_calls, iteration_bound, iteration_plan, recorded_product,
                             traced_layers)


def test_flop_count_of_the_seed_pair():
    t = Trainer(make_config(data="mnist", model="seed", batch_size=64), device="cpu")
    fg = 2 * (100 * 128 + 128 * 256 + 256 * 512 + 512 * 1024 + 1024 * 784)
    fd = 2 * (784 * 512 + 512 * 256 + 256 * 1)
    assert (forward_flops(t.G, 100), forward_flops(t.D, 784)) == (fg, fd)
    assert iteration_flops(t) == 64 * (fg + 6 * fd + 3 * fg + 2 * fd)


@pytest.mark.slow
def test_bench_runs_both_loops_on_the_same_data(tiny_mnist_root):
    root, _, _ = tiny_mnist_root
    result = run(iters=3, warmup=1, data_root=root, device="cpu")
    seed64 = result["rows"][0]
    assert (seed64["model"], seed64["batch_size"]) == ("pytorch-mlp", 64)
    assert seed64["ganlab_it_s"] > 0 and seed64["seed_it_s"] > 0
    assert (seed64["images"], seed64["seed_images"], seed64["same_first_image"]) == (20, 20, True)
    assert seed64["speedup"] == seed64["ganlab_it_s"] / seed64["seed_it_s"]
    assert "ratio" in format_table(result) and result["matmul_gflop_s"] > 0
    bound = seed64["roofline"]                                   # the machine's own floor, beside it
    assert bound["bound_it_s"] > 0 and seed64["share_of_bound"] == seed64["ganlab_it_s"] / bound["bound_it_s"]
    assert result["cpu"] and "share" in format_table(result)
    deep = next(r for r in result["rows"] if r["model"] == "dcgan-deep")        # convolutions counted too
    assert deep["roofline"]["bound_it_s"] > 0 and deep["share_of_bound"] == deep["ganlab_it_s"] / deep["roofline"]["bound_it_s"]


@pytest.mark.parametrize("model,k", [("pytorch-mlp", 1), ("paper", 1), ("pytorch-mlp", 3), ("dcgan-deep", 1)])
def test_the_bound_counts_every_matrix_product_an_iteration_runs(model, k):
    """The floor is only a floor if it leaves out no product: the shapes of the iteration's own
    mm/addmm calls, recorded by the profiler, are exactly the Linear products the bound times (R1
    is off: its double backward is left out of the floor)."""
    ran, calls = _profiled_calls(model, k, ("aten::mm", "aten::addmm"))
    listed = [{"fwd": (r, *layer.dims), "dgrad": (r, layer.dims[1], layer.dims[0]), "wgrad": (layer.dims[1], r, layer.dims[0])}[kind]
              for _, r, layer, kind in calls if layer.dims is not None]
    assert sorted(recorded_product(e.name, e.input_shapes) for e in ran) == sorted(listed)


def test_the_bound_counts_every_convolution_an_iteration_runs():
    """For a conv pair the floor times each convolution's forward and its backward as autograd calls
    it, one aten.convolution_backward per layer and pass asking for the halves that pass needs (the
    input gradient, the weight gradient, or both): exactly the profiled iteration's own calls."""
    ran, calls = _profiled_calls("dcgan-deep", 1, ("aten::convolution", "aten::convolution_backward"))
    seen = [("fwd", *map(tuple, e.input_shapes[:2])) if e.name == "aten::convolution" else
            ("bwd", *map(tuple, e.input_shapes[1:3]), tuple(e.concrete_inputs[-1][:2])) for e in ran]
    listed = [("fwd" if kind == "fwd" else "bwd", (rows, *layer.in_shape), tuple(layer.module.weight.shape),
               *(() if kind == "fwd" else (("dgrad" in kind, "wgrad" in kind),)))
              for _, rows, layer, kind in calls if layer.dims is None]
    # G's 4 convolutions and D's 3, forward in both steps; backward: D's 3 in its step, G's 4 and D's 3 in G's
    assert len(seen) == 2 * (4 + 3) + 3 + 4 + 3 and sorted(seen) == sorted(listed)


def _profiled_calls(model: str, k: int, names: tuple[str, ...]):
    """(the profiler's events of `names` in one iteration at batch 8, the bound's calls for it)."""
    from torch.profiler import ProfilerActivity, profile

    t = Trainer(make_config(data="mnist", model=model, batch_size=8, k=k, r1=0), device="cpu",
                dataset=_random_images())
    t.step(1)
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        t.step(1)
    plan = iteration_plan(traced_layers(t.G, t.config.latent_dim), traced_layers(t.D, 784), 8, k)
    return [e for e in prof.events() if e.name in names], autograd_calls(plan)


def test_the_bound_adds_adam_traffic_at_the_measured_bandwidth():
    t = Trainer(make_config(data="mnist", model="pytorch-mlp", batch_size=8, k=2), device="cpu")
    b = iteration_bound(t.G, t.D, 8, k=2, bandwidth=1e10, g_in=100, d_in=784)
    params = sum(p.numel() for p in t.G.parameters()) + 2 * sum(p.numel() for p in t.D.parameters())
    assert b["optimizer_ms"] == pytest.approx(params * ADAM_BYTES_PER_PARAM / 1e10 * 1e3)
    assert b["bound_it_s"] == pytest.approx(1e3 / (b["gemm_ms"] + b["optimizer_ms"]))


def _random_images():
    from ganlab.data import ImageData

    codes = torch.randint(0, 256, (32, 784), dtype=torch.uint8)
    return ImageData(None, torch.zeros(32, dtype=torch.long), (1, 28, 28), levels=255, codes=codes)


def test_convolutions_are_counted_at_their_output_size():
    t = Trainer(make_config(data="mnist", model="dcgan"), device="cpu")
    conv1 = 2 * 64 * 14 * 14 * (1 * 4 * 4)            # D: 1 -> 64 channels, 28x28 -> 14x14
    conv2 = 2 * 128 * 7 * 7 * (64 * 4 * 4)             # D: 64 -> 128, 14x14 -> 7x7
    assert forward_flops(t.D, 784) == conv1 + conv2 + 2 * 128 * 7 * 7
    up1 = 2 * (128 * 7 * 7) * 64 * 4 * 4               # G: each input pixel spreads a 4x4 kernel to 64 channels
    up2 = 2 * (64 * 14 * 14) * 1 * 4 * 4
    assert forward_flops(t.G, 100) == 2 * 100 * 128 * 7 * 7 + up1 + up2


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_bench_runs_on_cuda_and_reports_gpu_memory(tiny_mnist_root):
    root, _, _ = tiny_mnist_root
    result = run(iters=3, warmup=1, data_root=root, device="cuda")
    seed64 = result["rows"][0]
    assert result["gpu"] and result["matmul_gflop_s"] > 0
    assert seed64["ganlab_it_s"] > 0 and seed64["seed_it_s"] > 0
    assert (seed64["images"], seed64["seed_images"], seed64["same_first_image"]) == (20, 20, True)
    assert seed64["ganlab_gpu_peak_mb"] > 0 and seed64["seed_gpu_peak_mb"] > 0
    assert "GPU" in format_table(result)
