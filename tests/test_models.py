import torch
from torch import nn

from ganlab import build_models, make_config
from ganlab.models import Dropout, GaussianNoise, Maxout, WNLinear, count_parameters, set_noise_generator


def test_seed_pair_has_the_seed_scripts_parameter_counts():
    G, D = build_models(make_config(data="mnist", model="seed"))
    assert count_parameters(G) == 1_510_032
    assert count_parameters(D) == 533_505


def test_seed_batchnorm_keeps_the_seeds_eps_of_0_8():
    G, _ = build_models(make_config(data="mnist", model="seed"))
    norms = [m for m in G.modules() if isinstance(m, nn.BatchNorm1d)]
    assert [m.num_features for m in norms] == [256, 512, 1024]
    assert all(m.eps == 0.8 and m.momentum == 0.1 for m in norms)


def test_paper_pair_matches_the_published_mnist_model():
    G, D = build_models(make_config(data="mnist", model="paper"))
    assert [m.out_features for m in G.modules() if isinstance(m, nn.Linear)] == [1200, 1200, 784]
    maxouts = [m for m in D.modules() if isinstance(m, Maxout)]
    assert [(m.units, m.pieces) for m in maxouts] == [(240, 5), (240, 5)]
    assert [m.p for m in D.modules() if isinstance(m, Dropout)] == [0.2, 0.5, 0.5]
    assert G.out_range == (0.0, 1.0)


def test_dcgan_keeps_its_layers_so_saved_runs_still_load():
    G, D = build_models(make_config(data="mnist", model="dcgan"))
    assert (count_parameters(G), count_parameters(D)) == (778_305, 138_561)
    assert [k for k in D.state_dict()] == ["net.1.weight", "net.1.bias", "net.3.weight", "net.3.bias",
                                           "net.6.weight", "net.6.bias"]


def test_dcgan_deep_adds_a_conv_at_7x7_and_14x14_to_g_and_a_third_strided_conv_to_d():
    G, D = build_models(make_config(data="mnist", model="dcgan-deep"))
    assert [(m.in_channels, m.out_channels, m.kernel_size, m.stride) for m in G.modules()
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))] == \
        [(128, 128, (3, 3), (1, 1)), (128, 64, (4, 4), (2, 2)), (64, 64, (3, 3), (1, 1)), (64, 1, (4, 4), (2, 2))]
    assert [(m.out_channels, m.stride) for m in D.modules() if isinstance(m, nn.Conv2d)] == \
        [(64, (2, 2)), (128, (2, 2)), (256, (2, 2))]
    assert not any(isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)) for m in D.modules())   # [real; fake] in one pass
    assert (count_parameters(G), count_parameters(D)) == (963_201, 431_553)


def test_improved_gan_pair_matches_salimans_et_als_published_mnist_model():
    G, D = build_models(make_config(data="mnist", model="improved-gan", semi_labels=100))
    assert [m.v.shape[0] for m in D.modules() if isinstance(m, WNLinear)] == [1000, 500, 250, 250, 250, 10]
    assert [m.std for m in D.modules() if isinstance(m, GaussianNoise)] == [0.3, 0.5, 0.5, 0.5, 0.5, 0.5]
    # the hidden layers' scales are fixed after their data-dependent start; the last layer's learns
    assert [isinstance(m.g, nn.Parameter) for m in D.modules() if isinstance(m, WNLinear)] == [False] * 5 + [True]
    assert [m.num_features for m in G.modules() if isinstance(m, nn.BatchNorm1d)] == [500, 500]
    assert (count_parameters(G), count_parameters(D)) == (696_568, 1_538_770)
    assert D.features(torch.rand(3, 784)).shape == (3, 250) and G.out_range == (0.0, 1.0)
    _, unsupervised = build_models(make_config(data="mnist", model="improved-gan"))
    assert unsupervised(torch.rand(3, 784)).shape == (3,) and unsupervised.heads == 1
    _, projection = build_models(make_config(data="mnist", model="improved-gan", cond="projection", loss="nonsat"))
    assert projection(torch.rand(3, 784), torch.tensor([0, 4, 9])).shape == (3,)


@torch.no_grad()
def test_generators_stay_in_their_output_range_and_d_returns_logits():
    for model, lo, hi in (("seed", -1, 1), ("paper", 0, 1), ("dcgan", -1, 1), ("dcgan-deep", -1, 1),
                          ("improved-gan", 0, 1)):
        G, D = build_models(make_config(data="mnist", model=model))
        G.eval()
        x = G(torch.randn(16, 100) * 10)
        assert x.shape == (16, 784) and lo <= float(x.min()) and float(x.max()) <= hi
        logits = D(torch.full((4, 784), 0.5))
        assert logits.shape == (4,)
    _, D = build_models(make_config(data="ring"))
    D.net[-1].bias.data.fill_(50.0)          # a sigmoid output would be stuck at 1.0 here
    assert float(D(torch.zeros(1, 2))) > 40


def test_mlp_width_and_depth_are_settable():
    G, D = build_models(make_config(data="ring", hidden=32, depth=4, latent_dim=3))
    assert [m.out_features for m in G.modules() if isinstance(m, nn.Linear)] == [32, 32, 32, 32, 2]
    assert [m.in_features for m in D.modules() if isinstance(m, nn.Linear)] == [2, 32, 32, 32, 32]


def test_initialisation_depends_on_the_seed_only():
    a, _ = build_models(make_config(data="ring", seed=1))
    torch.manual_seed(999)
    b, _ = build_models(make_config(data="ring", seed=1))
    c, _ = build_models(make_config(data="ring", seed=2))
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not torch.equal(next(a.parameters()), next(c.parameters()))


def test_dropout_masks_come_from_the_trainers_generator():
    _, D = build_models(make_config(data="mnist", model="paper"))
    x = torch.rand(8, 784)
    outs = []
    for _ in range(2):
        set_noise_generator(D, torch.Generator().manual_seed(3))
        torch.manual_seed(len(outs))           # a different global RNG each time: must not matter
        outs.append(D(x))
    assert torch.equal(outs[0], outs[1])
    D.eval()
    assert torch.equal(D(x), D(x))
    drop = Dropout(0.5)
    drop.generator = torch.Generator().manual_seed(0)
    y = drop(torch.ones(100_000))
    assert set(y.unique().tolist()) == {0.0, 2.0} and abs(float(y.mean()) - 1) < 0.02


def test_paper_model_uses_the_published_init_and_keeps_d_within_its_max_norm():
    from ganlab import Trainer
    G, D = build_models(make_config(data="mnist", model="paper"))
    assert all(float(m.weight.detach().abs().max()) <= 0.05 for m in G.modules() if isinstance(m, nn.Linear))
    assert all(float(m.weight.detach().abs().max()) <= 0.005 for m in D.modules() if isinstance(m, nn.Linear))
    t = Trainer(make_config(data="digits", model="paper", batch_size=32, lr_d=5.0), device="cpu")
    t.step(3)                                   # a huge lr pushes weights out; the projection brings them back
    for m in t.D.modules():
        if isinstance(m, nn.Linear):
            assert float(m.weight.detach().norm(dim=1).max()) <= 1.9365 + 1e-4
