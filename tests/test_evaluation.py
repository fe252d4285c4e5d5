import math

import numpy as np
import pytest
import torch
from scipy import linalg
from scipy.special import logsumexp

from ganlab import CheckpointError, Trainer, make_config
from ganlab.classifier import SmallCNN, load_classifier, predict, save_classifier
from ganlab.evaluate import evaluate
from ganlab.metrics import class_histogram_metrics, frechet_distance, parzen_evaluate, parzen_log_likelihood


def test_parzen_log_likelihood_matches_a_direct_numpy_computation():
    rng = np.random.default_rng(0)
    centres, x = rng.random((300, 20)), rng.random((40, 20))
    sigmas = [0.1, 0.3]
    ours = parzen_log_likelihood(torch.as_tensor(centres), torch.as_tensor(x), sigmas, chunk=7).numpy()
    for i, s in enumerate(sigmas):
        sq = ((x[:, None, :] - centres[None]) ** 2).sum(-1)
        ref = logsumexp(-sq / (2 * s**2), axis=1) - math.log(300) - 10 * math.log(2 * math.pi * s**2)
        assert np.allclose(ours[i], ref, rtol=1e-10, atol=1e-8)


def test_parzen_protocol_picks_sigma_on_validation_and_reports_the_standard_error():
    g = torch.Generator().manual_seed(0)
    centres = torch.rand(500, 10, generator=g, dtype=torch.float64)
    valid, test = torch.rand(100, 10, generator=g, dtype=torch.float64), torch.rand(200, 10, generator=g, dtype=torch.float64)
    r = parzen_evaluate(centres, valid, test)
    assert f"{r['sigma']:.4f}" == max(r["valid_by_sigma"], key=r["valid_by_sigma"].get)
    ll = parzen_log_likelihood(centres, test, [r["sigma"]])[0]
    assert r["mean"] == pytest.approx(float(ll.mean())) and r["sem"] == pytest.approx(float(ll.std() / math.sqrt(200)))


def test_frechet_distance_matches_the_scipy_sqrtm_formula_and_is_zero_on_itself():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(2000, 8, generator=g, dtype=torch.float64)
    b = torch.randn(2000, 8, generator=g, dtype=torch.float64) @ torch.diag(torch.linspace(0.5, 2, 8, dtype=torch.float64)) + 0.3
    sa, sb = np.cov(a.T.numpy()), np.cov(b.T.numpy())
    ref = ((a.mean(0) - b.mean(0)) ** 2).sum().item() + np.trace(sa + sb - 2 * linalg.sqrtm(sa @ sb).real)
    assert frechet_distance(a, b) == pytest.approx(ref, rel=1e-8)
    assert abs(frechet_distance(a, a)) < 1e-8


def test_class_histogram_metrics():
    eye = torch.eye(10)
    uniform_confident = eye.repeat(100, 1)                       # every class, confidently
    m = class_histogram_metrics(uniform_confident)
    assert m["classes_covered"] == 10 and m["class_kl_to_uniform"] == pytest.approx(0)
    assert m["classifier_score"] == pytest.approx(10)
    collapsed = eye[[3]].repeat(1000, 1)
    m = class_histogram_metrics(collapsed)
    assert m["classes_covered"] == 1 and m["class_kl_to_uniform"] == pytest.approx(math.log(10))
    assert m["classifier_score"] == pytest.approx(1)
    stray = torch.cat([eye[[3]].repeat(999, 1), eye[[4]]])       # one stray sample is not coverage
    assert class_histogram_metrics(stray)["classes_covered"] == 1


def test_evaluate_on_toy_runs_reports_what_applies():
    ring = Trainer(make_config(data="ring"), device="cpu")
    ring.step(5)
    out = evaluate(ring, n=500)
    assert set(out) == {"losses", "modes", "not_applicable"} and out["modes"]["modes_total"] == 8
    assert "mnist and fashion-mnist" in out["not_applicable"]["parzen"]        # what it says instead of a number
    one_d = Trainer(make_config(data="gaussian1d"), device="cpu")
    out = evaluate(one_d)
    assert set(out) == {"moments", "not_applicable"} and "losses" in out["not_applicable"]   # no history yet


def test_classifier_files_round_trip_and_refuse_the_wrong_dataset(tmp_path):
    model = SmallCNN().eval()
    save_classifier(model, tmp_path / "c.pt", "mnist", 0.5, 1.0)
    loaded = load_classifier(tmp_path / "c.pt", "mnist")
    x = torch.rand(5, 1, 28, 28)
    probs, feats = predict(loaded, x)
    assert probs.shape == (5, 10) and feats.shape == (5, 128)
    assert torch.allclose(probs.sum(1), torch.ones(5)) and torch.allclose(probs, predict(model, x)[0])
    with pytest.raises(CheckpointError, match="classifies 'mnist', not 'fashion-mnist'"):
        load_classifier(tmp_path / "c.pt", "fashion-mnist")
    t = Trainer(make_config(data="ring"), device="cpu")
    t.save(tmp_path / "g.pt")
    with pytest.raises(CheckpointError, match="not a ganlab classifier"):
        load_classifier(tmp_path / "g.pt", "mnist")


@pytest.mark.slow
def test_shipped_mnist_classifier_is_accurate(real_data_root):
    from ganlab.checkpoint import checkpoint_dir
    from ganlab.classifier import accuracy
    from ganlab.data import load_dataset
    path = checkpoint_dir() / "classifier-mnist.pt"
    if not path.is_file():
        pytest.skip("checkpoints/classifier-mnist.pt not shipped")
    assert accuracy(load_classifier(path, "mnist"), load_dataset("mnist", real_data_root, train=False)) >= 0.99


@pytest.mark.slow
def test_parzen_on_real_images_is_the_known_reference(real_data_root):
    from ganlab.data import load_dataset
    train = load_dataset("mnist", real_data_root, train=True)
    test = load_dataset("mnist", real_data_root, train=False)
    r = parzen_evaluate(train.images[-11000:-1000], train.images[-1000:], test.images[:2000])
    assert 225 < r["mean"] < 255 and r["sigma"] == pytest.approx(0.1668, rel=1e-3)


@pytest.mark.slow
def test_eval_cli_prints_the_image_metrics_of_the_shipped_mnist_model(real_data_root, capsys):
    import json

    from ganlab.checkpoint import checkpoint_dir
    from ganlab.cli import main
    ckpt, clf = checkpoint_dir() / "mnist-seed.pt", checkpoint_dir() / "classifier-mnist.pt"
    if not (ckpt.is_file() and clf.is_file()):
        pytest.skip("shipped MNIST checkpoints not present")
    assert main(["eval", str(ckpt), "--metric", "classifier", "--n", "2000", "--data-root", str(real_data_root)]) == 0
    result = json.loads(capsys.readouterr().out)["classifier"]
    real = result["real_test_images"]
    assert real["classes_covered"] == 10 and real["class_kl_to_uniform"] < 0.01 and real["classifier_score"] > 9
    assert result["generated"]["frechet_distance"] > real["frechet_distance"] > 0


@pytest.mark.slow
def test_the_recommended_recipe_draws_every_digit_evenly_within_1000_iterations(real_data_root):
    """The dcgan-deep preset (docs/performance.md, "A deeper pair"), 1,000 iterations (about a minute
    on 2 CPU cores): 10/10 digits, class KL <= 0.05 and within 25x of the Fréchet floor, where the
    dcgan preset is still above 100x."""
    from ganlab.evaluate import ClassifierJudge
    judge = ClassifierJudge("mnist", real_data_root, n=5000)
    t = Trainer(make_config(data="mnist", model="dcgan-deep"), device="cpu", data_root=real_data_root)
    t.step(1000)
    m = judge(t)
    assert m["classes_covered"] == 10 and m["class_kl_to_uniform"] <= 0.05 and m["frechet_over_floor"] <= 25, m


@pytest.mark.slow
def test_time_to_good_cli_judges_on_schedule_and_writes_its_trace(real_data_root, tmp_path, capsys):
    import json

    from ganlab.cli import main
    out = tmp_path / "ttg.json"
    assert main(["time-to-good", "--model", "dcgan-deep", "--budget", "1", "--eval-every", "10", "--json", str(out),
                 "--data-root", str(real_data_root)]) == 0
    result = json.loads(out.read_text())
    assert result["config"]["model"] == "dcgan-deep" and result["config"]["r1_every"] == 16
    assert result["seconds_to_good"] is None and result["frechet_floor"] > 0
    rows = result["trace"]
    assert [r["iterations"] for r in rows] == [10 * (i + 1) for i in range(len(rows))]
    # the clock (rounded to 0.1 s in the trace) stops the run at the first judgement past the budget
    assert rows[-1]["train_seconds"] >= 0.95 and all(r["train_seconds"] <= 1.05 for r in rows[:-1])
    assert "dcgan-deep on mnist: not good within 1 s" in capsys.readouterr().out


@pytest.mark.slow
def test_time_to_good_stops_at_its_iteration_budget_judging_the_last_part(real_data_root, tmp_path, capsys):
    import json

    from ganlab.cli import main
    out = tmp_path / "ttg.json"
    assert main(["time-to-good", "--model", "dcgan", "--budget", "600", "--eval-every", "4", "--max-iterations", "10",
                 "--json", str(out), "--data-root", str(real_data_root)]) == 0
    result = json.loads(out.read_text())
    assert [r["iterations"] for r in result["trace"]] == [4, 8, 10] and result["seconds_to_good"] is None
    assert "not good within 600 s or 10 iterations (10 iterations;" in capsys.readouterr().out
