"""Property-based tests of every way a setting gets in: the library's Config, the CLI's flags and the
app's URL. Whatever a person types is either refused with one line that names what is wrong, or
trains. The oracle below is written from the documented rules, not from the validation code.
GANLAB_FUZZ_EXAMPLES sets the number of inputs per test (docs/reliability.md records one run of 1,000)."""

from __future__ import annotations

import contextlib
import errno
import functools
import io
import math
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ganlab import Config, Trainer
from ganlab.cli import main
from ganlab.errors import ConfigError, DivergenceError
from ganlab.links import read_link

CHOICES = {"data": ("gaussian1d", "ring", "grid", "mnist", "fashion-mnist", "digits", "cifar10", "points"),
           # "seed" is the old name of "pytorch-mlp", still accepted
           "model": ("mlp", "pytorch-mlp", "seed", "paper", "dcgan", "dcgan-deep", "improved-gan", "pytorch-dcgan"),
           "image_size": (32, 64), "channels": (1, 3),
           "loss": ("nonsat", "minimax", "features", "ls", "hinge", "wgan-gp"),
           "optimizer": ("adam", "sgd"),
           "prior": ("normal", "uniform"), "precision": ("fp32", "bf16"),
           "cond": ("none", "input", "projection")}
REALS_0_1 = ("beta1", "beta2", "momentum", "momentum_end", "ema")
# The documented limits (README, Settings), written here rather than imported from the code they check.
INT_LIMITS = {"latent_dim": 4096, "hidden": 8192, "depth": 32, "k": 1000, "batch_size": 65_536, "r1_every": 1000}
DATASET_SIZES = {"mnist": 60_000, "fashion-mnist": 60_000, "digits": 1_797}
# semi_labels: 0, or a multiple of the 10 classes up to 10 times the smallest class of a labelled image set.
SEMI_MOST = {"mnist": 54_210, "fashion-mnist": 60_000, "digits": 1_740}
RATES = ("lr_g", "lr_d")
# The schedule: lr divided by lr_decay in [1, 2] each step, a momentum ramp of 0..10^9 steps; r1 in [0, 10^4].
# Networks small enough that a training step takes milliseconds (the bounds are tested separately).
SMALL = {"latent_dim": 16, "hidden": 32, "depth": 3, "k": 3, "batch_size": 64, "r1_every": 4}
TRAINABLE_HERE = ("gaussian1d", "ring", "grid", "digits")   # no download, no user file needed

junk = st.one_of(st.none(), st.booleans(), st.text(max_size=6), st.just(float("nan")),
                 st.sampled_from([float("inf"), -float("inf"), -1, 0, -0.5, 1.5, 2**63, 10**7]))


def valid_value(name: str):
    """Values the rules accept, small enough to train a step in milliseconds."""
    if name == "data":
        return st.sampled_from(TRAINABLE_HERE + ("mnist", "fashion-mnist", "points"))
    if name in CHOICES:
        return st.sampled_from(CHOICES[name])
    if name in INT_LIMITS:
        return st.integers(1, SMALL[name])
    if name in RATES:
        return st.floats(1e-6, 1e-2)
    if name in REALS_0_1:
        return st.floats(0.0, 0.99)
    if name == "lr_decay":
        return st.floats(1.0, 2.0)
    if name == "momentum_steps":
        return st.integers(0, 10**9)
    if name == "semi_labels":
        return st.sampled_from([0, 0, 10, 20, 100])
    if name in ("r1", "gp"):
        return st.floats(0.0, 1e4)
    return st.integers(0, 2**63 - 1)  # seed


def invalid_value(name: str):
    """Out of range, of the wrong type, or not a number at all."""
    if name == "steps":
        # Fixed values only: --steps has no upper bound, so junk's 10**7 or 2**63 (or a digit string
        # from its text) is a valid run of hours: two runs of this file sat in this test for 8+ minutes.
        return st.sampled_from([0, -1, 1.5, True, None, "", "abc", "nan"])
    if name in CHOICES:
        wrong = st.sampled_from(["", "RING", "vit", "wgan", "fp16"])
    elif name in INT_LIMITS:
        wrong = st.sampled_from([0, -1, INT_LIMITS[name] + 1, 2.0, True])
    elif name in RATES:
        wrong = st.sampled_from([0.0, -1e-3, float("inf")])
    elif name in REALS_0_1:
        wrong = st.sampled_from([1.0, -0.1, 1.5])
    elif name == "lr_decay":
        wrong = st.sampled_from([0.999, 0.0, -1.0, 2.5])
    elif name == "momentum_steps":
        wrong = st.sampled_from([-1, 10**9 + 1, 2.0, True])
    elif name in ("r1", "gp"):
        wrong = st.sampled_from([-0.1, 1e4 + 1, float("inf")])
    elif name == "semi_labels":
        wrong = st.sampled_from([-1, 60_001, 2.0, True])
    else:
        wrong = st.sampled_from([-1, 2**63, 1.0, False])
    return wrong | junk


FIELDS = sorted(Config.__dataclass_fields__)


@st.composite
def configs(draw):
    """A valid config (some fields left at their defaults), then, half the time, 1-2 fields broken."""
    chosen = draw(st.lists(st.sampled_from(FIELDS), unique=True, max_size=len(FIELDS)))
    c = {n: draw(valid_value(n)) for n in chosen}
    for n in draw(st.lists(st.sampled_from(FIELDS), unique=True, max_size=2)) if draw(st.booleans()) else []:
        c[n] = draw(invalid_value(n))
    return c


def expected_problem(c: dict) -> str | None:
    """Name of a field the documented rules refuse, or None when the config is valid."""
    merged = {n: c.get(n, f.default) for n, f in Config.__dataclass_fields__.items()}
    is_int = lambda v: isinstance(v, int) and not isinstance(v, bool)  # noqa: E731
    is_real = lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)  # noqa: E731
    bad = [n for n, allowed in CHOICES.items()                  # a choice, of the choices' own type
           if merged[n] not in allowed or isinstance(merged[n], bool) or not isinstance(merged[n], type(allowed[0]))]
    bad += [n for n, most in INT_LIMITS.items() if not (is_int(merged[n]) and 1 <= merged[n] <= most)]
    bad += [n for n in RATES if not (is_real(merged[n]) and 0 < merged[n] < math.inf)]
    bad += [n for n in REALS_0_1 if not (is_real(merged[n]) and 0 <= merged[n] < 1)]
    bad += [] if is_int(merged["seed"]) and 0 <= merged["seed"] < 2**63 else ["seed"]
    bad += [] if is_real(merged["lr_decay"]) and 1 <= merged["lr_decay"] <= 2 else ["lr_decay"]
    bad += [] if is_int(merged["momentum_steps"]) and 0 <= merged["momentum_steps"] <= 10**9 else ["momentum_steps"]
    bad += [n for n in ("r1", "gp") if not (is_real(merged[n]) and 0 <= merged[n] <= 1e4)]
    bad += [] if is_int(merged["semi_labels"]) and 0 <= merged["semi_labels"] <= 60_000 else ["semi_labels"]
    if bad:
        return " ".join(bad)
    images = ("mnist", "fashion-mnist", "digits")
    if merged["model"] in ("dcgan", "dcgan-deep") and merged["data"] not in ("mnist", "fashion-mnist"):   # 28x28 only
        return "28x28"
    if merged["model"] == "improved-gan" and merged["data"] not in images:                 # a model of images
        return "model"
    if merged["model"] == "pytorch-dcgan":             # square 32x32 or 64x64 images: none of the sets drawn here
        return "model"
    if merged["model"] in ("pytorch-mlp", "seed", "dcgan", "dcgan-deep", "improved-gan") and merged["batch_size"] < 2:
        return "batch_size"                                                               # BatchNorm: two samples
    if merged["cond"] != "none" and merged["data"] in ("gaussian1d", "points"):          # no classes
        return "cond"
    n = merged["semi_labels"]
    if n and (merged["data"] not in images or merged["cond"] != "none" or n % 10 or n > SEMI_MOST[merged["data"]]):
        return "semi_labels"
    if n and merged["loss"] in ("ls", "hinge", "wgan-gp"):               # a semi D's output is a probability
        return "semi_labels"
    if merged["loss"] == "features" and merged["cond"] != "none":                          # class-free features
        return "loss"
    if merged["batch_size"] > DATASET_SIZES.get(merged["data"], math.inf):
        return "batch_size"
    return None


@pytest.mark.slow
@settings(max_examples=int(os.environ.get("GANLAB_FUZZ_EXAMPLES", 300)), deadline=None)
@given(c=configs())
def test_every_config_is_refused_with_one_line_naming_a_bad_field_or_trains_a_step(c):
    problem = expected_problem(c)
    try:
        cfg = Config(**c)
    except ConfigError as exc:
        message = str(exc)
        event("refused")
        assert problem is not None, f"valid config refused: {message}"
        assert "\n" not in message and any(name in message for name in problem.split()), (problem, message)
        return
    assert problem is None, f"accepted a config the rules refuse ({problem}): {cfg}"
    event("valid")
    if cfg.data in TRAINABLE_HERE:
        t = Trainer(cfg, device="cpu")
        try:
            stats = t.step(1)
        except DivergenceError as exc:       # e.g. lr_d = 2**63: valid, and it says so in one line
            event("valid, diverged at once")
            assert "\n" not in str(exc) and t.step_count == 0
            return
        event("valid, trained a step")
        assert stats["step"] == 1 and all(math.isfinite(stats[k]) for k in ("d_loss", "g_loss"))


def as_flag_text(value) -> str:
    return str(value)


@st.composite
def train_argv(draw):
    """`train` flags as a person types them: mostly valid, then sometimes a broken value, an unknown
    word, or a missing --data / --steps."""
    argv = ["train", "--quiet"]
    if draw(st.integers(0, 9)):
        argv += ["--data", draw(st.sampled_from(TRAINABLE_HERE))]
    if draw(st.integers(0, 9)):
        argv += ["--steps", draw(st.sampled_from(["1", "2"]))]
    for name in draw(st.lists(st.sampled_from([n for n in FIELDS if n != "data"]), unique=True, max_size=5)):
        argv += ["--" + name.replace("_", "-"), as_flag_text(draw(valid_value(name)))]
    if draw(st.booleans()):
        name = draw(st.sampled_from(FIELDS + ["steps", "checkpoint_every"]))
        text = draw(st.sampled_from(["", "abc", "1e3", "0x10", "nan", "-inf", "-1", "0", "1.5", "imagenet"])
                    | invalid_value(name).map(as_flag_text))
        argv += ["--" + name.replace("_", "-"), text]
    return argv


def asked_steps(argv) -> int:
    last = len(argv) - 1 - argv[::-1].index("--steps")        # argparse: the last one wins
    return int(argv[last + 1])


@pytest.mark.slow
@settings(max_examples=int(os.environ.get("GANLAB_FUZZ_EXAMPLES", 150)), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(argv=train_argv())
def test_the_cli_trains_or_says_why_in_one_line_and_writes_only_good_states(argv):
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run.pt"
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            try:
                code = main(argv + ["--out", str(out)])
            except SystemExit as exc:        # argparse's own usage errors
                code = exc.code
        lines = [line for line in err.getvalue().splitlines() if line.strip()]
        event(f"exit code {code}")
        if code == 0:
            assert Trainer.load(out, device="cpu").step_count == asked_steps(argv)
        else:
            assert code in (1, 2), (argv, code)
            assert len(lines) == 1 and lines[0].startswith("error: "), (argv, err.getvalue())
            if "became NaN/inf" in lines[0]:
                # A valid but absurd lr (2**63) diverges: the CLI keeps the last good state, as documented.
                event("diverged, last good state saved")
                assert code == 1 and Trainer.load(out, device="cpu").step_count < asked_steps(argv), (argv, lines)
            else:
                assert not out.exists(), (argv, code)


@settings(max_examples=200, deadline=None)
@given(params=st.dictionaries(st.sampled_from(sorted(Config.__dataclass_fields__) + ["recipe", "embed", "x"]),
                              st.text(max_size=8) | st.sampled_from(["ring", "mnist", "0", "1e-3", "nan", "300",
                                                                     "paper", "fast-mnist"]),
                              max_size=6))
def test_any_link_opens_the_app_on_a_valid_config(params):
    link = read_link(params)
    cfg, notes = link.config, link.notes
    assert isinstance(cfg, Config)
    assert all("\n" not in note for note in notes)


@pytest.mark.parametrize("name", sorted(INT_LIMITS))
def test_sizes_past_the_upper_bounds_are_refused_before_anything_is_allocated(name):
    with pytest.raises(ConfigError, match=f"{name} must be an integer from 1 to"):
        Config(**{name: INT_LIMITS[name] + 1})


# ------------------------------------------------------------------ every command, every path it takes
@functools.cache
def path_pool() -> dict[str, str]:
    """Files the command fuzzer hands out: good ones, and each kind of wrong path."""
    from ganlab import make_config

    root = Path(tempfile.mkdtemp(prefix="ganlab-fuzz-"))
    t = Trainer(make_config(data="digits", hidden=16), device="cpu")
    t.save(root / "good.pt")
    np.save(root / "images.npy", np.zeros((2, 1, 8, 8), np.float32))
    (root / "a-folder").mkdir()
    (root / "text.pt").write_text("not a checkpoint")
    (root / "dangling.pt").symlink_to(root / "gone.pt")
    return {"good": str(root / "good.pt"), "images": str(root / "images.npy"), "root": str(root),
            "folder": str(root / "a-folder"), "missing": str(root / "missing.pt"), "text": str(root / "text.pt"),
            "dangling": str(root / "dangling.pt"), "device": "/dev/null",
            "no-such-folder": str(root / "no-such-folder" / "x.pt"), "wrong-ending": str(root / "x.txt")}


def base_argv(command: str, pool: dict) -> list[str]:
    """A command line of `command` that would run, cheaply, with good paths."""
    out = lambda name: ["--out", str(Path(pool["root"]) / name)]  # noqa: E731
    return {"train": ["train", "--data", "ring", "--steps", "1", "--quiet", *out("t.pt")],
            "sample": ["sample", pool["good"], *out("s.npy")], "eval": ["eval", pool["good"]],
            "semi": ["semi", pool["good"], "--labels", "10"], "encoder": ["encoder", pool["good"], "--steps", "1", *out("e.pt")],
            "encode": ["encode", pool["good"], "--images", pool["images"], *out("z.npy")],
            "complete": ["complete", pool["good"], "--images", pool["images"], "--mask", "top", "--refine", "0",
                         *out("c.npy")],
            "classifier": ["classifier", "--data", "mnist", *out("k.pt")], "time-to-good": ["time-to-good", "--budget", "1"],
            "bench": ["bench"], "fields": ["fields"], "directions": ["directions", pool["good"]]}[command]


def path_slots() -> dict[str, dict[str, tuple[str, ...]]]:
    """For each command, each path it takes (its flag's dest) and the wrong kinds to give it."""
    from ganlab.cli import INPUTS, OUTPUTS, build_parser

    reads, writes = ("missing", "folder", "dangling", "device", "text"), ("folder", "no-such-folder", "wrong-ending")
    subparsers = next(a for a in build_parser()._actions if a.dest == "command").choices
    slots = {}
    for command, parser in subparsers.items():
        dests = {a.dest for a in parser._actions}
        # A file of the right kind but not a checkpoint is found out only by reading it, and eval
        # reads --classifier only for MNIST-like data: "text" goes where a checkpoint is always read.
        slots[command] = {**{d: reads if d in ("checkpoint", "resume") else reads[:-1] for d in INPUTS.get(command, {})}, **{d: writes for d in OUTPUTS.get(command, {})},
                          **({"data_root": ("text", "dangling")} if "data_root" in dests else {})}
    return slots


# Text options that are not paths the command fuzzer gives out: names from a list, and two that are
# names or paths, checked elsewhere (data's folder:PATH by the image-folder fuzzer, complete's --mask
# M.npy by tests/test_inference.py), and sample's --move and --keep, which name directions.
NOT_PATHS = {"device", "model", "cond", "prior", "optimizer", "loss", "precision", "data", "mask", "move", "keep"}


def test_the_command_fuzzer_knows_every_command_and_every_path():
    import argparse

    from ganlab.cli import COMMANDS, build_parser

    slots = path_slots()
    assert set(slots) == set(COMMANDS)
    # fields takes no path, study a name and a storage URL (its own tests give it wrong ones); every
    # other command takes at least one path, and the fuzzer gives each a wrong one.
    assert sorted(c for c, s in slots.items() if not s) == ["fields", "study"]
    # A new text option is either a path with its slot (cli.INPUTS / OUTPUTS) or named above.
    subparsers = next(a for a in build_parser()._actions if a.dest == "command").choices
    for command, parser in subparsers.items():
        texts = {a.dest for a in parser._actions
                 if isinstance(a, argparse._StoreAction) and a.type in (None, str) and a.choices is None}
        assert texts - NOT_PATHS <= set(slots[command]), (command, texts - NOT_PATHS - set(slots[command]))


@st.composite
def bad_path_argv(draw):
    slots = {c: s for c, s in path_slots().items() if s}
    command = draw(st.sampled_from(sorted(slots)))
    dest = draw(st.sampled_from(sorted(slots[command])))
    kind = draw(st.sampled_from(slots[command][dest]))
    pool = path_pool()
    argv = base_argv(command, pool)
    if dest == "checkpoint":
        argv[1] = pool[kind]
    else:
        argv += ["--" + dest.replace("_", "-"), pool[kind]]        # argparse: the last one wins
    return argv, kind


@settings(max_examples=int(os.environ.get("GANLAB_FUZZ_EXAMPLES", 100)), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(case=bad_path_argv())
def test_every_command_refuses_a_wrong_path_in_one_line_before_any_work(case):
    argv, kind = case
    before = set(Path(path_pool()["root"]).rglob("*"))
    err = io.StringIO()
    t0 = time.perf_counter()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)
    event(f"{argv[0]}: {kind}")
    lines = err.getvalue().splitlines()
    assert code == 1 and len(lines) == 1 and lines[0].startswith("error: "), (argv, err.getvalue())
    assert time.perf_counter() - t0 < 5, argv                   # refused, not run
    assert set(Path(path_pool()["root"]).rglob("*")) == before, argv


# Folders that exist, and whose permission bits let root in, but that take no new file: /proc, a
# read-only mount, a full disk. Only a file made there tells; the bits (os.access) say yes.
def _mount_tmpfs(folder: Path, options: str) -> str | None:
    """Mount a tmpfs with `options` at `folder`; None once mounted, else why it could not be."""
    if os.name != "posix" or os.geteuid() != 0:
        return "mounting a file system needs root"
    if shutil.which("mount") is None:
        return "no mount command on this system"
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True, text=True)
    if proc.returncode:
        return f"`mount -t tmpfs -o {options}` is not permitted here: {(proc.stderr.strip() or str(proc.returncode)).splitlines()[0]}"
    return None


def _fill(folder: Path) -> None:
    """Write into `folder` until its disk is full."""
    fd = os.open(folder / "fill", os.O_WRONLY | os.O_CREAT)
    try:
        while os.write(fd, bytes(4096)):
            pass
    except OSError as exc:
        assert exc.errno == errno.ENOSPC, exc
    finally:
        os.close(fd)


@pytest.fixture(scope="module")
def refusing_folders(tmp_path_factory):
    """{kind: (folder, None) or (None, why there is none here)}; the mounts made are undone after."""
    root = tmp_path_factory.mktemp("refusing")
    folders = {"proc": ("/proc", None) if Path("/proc/self").is_dir() else (None, "no /proc on this system")}
    mounted = []
    for kind, options in (("read-only", "ro,size=1m"), ("full", "size=4k")):
        folder = root / kind
        folder.mkdir()
        why = _mount_tmpfs(folder, options)
        if why is None:
            mounted.append(folder)
            if kind == "full":
                _fill(folder)
        folders[kind] = (None, why) if why else (str(folder), None)
    yield folders
    for folder in mounted:
        if subprocess.run(["umount", str(folder)], capture_output=True).returncode:
            subprocess.run(["umount", "-l", str(folder)], capture_output=True)     # busy: detach it now


@pytest.fixture(params=["proc", "read-only", "full"])
def refusing_folder(request, refusing_folders) -> str:
    folder, why = refusing_folders[request.param]
    if folder is None:
        pytest.skip(f"no {request.param} folder to write into: {why}")
    return folder


@st.composite
def output_slots(draw):
    """A command and one file it writes (its flag's dest and ending)."""
    from ganlab.cli import OUTPUTS

    command = draw(st.sampled_from(sorted(OUTPUTS)))
    dest = draw(st.sampled_from(sorted(OUTPUTS[command])))
    return command, dest, draw(st.sampled_from(OUTPUTS[command][dest]))


@settings(max_examples=int(os.environ.get("GANLAB_FUZZ_EXAMPLES", 30)), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(slot=output_slots())
def test_every_command_refuses_an_output_whose_folder_takes_no_new_file(slot, refusing_folder):
    command, dest, ending = slot
    pool = path_pool()
    target = str(Path(refusing_folder) / f"x{ending}")
    argv = [*base_argv(command, pool), "--" + dest.replace("_", "-"), target]      # argparse: the last one wins
    before = set(Path(pool["root"]).rglob("*"))
    inside = None if refusing_folder == "/proc" else sorted(os.listdir(refusing_folder))
    err = io.StringIO()
    t0 = time.perf_counter()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)
    event(f"{command} {dest}")
    lines = err.getvalue().splitlines()
    assert code == 1 and len(lines) == 1, (argv, err.getvalue())
    assert lines[0].startswith(f"error: --{dest.replace('_', '-')} {target}: the folder {refusing_folder} cannot be "
                               "written ("), (argv, lines)
    assert time.perf_counter() - t0 < 5, argv                   # refused, not run
    assert set(Path(pool["root"]).rglob("*")) == before, argv
    assert inside is None or sorted(os.listdir(refusing_folder)) == inside, argv    # the trial file is gone


# A folder of one's own images (`data` "folder:PATH"), drawn with its contents: the documented rules
# (README, "Your own images") decide which runs must train and which must be refused; either way, one
# line and no traceback.
FOLDER_MODELS = ("pytorch-dcgan", "mlp", "pytorch-mlp", "dcgan")


@st.composite
def image_folders(draw):
    """(files, settings): files as (subfolder, name, kind, mode, width, height), kind one of image /
    broken (not an image, with an image's ending) / text (another ending); settings for make_config."""
    files = draw(st.lists(st.tuples(st.sampled_from(["", "cats", "dogs"]), st.integers(0, 10**6),
                                    st.sampled_from(["image", "image", "image", "broken", "text"]),
                                    st.sampled_from(["L", "RGB", "RGBA", "P"]),
                                    st.integers(1, 80), st.integers(1, 80)), max_size=6))
    fields = {"model": draw(st.sampled_from(FOLDER_MODELS)), "batch_size": draw(st.integers(1, 8)),
              "hidden": 16, "depth": 1, "latent_dim": 8}
    for name, values in (("image_size", (32, 64, 28)), ("channels", (1, 3)), ("cond", ("none", "input"))):
        if draw(st.booleans()):
            fields[name] = draw(st.sampled_from(values))
    return files, fields


def _write_folder(root: Path, files) -> int:
    """Write `files` under root; the number of readable images."""
    from PIL import Image

    images = 0
    for sub, key, kind, mode, w, h in files:
        folder = root / sub
        folder.mkdir(parents=True, exist_ok=True)
        if kind == "image":
            Image.new(mode, (w, h), color=key % 256 if mode in ("L", "P") else None).save(folder / f"{key}.png")
            images += 1
        else:
            (folder / f"{key}.{'png' if kind == 'broken' else 'txt'}").write_text("not an image")
    return images


def folder_problems(fields: dict, images: int) -> tuple[list[str], bool]:
    """The words a refusal may name, one for each documented rule the run breaks (any one of them
    may be the first found), and whether the rules leave the outcome to the folder's contents."""
    words = []
    if fields.get("image_size", 32) not in (32, 64):
        words.append("image_size")
    if fields.get("cond", "none") != "none":
        words.append("cond")
    if fields["model"] == "dcgan":                                      # 28x28 images only
        words.append("28x28")
    if fields["model"] != "mlp" and fields["batch_size"] < 2:           # BatchNorm: two samples
        words.append("batch_size")
    if images == 0:
        words.append("image")
    # A batch larger than the set: refused or drawn with repeats, as the set's size decides.
    return words, fields["batch_size"] > images


@pytest.mark.slow
@settings(max_examples=int(os.environ.get("GANLAB_FUZZ_EXAMPLES", 60)), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(case=image_folders())
def test_an_image_folder_trains_a_step_or_is_refused_in_one_line(case, tmp_path_factory):
    from ganlab import GanlabError, make_config

    files, fields = case
    root = tmp_path_factory.mktemp("folder")
    words, either = folder_problems(fields, _write_folder(root, files))
    try:
        t = Trainer(make_config(data=f"folder:{root}", **fields), device="cpu")
        stats = t.step(1)
    except GanlabError as exc:
        message = str(exc)
        event("refused")
        assert words or either, f"a run the rules allow was refused: {message}"
        assert "\n" not in message, message
        assert not words or any(w in message for w in words), (words, message)
        return
    event("trained")
    assert not words, f"trained a run the rules refuse ({words})"
    assert stats["step"] == 1
