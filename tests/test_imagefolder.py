"""A folder of a person's own images trains like any image set: any sizes, grey or colour, classes from
subfolders, broken files skipped and counted, and every way a folder can be wrong refused in one line."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from ganlab import Trainer, make_config
from ganlab import imagefolder
from ganlab.cli import main
from ganlab.data import load_dataset
from ganlab.errors import ConfigError, DataError
from ganlab.evaluate import evaluate


def write_folder(root, grey_only: bool = False, corrupt: bool = True):
    """cats/: colour PNGs of several sizes; dogs/: grey JPEGs; a file at the top; a corrupt file."""
    rng = np.random.default_rng(0)
    (root / "cats").mkdir(parents=True)
    (root / "dogs").mkdir()
    for i in range(6):
        size = (40 + 7 * i, 90 - 5 * i)
        if grey_only:
            Image.fromarray(rng.integers(0, 255, size, dtype=np.uint8)).save(root / "cats" / f"{i}.png")
        else:
            Image.fromarray(rng.integers(0, 255, (*size, 3), dtype=np.uint8)).save(root / "cats" / f"{i}.png")
        Image.fromarray(rng.integers(0, 255, size[::-1], dtype=np.uint8)).save(root / "dogs" / f"{i}.jpg")
    Image.fromarray(rng.integers(0, 255, (30, 30), dtype=np.uint8)).save(root / "top.PNG")
    (root / "notes.txt").write_text("not an image, not counted")
    if corrupt:
        (root / "dogs" / "broken.png").write_bytes(b"\x89PNG but then nothing")
    return root


def test_a_folder_loads_as_classes_of_centre_cropped_images_with_broken_files_counted(tmp_path, capsys):
    root = write_folder(tmp_path / "pets")
    data = load_dataset(f"folder:{root}", image_size=32, channels=3)
    assert data.codes.dtype == torch.uint8 and data.codes.shape == (13, 3 * 32 * 32)      # 6 + 6 + 1, broken one out
    assert data.shape == (3, 32, 32) and data.levels == 255
    assert torch.bincount(data.labels).tolist() == [1, 6, 6]            # "" (the top), cats, dogs
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "skipped 1 of 14 files" in err and "broken.png" in err
    assert data.images.min() >= 0 and data.images.max() <= 1
    assert load_dataset(f"folder:{root}", image_size=64, channels=1).codes.shape == (13, 64 * 64)


def test_grey_folders_train_grey_and_mixed_ones_colour_by_default(tmp_path):
    assert make_config(data=f"folder:{write_folder(tmp_path / 'mixed')}").channels == 3
    grey = make_config(data=f"folder:{write_folder(tmp_path / 'grey', grey_only=True)}")
    assert grey.channels == 1 and grey.shape == (1, 32, 32) and grey.model == "pytorch-dcgan"
    assert make_config(data=f"folder:{tmp_path / 'grey'}", channels=3).channels == 3     # asked for: kept


def test_a_centre_crop_keeps_the_middle_of_a_wide_image(tmp_path):
    wide = np.zeros((50, 100, 3), np.uint8)
    wide[:, :25] = (255, 0, 0)
    wide[:, 25:75] = (0, 255, 0)
    wide[:, 75:] = (0, 0, 255)
    (tmp_path / "one").mkdir()
    Image.fromarray(wide).save(tmp_path / "one" / "wide.png")
    x = load_dataset(f"folder:{tmp_path / 'one'}", image_size=32, channels=3).images.reshape(3, 32, 32)
    inner = x[:, :, 1:-1]           # the resampling filter reaches a pixel past the crop at its edges
    assert inner[1].min() > 0.99 and inner[0].max() < 0.01 and inner[2].max() < 0.01   # green: the sides are cut


def test_a_relative_folder_is_kept_as_a_full_path(tmp_path, monkeypatch):
    write_folder(tmp_path / "pets", corrupt=False)
    monkeypatch.chdir(tmp_path)
    assert make_config(data="folder:pets").data == f"folder:{tmp_path / 'pets'}"


@pytest.mark.parametrize("size", [32, 64])
def test_a_conv_pair_trains_on_a_folder_and_samples_at_its_size(tmp_path, size):
    root = write_folder(tmp_path / "pets", corrupt=False)
    t = Trainer(make_config(data=f"folder:{root}", image_size=size, batch_size=4), device="cpu")
    stats = t.step(2)
    assert np.isfinite(stats["d_loss"]) and t.config.model == "pytorch-dcgan"
    x = t.sample(5)
    assert x.shape == (5, 3, size, size) and 0 <= x.min() and x.max() <= 1
    t.save(tmp_path / "run.pt")
    again = Trainer.load(tmp_path / "run.pt", device="cpu")
    assert torch.equal(again.sample(5), x)
    out = evaluate(again, n=20)
    assert "classifier" in out["not_applicable"] and "parzen" in out["not_applicable"]


def test_every_wrong_folder_is_refused_in_one_line_before_training(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    (tmp_path / "a-file.png").write_bytes(b"x")
    cases = {tmp_path / "missing": "no such image folder", tmp_path / "empty": "holds no PNG or JPEG files",
             tmp_path / "a-file.png": "is a file, not a folder"}
    for path, says in cases.items():
        out = tmp_path / "o.pt"
        assert main(["train", "--data", f"folder:{path}", "--steps", "1", "--out", str(out), "--quiet"]) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and says in err and not out.exists(), err
    only_broken = tmp_path / "broken"
    only_broken.mkdir()
    (only_broken / "x.jpg").write_bytes(b"nope")
    with pytest.raises(DataError, match="none of the 1 image files"):
        load_dataset(f"folder:{only_broken}")


def test_a_folder_too_large_for_memory_is_refused_before_decoding_with_a_size_that_fits(tmp_path, monkeypatch):
    root = write_folder(tmp_path / "pets", corrupt=False)
    monkeypatch.setattr(imagefolder, "available_memory", lambda: 40_000)
    decoded = []
    monkeypatch.setattr(imagefolder, "_prepared", lambda *a: decoded.append(a))
    with pytest.raises(DataError, match=r"13 images of 3x64x64 take 156\.0 KiB.*--image-size 32, or a folder of at most 1 images"):
        load_dataset(f"folder:{root}", image_size=64, channels=3)
    assert not decoded


def test_folder_models_and_classes_are_checked(tmp_path):
    root = write_folder(tmp_path / "pets", corrupt=False)
    with pytest.raises(ConfigError, match="for 28x28 images .* use model 'pytorch-dcgan'"):
        make_config(data=f"folder:{root}", model="dcgan-deep")
    with pytest.raises(ConfigError, match="cond needs the number of classes"):
        make_config(data=f"folder:{root}", cond="projection")
    with pytest.raises(ConfigError, match="square images of side 32 or 64, not 'mnist'"):
        make_config(data="mnist", model="pytorch-dcgan")


def test_cifar10_offline_names_the_file_to_put_in_place(tmp_path, monkeypatch):
    from torchvision import datasets

    def offline(*args, **kwargs):
        raise RuntimeError("no network")

    monkeypatch.setattr(datasets, "CIFAR10", type("CIFAR10", (), {"__new__": offline, "filename": "cifar-10-python.tar.gz"}))
    with pytest.raises(DataError, match=f"could not load cifar10 from {tmp_path}.*put cifar-10-python.tar.gz there"):
        load_dataset("cifar10", tmp_path)
    cfg = make_config(data="cifar10")
    assert cfg.shape == (3, 32, 32) and cfg.model == "pytorch-dcgan" and cfg.classes == 0


def zip_of(entries: dict[str, bytes]) -> io.BytesIO:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    buf.seek(0)
    return buf


def png(seed: int, grey: bool = False) -> bytes:
    rng = np.random.default_rng(seed)
    out = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (20, 30) if grey else (20, 30, 3), dtype=np.uint8)).save(out, "PNG")
    return out.getvalue()


def test_a_zip_unpacks_its_images_with_one_wrapping_folder_unwrapped(tmp_path):
    source = zip_of({"pets/cats/a.png": png(0), "pets/dogs/b.png": png(1), "pets/readme.txt": b"hi",
                     "__MACOSX/pets/._a.png": b"resource fork", "pets/.hidden.png": png(2)})
    folder = imagefolder.unpack_zip(source, tmp_path / "up")
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.png")) == ["cats/a.png", "dogs/b.png"]
    assert imagefolder.image_files(folder)[2] == ["cats", "dogs"]


@pytest.mark.parametrize("evil", ["../outside.png", "/etc/evil.png", "C:/evil.png", "a/../../outside.png"])
def test_a_zip_with_a_path_out_of_its_folder_is_refused_and_nothing_is_written(tmp_path, evil):
    with pytest.raises(DataError, match="leads out of the folder"):
        imagefolder.unpack_zip(zip_of({"ok.png": png(0), evil: png(1)}), tmp_path / "up")
    assert not (tmp_path / "up").exists() and not (tmp_path / "outside.png").exists()


def test_zip_bombs_and_oversized_uploads_are_refused_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr(imagefolder, "MAX_UNPACKED_BYTES", 1_000_000)
    bomb = zip_of({"a.png": png(0), "b.png": bytes(5_000_000)})          # 5 MB of zeros: a few KB zipped
    assert len(bomb.getvalue()) < 50_000
    with pytest.raises(DataError, match="unpacks to more than 976.6 KiB, the most that is unpacked"):
        imagefolder.unpack_zip(bomb, tmp_path / "up")
    assert not (tmp_path / "up").exists()
    with pytest.raises(DataError, match="not a zip file"):
        imagefolder.unpack_zip(io.BytesIO(b"PK not really"), tmp_path / "up3")
    with pytest.raises(DataError, match="holds no PNG or JPEG files"):
        imagefolder.unpack_zip(zip_of({"notes.txt": b"x"}), tmp_path / "up4")
    monkeypatch.setattr(imagefolder, "MAX_ZIP_BYTES", 100)
    with pytest.raises(DataError, match=r"is \d\.\d KiB; zips of images up to 0\.1 KiB are read"):
        imagefolder.unpack_zip(zip_of({"a.png": png(0)}), tmp_path / "up2")


def test_links_in_a_zip_are_left_out(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("real.png", png(0))
        link = zipfile.ZipInfo("link.png")
        link.external_attr = (0o120777 << 16)
        z.writestr(link, "/etc/passwd")
    folder = imagefolder.unpack_zip(io.BytesIO(buf.getvalue()), tmp_path / "up")
    assert [p.name for p in folder.iterdir()] == ["real.png"]


def test_a_persons_photo_is_made_as_the_folder_images_are(tmp_path):
    from ganlab.imagefiles import to_dataset_image

    photo = Image.fromarray(np.random.default_rng(3).integers(0, 255, (60, 90, 3), dtype=np.uint8))
    x, steps = to_dataset_image(photo, (3, 32, 32), photo=True)
    (tmp_path / "one").mkdir()
    photo.save(tmp_path / "one" / "p.png")
    same = load_dataset(f"folder:{tmp_path / 'one'}", image_size=32, channels=3).images.reshape(3, 32, 32)
    assert x.shape == (3, 32, 32) and torch.equal(x, same) and steps[0][1].shape == (32, 32, 3)
    grey, _ = to_dataset_image(np.zeros((50, 50, 4), np.uint8), (1, 64, 64), photo=True)   # a blank canvas
    assert grey.shape == (1, 64, 64) and float(grey.max()) == 0.0
