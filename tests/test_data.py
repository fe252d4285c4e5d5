import numpy as np
import pytest
import torch
from scipy import stats

from ganlab import DataError, load_dataset
from ganlab.data import default_data_root

MNIST_TRAIN_HIST = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


def test_ring_and_grid_have_the_documented_modes():
    ring = load_dataset("ring")
    assert ring.centres.shape == (8, 2) and ring.std == 0.02
    assert torch.allclose(ring.centres.norm(dim=1), torch.full((8,), 2.0))
    grid = load_dataset("grid")
    assert grid.centres.shape == (25, 2) and grid.std == 0.05
    assert sorted(set(grid.centres[:, 0].tolist())) == [-4.0, -2.0, 0.0, 2.0, 4.0]


@pytest.mark.parametrize("name", ["gaussian1d", "ring", "grid"])
def test_toy_log_prob_is_the_exact_mixture_density(name):
    dist = load_dataset(name)
    x = dist.sample(200, torch.Generator().manual_seed(0)).double()
    expected = np.log(np.mean([
        stats.multivariate_normal(c.numpy(), dist.std**2 * np.eye(dist.dim)).pdf(x.numpy()).reshape(-1)
        for c in dist.centres.double()], axis=0))
    assert np.allclose(dist.log_prob(x).numpy(), expected, rtol=1e-6, atol=1e-6)


def test_gaussian1d_density_integrates_to_one_and_samples_match_it():
    dist = load_dataset("gaussian1d")
    grid = torch.linspace(-3, 7, 20001).unsqueeze(1)
    integral = torch.trapezoid(dist.log_prob(grid).exp(), grid.squeeze(1))
    assert abs(float(integral) - 1) < 1e-4
    x = dist.sample(20000, torch.Generator().manual_seed(0))
    assert abs(float(x.mean()) - 2.0) < 0.02 and abs(float(x.std()) - 0.5) < 0.02


def test_samples_come_only_from_the_given_generator():
    dist = load_dataset("ring")
    a = dist.sample(5, torch.Generator().manual_seed(7))
    torch.manual_seed(123)   # the global RNG must not matter
    b = dist.sample(5, torch.Generator().manual_seed(7))
    assert torch.equal(a, b)


def test_digits_needs_no_download_and_is_in_unit_range():
    digits = load_dataset("digits")
    assert digits.images.shape == (1797, 64) and digits.shape == (1, 8, 8)
    assert float(digits.images.min()) == 0.0 and float(digits.images.max()) == 1.0
    assert digits.sample(10, torch.Generator().manual_seed(0)).shape == (10, 64)


def test_mnist_loader_reads_idx_files_through_torchvision(tiny_mnist_root):
    root, images, labels = tiny_mnist_root
    ds = load_dataset("mnist", root=root)
    assert ds.shape == (1, 28, 28) and ds.images.shape == (20, 784)
    assert torch.allclose(ds.images, torch.as_tensor(images.reshape(20, -1) / 255.0, dtype=torch.float32))
    assert ds.labels.tolist() == labels.tolist()


def test_data_root_comes_from_the_environment(monkeypatch, tiny_mnist_root):
    root, _, _ = tiny_mnist_root
    monkeypatch.setenv("GANLAB_DATA", str(root))
    assert default_data_root() == root
    assert len(load_dataset("mnist")) == 20


def test_missing_data_offline_says_where_to_put_the_files(tmp_path, monkeypatch):
    from torchvision import datasets
    monkeypatch.setattr(datasets.MNIST, "mirrors", ["http://127.0.0.1:9/"])   # nothing listens there
    with pytest.raises(DataError) as info:
        load_dataset("mnist", root=tmp_path)
    message = str(info.value)
    assert "\n" not in message
    assert str(tmp_path / "MNIST" / "raw") in message and "train-images-idx3-ubyte.gz" in message


def test_real_mnist_label_histogram(real_data_root):
    train = load_dataset("mnist", root=real_data_root)
    assert torch.bincount(train.labels).tolist() == MNIST_TRAIN_HIST
    assert train.labels[0] == 5 and abs(float(train.images.mean()) - 0.1307) < 1e-3
    test = load_dataset("mnist", root=real_data_root, train=False)
    assert len(test) == 10_000 and test.labels[0] == 7


def test_real_fashion_mnist(real_data_root):
    train = load_dataset("fashion-mnist", root=real_data_root)
    assert torch.bincount(train.labels).tolist() == [6000] * 10
    assert abs(float(train.images.mean()) - 0.2860) < 1e-3


@pytest.mark.parametrize("lo, hi", [(-1.0, 1.0), (0.0, 1.0)])
def test_training_images_are_held_as_uint8_and_batches_equal_mapping_the_whole_set(tiny_mnist_root, lo, hi):
    root, _, _ = tiny_mnist_root
    for data in (load_dataset("mnist", root), load_dataset("digits")):
        training = data.for_training(lo, hi)
        assert training.codes.dtype == torch.uint8 and training.codes.nbytes * 4 == data.images.nbytes
        whole = data.images * (hi - lo) + lo          # what the trainer used to hold
        a = training.sample(64, torch.Generator().manual_seed(1))
        b = _draw_reference(whole, 64, torch.Generator().manual_seed(1))
        assert torch.equal(a, b)


def _draw_reference(rows, n, generator):
    return rows[torch.randint(len(rows), (n,), generator=generator)]


def test_points_drawn_on_the_canvas_land_where_they_were_drawn_and_bad_sets_are_refused():
    from ganlab.data import point_cloud, points_from_drawing

    drawing = {"objects": [
        # streamlit-drawable-canvas 0.13 (Fabric 7): a click at (300, 60) on a point of radius 3, stroke 2
        {"type": "Circle", "left": 296.0, "top": 60.0, "radius": 3, "strokeWidth": 2, "originX": "left", "originY": "center"},
        {"type": "Path", "path": [["M", 0.0, 300.0], ["Q", 10.0, 300.0, 150.0, 150.0], ["L", 300.0, 0.0]]}]}
    pts = points_from_drawing(drawing, 300, 300, span=3.0)
    assert np.allclose(pts, [(3.0, 1.8), (-3.0, -3.0), (0.0, 0.0), (3.0, 3.0)])          # y up, [-3, 3]^2
    assert points_from_drawing(None, 300, 300, 3.0) == []
    for bad, says in (([(0.0, 0.0)], "has 1 point;"), ([(1.0, 1.0)] * 5, "all its points at one place")):
        with pytest.raises(DataError, match=says):
            point_cloud(bad, "the drawing")
    assert len(point_cloud(pts * 1000, "the drawing").points) == 4000     # thousands of clicks are a data set
