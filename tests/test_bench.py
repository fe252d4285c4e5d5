from ganlab import Trainer, make_config
from ganlab.bench import format_table, iteration_flops, mlp_flops, run


def test_flop_count_of_the_seed_pair():
    t = Trainer(make_config(data="mnist", model="seed", batch_size=64), device="cpu")
    fg = 2 * (100 * 128 + 128 * 256 + 256 * 512 + 512 * 1024 + 1024 * 784)
    fd = 2 * (784 * 512 + 512 * 256 + 256 * 1)
    assert (mlp_flops(t.G), mlp_flops(t.D)) == (fg, fd)
    assert iteration_flops(t) == 64 * (fg + 6 * fd + 3 * fg + 2 * fd)


def test_bench_runs_both_loops_on_the_same_data(tiny_mnist_root):
    root, _, _ = tiny_mnist_root
    result = run(iters=3, warmup=1, data_root=root, device="cpu")
    seed64 = result["rows"][0]
    assert (seed64["model"], seed64["batch_size"]) == ("seed", 64)
    assert seed64["ganlab_it_s"] > 0 and seed64["seed_it_s"] > 0
    assert seed64["speedup"] == seed64["ganlab_it_s"] / seed64["seed_it_s"]
    assert "ratio" in format_table(result) and result["matmul_gflop_s"] > 0
