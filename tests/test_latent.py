import math

import pytest
import torch

from ganlab.latent import SQRT3, interpolate, lerp, sample_z, slerp, z_from_seed


def test_priors_have_unit_variance_and_the_uniform_one_is_bounded():
    g = torch.Generator().manual_seed(0)
    for prior in ("normal", "uniform"):
        z = sample_z(200_000, 4, prior, g)
        assert abs(float(z.mean())) < 0.01 and abs(float(z.var()) - 1) < 0.01
    assert float(sample_z(10_000, 3, "uniform", g).abs().max()) <= SQRT3


def test_endpoints_are_reproducible_from_their_seed():
    assert torch.equal(z_from_seed(5, 100, "normal"), z_from_seed(5, 100, "normal"))
    assert not torch.equal(z_from_seed(5, 100, "normal"), z_from_seed(6, 100, "normal"))


def test_paths_start_and_end_at_the_endpoints():
    a, b = z_from_seed(0, 64, "normal"), z_from_seed(1, 64, "normal")
    for method in ("slerp", "lerp"):
        path = interpolate(a, b, 9, method)
        assert path.shape == (9, 64)
        assert torch.allclose(path[0], a, atol=1e-5) and torch.allclose(path[-1], b, atol=1e-5)


def test_slerp_keeps_the_norm_where_lerp_dips():
    a, b = z_from_seed(0, 100, "normal"), z_from_seed(1, 100, "normal")
    mid_slerp = interpolate(a, b, 3, "slerp")[1].norm()
    mid_lerp = interpolate(a, b, 3, "lerp")[1].norm()
    assert min(a.norm(), b.norm()) - 1e-4 <= mid_slerp <= max(a.norm(), b.norm()) + 1e-4
    assert mid_lerp < 0.8 * mid_slerp           # nearly orthogonal in 100-d: |lerp| ~ |z| / sqrt 2


def test_slerp_moves_at_constant_angular_speed():
    a, b = z_from_seed(2, 16, "normal"), z_from_seed(3, 16, "normal")
    a = a / a.norm()
    b = b / b.norm()
    path = slerp(a, b, torch.linspace(0, 1, 11))
    angles = [math.acos(max(-1.0, min(1.0, float(path[i] @ path[i + 1])))) for i in range(10)]
    assert max(angles) - min(angles) < 1e-4


@pytest.mark.parametrize("case", ["identical", "parallel", "antipodal", "zero"])
def test_slerp_edge_cases_give_finite_sensible_paths(case):
    a = z_from_seed(0, 10, "normal")
    b = {"identical": a.clone(), "parallel": 3 * a, "antipodal": -a, "zero": torch.zeros(10)}[case]
    path = interpolate(a, b, 7, "slerp")
    assert torch.isfinite(path).all()
    assert torch.allclose(path[0], a, atol=1e-5) and torch.allclose(path[-1], b, atol=1e-5)
    if case == "identical":
        assert torch.allclose(path, a.expand(7, -1), atol=1e-6)
    if case == "parallel":
        assert torch.allclose(path, lerp(a, b, torch.linspace(0, 1, 7)), atol=1e-5)
    if case == "antipodal":      # a half great circle: constant norm, never through the origin
        assert torch.allclose(path.norm(dim=1), a.norm().expand(7), rtol=1e-5)
        assert abs(float(path[3] @ a)) < 1e-4


def test_bad_path_arguments_are_refused():
    a = torch.ones(3)
    with pytest.raises(ValueError, match="steps >= 2"):
        interpolate(a, a, 1)
    with pytest.raises(ValueError, match="unknown interpolation"):
        interpolate(a, a, 3, "bezier")
