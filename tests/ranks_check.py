"""Run by tests/test_distributed.py under `torchrun --nproc-per-node 2`: what the ranks of one job must
share and what they must not, checked from inside the job. Prints "ok" on rank 0 when all hold."""

import torch
import torch.distributed as dist
from torch import nn

from ganlab import Trainer, distributed, make_config


def main() -> None:
    ranks = distributed.from_env()
    device = distributed.start(ranks, "cpu")
    torch.manual_seed(100 + ranks.rank)

    def gathered(t: torch.Tensor) -> list[torch.Tensor]:
        out = [torch.empty_like(t) for _ in range(ranks.world_size)]
        dist.all_gather(out, t.contiguous())
        return out

    # BatchNorm over the ranks equals one BatchNorm over the union of their batches: outputs, gradients
    # of inputs and weights, and running statistics.
    x = torch.randn(6, 4, 3, 3) * 3 + 1
    one = nn.BatchNorm2d(4)
    with torch.no_grad():
        one.weight.uniform_(0.5, 2.0)
        one.bias.uniform_(-1, 1)
    dist.broadcast(one.weight.data, 0)
    dist.broadcast(one.bias.data, 0)
    ours = distributed.sync_batchnorm(nn.Sequential(one), device)[0]
    assert isinstance(ours, distributed.RanksBatchNorm)
    everyone = torch.cat(gathered(x)).requires_grad_(True)
    reference = nn.BatchNorm2d(4)
    reference.load_state_dict(ours.state_dict())
    weights = torch.randn(ranks.world_size * 6, 4, 3, 3, generator=torch.Generator().manual_seed(7))
    expected = reference(everyone)
    (expected * weights).sum().backward()
    mine = x.clone().requires_grad_(True)
    y = ours(mine)
    lo, hi = ranks.rank * 6, (ranks.rank + 1) * 6
    (y * weights[lo:hi]).sum().backward()
    assert torch.allclose(y, expected[lo:hi], atol=1e-5)
    assert torch.allclose(mine.grad, everyone.grad[lo:hi], atol=1e-5)
    for p in ("weight", "bias"):            # each rank holds its share; DDP's average times N is the whole
        total = sum(gathered(getattr(ours, p).grad))
        assert torch.allclose(total, getattr(reference, p).grad, atol=1e-4), p
    assert torch.allclose(ours.running_mean, reference.running_mean, atol=1e-6)
    assert torch.allclose(ours.running_var, reference.running_var, atol=1e-5)

    # Training: different batches on each rank, the same weights after every step.
    for cfg in (make_config(data="ring", hidden=32, batch_size=32, seed=3),
                make_config(data="digits", model="pytorch-mlp", latent_dim=16, batch_size=16, seed=3, r1=1.0, r1_every=2),
                make_config(data="ring", loss="wgan-gp", hidden=32, batch_size=32, seed=3)):
        t = Trainer(cfg, device=device, ranks=ranks)
        streams = gathered(t.rng.get_state())
        assert not torch.equal(streams[0], streams[1]), "ranks draw the same stream"
        t.step(5)
        flat = torch.cat([p.detach().reshape(-1) for p in (*t.G.parameters(), *t.D.parameters())])
        assert all(torch.equal(flat, other) for other in gathered(flat)), f"weights differ across ranks ({cfg.model})"
        buffers = torch.cat([b.reshape(-1).float() for b in t.G.buffers()] or [torch.zeros(1)])
        assert all(torch.equal(buffers, other) for other in gathered(buffers)), "BatchNorm statistics differ"
        history = t.history()["d_loss"]
        assert all(torch.equal(torch.as_tensor(history), other) for other in gathered(torch.as_tensor(history)))

    distributed.stop()
    if ranks.is_main:
        print("ok")


if __name__ == "__main__":      # run by torchrun; imported (and skipped) by pytest's doctest collection
    main()
