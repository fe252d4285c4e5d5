import pickle

import pytest
import torch

from ganlab import CheckpointError, Trainer, make_config
from ganlab.checkpoint import load_checkpoint

from conftest import RunsCode


@pytest.fixture
def ckpt(tmp_path):
    t = Trainer(make_config(data="ring", seed=0), device="cpu")
    t.step(3)
    path = tmp_path / "ring.pt"
    t.save(path)
    return path


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_a_crafted_pickle_is_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save({"format": "ganlab-checkpoint", "payload": RunsCode(marker)}, path)
    with pytest.raises(CheckpointError, match="refused without running them"):
        load_checkpoint(path)
    assert not marker.exists()
    # a plain pickle file, not a torch zip
    path.write_bytes(pickle.dumps(RunsCode(marker)))
    with pytest.raises(CheckpointError):
        Trainer.load(path, device="cpu")
    assert not marker.exists()


@pytest.mark.parametrize("content, message", [
    (b"hello, I am a text file\n", "is not a ganlab checkpoint"),
    (b"", "is not a ganlab checkpoint"),
])
def test_files_that_are_not_checkpoints_get_one_line_errors(tmp_path, content, message):
    path = tmp_path / "x.pt"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=message) as info:
        Trainer.load(path, device="cpu")
    assert "\n" not in str(info.value)


def test_a_truncated_checkpoint_is_reported_as_such(ckpt):
    data = ckpt.read_bytes()
    for cut in (len(data) // 2, len(data) - 10, 100):
        ckpt.write_bytes(data[:cut])
        with pytest.raises(CheckpointError, match="truncated or corrupt"):
            Trainer.load(ckpt, device="cpu")


def test_a_torch_file_without_the_format_tag_is_refused(tmp_path):
    path = tmp_path / "weights.pt"
    torch.save({"weight": torch.zeros(3)}, path)
    with pytest.raises(CheckpointError, match="no format tag"):
        Trainer.load(path, device="cpu")
    torch.save({"format": "ganlab-checkpoint", "version": 99}, path)
    with pytest.raises(CheckpointError, match="version 99"):
        Trainer.load(path, device="cpu")


def test_weights_that_do_not_fit_the_config_are_refused(ckpt):
    sd = torch.load(ckpt, weights_only=True)
    sd["config"]["hidden"] = 64          # the stored weights are 128 wide
    torch.save(sd, ckpt)
    with pytest.raises(CheckpointError, match="do not fit the model"):
        Trainer.load(ckpt, device="cpu")
    sd["config"]["lr_g"] = -1.0
    torch.save(sd, ckpt)
    with pytest.raises(CheckpointError, match="invalid config: lr_g must be"):
        Trainer.load(ckpt, device="cpu")


@pytest.mark.parametrize("key, bad", [("G_ema", 5), ("G_ema", {"net.0.weight": torch.zeros(3, 3)}), ("G", 5), ("opt_d", [])])
def test_weights_of_the_wrong_kind_are_refused(ckpt, key, bad):
    sd = torch.load(ckpt, weights_only=True)
    sd["config"]["ema"] = 0.999
    sd[key] = bad
    torch.save(sd, ckpt)
    with pytest.raises(CheckpointError, match="do not fit the model"):
        Trainer.load(ckpt, device="cpu")


def test_load_state_dict_refuses_a_checkpoint_of_another_setup(ckpt):
    other = Trainer(make_config(data="grid"), device="cpu")
    with pytest.raises(CheckpointError, match="data differ"):
        other.load_state_dict(torch.load(ckpt, weights_only=True))


def test_a_failed_save_leaves_the_old_file_intact(ckpt, monkeypatch):
    before = ckpt.read_bytes()
    t = Trainer.load(ckpt, device="cpu")

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", boom)
    with pytest.raises(OSError):
        t.save(ckpt)
    assert ckpt.read_bytes() == before
    assert [p.name for p in ckpt.parent.iterdir()] == [ckpt.name]
