"""The paper's published MNIST model ("paper"): G 1200-1200 ReLU with sigmoid output, D two maxout
layers (240 units x 5 pieces) with dropout on its input (keep 0.8) and hidden layers (keep 0.5)."""

from __future__ import annotations

from torch import nn

from ..config import Config
from .layers import Dropout, Maxout
from .pair import Generator, d_outputs, g_inputs, wrap_d


def paper_pair(cfg: Config, dim: int):
    G = nn.Sequential(
        nn.Linear(g_inputs(cfg), 1200), nn.ReLU(),           # (n, z) -> (n, 1200)
        nn.Linear(1200, 1200), nn.ReLU(),                     # -> (n, 1200)
        nn.Linear(1200, dim), nn.Sigmoid(),                   # -> (n, 784), pixels in [0, 1]
    )
    D = nn.Sequential(
        Dropout(0.2),                                         # keep 0.8 on the inputs
        Maxout(dim, 240, 5), Dropout(0.5),                    # -> (n, 240)
        Maxout(240, 240, 5), Dropout(0.5),                    # -> (n, 240)
        nn.Linear(240, d_outputs(cfg)),                       # logits
    )
    # The published code's initialisation (pylearn2 "irange": weights uniform in [-r, r], biases 0)
    # and D's max_col_norm of 1.9365; PyTorch's default init and no norm bound made this pair
    # collapse (Adam) or diverge to NaN (SGD at lr 0.1) within 1,000 steps here.
    _uniform_init(G, 0.05)
    _uniform_init(D, 0.005)
    return Generator(G, cfg.latent_dim, (0.0, 1.0), cfg.classes), wrap_d(cfg, D, max_norm=1.9365)


def _uniform_init(net: nn.Module, r: float) -> None:
    for m in net.modules():
        if isinstance(m, nn.Linear):
            nn.init.uniform_(m.weight, -r, r)
            nn.init.zeros_(m.bias)
