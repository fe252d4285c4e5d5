import pytest
import torch

from ganlab import Trainer, make_config
from ganlab.bench import format_table, forward_flops, iteration_flops, run


def test_flop_count_of_the_seed_pair():
    t = Trainer(make_config(data="mnist", model="seed", batch_size=64), device="cpu")
    fg = 2 * (100 * 128 + 128 * 256 + 256 * 512 + 512 * 1024 + 1024 * 784)
    fd = 2 * (784 * 512 + 512 * 256 + 256 * 1)
    assert (forward_flops(t.G, 100), forward_flops(t.D, 784)) == (fg, fd)
    assert iteration_flops(t) == 64 * (fg + 6 * fd + 3 * fg + 2 * fd)


def test_bench_runs_both_loops_on_the_same_data(tiny_mnist_root):
    root, _, _ = tiny_mnist_root
    result = run(iters=3, warmup=1, data_root=root, device="cpu")
    seed64 = result["rows"][0]
    assert (seed64["model"], seed64["batch_size"]) == ("pytorch-mlp", 64)
    assert seed64["ganlab_it_s"] > 0 and seed64["seed_it_s"] > 0
    assert (seed64["images"], seed64["seed_images"], seed64["same_first_image"]) == (20, 20, True)
    assert seed64["speedup"] == seed64["ganlab_it_s"] / seed64["seed_it_s"]
    assert "ratio" in format_table(result) and result["matmul_gflop_s"] > 0


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
