"""python -m genlab: train with generated flags, sample to PNG/NPY, clear errors."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from genlab import images, weights
from genlab.cli import main as cli
from genlab.data import mnist
from genlab.registry import FAMILIES, IMAGE_FAMILIES

from conftest import TINY, tiny

ROOT = Path(__file__).resolve().parent.parent


def test_train_flags_come_from_the_dataclasses_and_reproduce_the_run(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(mnist, "MIRRORS", ())  # no download: train on the bundled sample
    tiny = TINY["gan"]
    argv = ["train", "gan", "--steps", "3", "--batch-size", "8", "--out", str(tmp_path / "g"), "--log-every", "1",
            "--checkpoint", str(tmp_path / "ckpt")]
    argv += [x for k, v in tiny.items() for x in ("--" + k.replace("_", "-"), str(v))]
    assert cli.main(argv) == 0
    model = weights.load(FAMILIES["gan"], tmp_path / "g")
    assert model.config.g_width == tiny["g_width"]
    run = json.loads((tmp_path / "g" / "training.json").read_text())
    assert run["steps"] == 3 and run["recipe"]["batch_size"] == 8
    assert run["command"].startswith("python -m genlab train gan --steps 3")
    assert "[     3/3]" in capsys.readouterr().err
    card = (tmp_path / "g" / "README.md").read_text()
    assert "python -m genlab train gan --steps 3" in card and "bundled MNIST sample" in card
    # --resume continues from the checkpoint with the saved config; --steps extends the run
    assert cli.main(["train", "gan", "--resume", "--steps", "5", "--out", str(tmp_path / "g"),
                     "--checkpoint", str(tmp_path / "ckpt"), "--log-every", "1"]) == 0
    run = json.loads((tmp_path / "g" / "training.json").read_text())
    assert (run["steps"], run["resumed_from"], run["recipe"]["batch_size"]) == (5, 3, 8)
    assert "[     4/5]" in capsys.readouterr().err


def test_a_wall_time_limit_stops_training_saves_and_says_why(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(mnist, "MIRRORS", ())
    argv = ["train", "gan", "--steps", "50", "--batch-size", "8", "--out", str(tmp_path / "g"),
            "--checkpoint", str(tmp_path / "ckpt")]
    argv += [x for k, v in TINY["gan"].items() for x in ("--" + k.replace("_", "-"), str(v))]
    assert cli.main(argv + ["--max-seconds", "1e-9"]) == 130  # not finished: the exit status says so
    run = json.loads((tmp_path / "g" / "training.json").read_text())
    assert run["steps"] == 1 and "wall-time limit" in run["note"]
    assert "wall-time limit" in capsys.readouterr().err
    weights.load(FAMILIES["gan"], tmp_path / "g")  # the weights of the step reached were saved
    assert cli.main(argv + ["--max-seconds", "-5"]) == 2
    assert "--max-seconds must be" in capsys.readouterr().err


def test_init_starts_a_second_phase_from_trained_weights(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(mnist, "MIRRORS", ())
    tiny_flags = [x for k, v in TINY["gan"].items() for x in ("--" + k.replace("_", "-"), str(v))]
    first = ["train", "gan", "--steps", "2", "--batch-size", "8", "--out", str(tmp_path / "a"),
             "--checkpoint", str(tmp_path / "ca")]
    assert cli.main(first + tiny_flags) == 0
    second = ["train", "gan", "--init", str(tmp_path / "a"), "--steps", "2", "--batch-size", "8", "--lr", "1e-4",
              "--schedule", "cosine", "--out", str(tmp_path / "b"), "--checkpoint", str(tmp_path / "cb")]
    assert cli.main(second) == 0
    a, b = (weights.load(FAMILIES["gan"], tmp_path / name) for name in "ab")
    assert a.config == b.config  # the model comes from --init, not from the family defaults
    assert int(b.steps) == 4  # its step counter (which the weight average reads) carries on
    assert not torch.equal(a.generator.project[0].weight, b.generator.project[0].weight)
    run = json.loads((tmp_path / "b" / "training.json").read_text())
    assert run["initialised_from"] == str(tmp_path / "a") and run["recipe"]["schedule"] == "cosine"
    capsys.readouterr()
    assert cli.main(second + ["--resume"]) == 2
    assert cli.main(second + ["--g-width", "8"]) == 2
    assert capsys.readouterr().err.count("--init starts from a trained model") == 2


def test_sample_writes_a_raw_npy_array(tmp_path):
    out = tmp_path / "x.npy"
    assert cli.main(["sample", "gan", "--digit", "7", "--n", "12", "--seed", "0", "--out", str(out)]) == 0
    samples = np.load(out, allow_pickle=False)
    assert samples.shape == (12, 28, 28) and samples.dtype == np.float32
    assert samples.min() >= 0 and samples.max() <= 1


def test_sample_writes_a_crisp_grid_png(tmp_path):
    out = tmp_path / "grid.png"
    assert cli.main(["sample", "gan", "--n", "20", "--scale", "2", "--out", str(out)]) == 0
    image = Image.open(out)
    assert image.mode == "L" and image.size == ((10 * 30 + 2) * 2, (2 * 30 + 2) * 2)


@pytest.mark.parametrize("argv, message", [
    (["sample", "gan", "--digit", "11", "--out", "x.png"], "digit must be 0-9"),
    (["sample", "gan", "--n", "100001", "--out", "x.npz"], "--n must be from 1 to 100000, got 100001"),
    (["sample", "gan", "--n", "500", "--out", "x.png"],
     "a .png grid shows at most 100 digits; for 500 write --out x.npz"),
    (["sample", "gan", "--out", "absent/x.npz"], "--out: folder absent does not exist"),
    (["sample", "gan", "--out", "x.txt"], "--out must end in .png"),
    (["eval", "gan", "--n", "15"], "--n must be from 100"),
    (["eval", "gan", "--n", "105"], "multiple of 10"),
    (["train", "gan", "--steps", "0", "--out", "g"], "steps must be from 1"),
    (["train", "gan", "--g-width", "100000", "--out", "g"], "g_width must be from 2 to 256"),
    (["sample", "gan", "--n", "4"], "gan makes images: give --out"),
    (["sample", "gpt", "--n-chars", "10000"], "number of characters must be from 1 to 2000, got 10000"),
    (["sample", "lstm", "--top-p", "0"], "top-p must be from 0.01 to 1"),
    (["sample", "gpt", "--n", "5"], "--n is for image families (gan, vae, diffusion); gpt makes text"),
    (["sample", "vae", "--prompt", "hi", "--out", "x.png"], "--prompt is for text families"),
])
def test_bad_arguments_give_one_clear_line(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


FAST = {"diffusion": ["--steps", "3"]}  # few network evaluations: the test is about batching


@pytest.mark.parametrize("name", IMAGE_FAMILIES)
def test_sample_writes_many_digits_in_batches_the_same_for_the_same_seed(name, tmp_path, monkeypatch):
    from genlab.cli import sample as cli_sample
    monkeypatch.setattr(cli_sample, "BATCH", 2)  # --n 5: batches of 2, 2 and 1
    argv = ["sample", name, "--n", "5", "--seed", "7", *FAST.get(name, [])]
    assert cli.main(argv + ["--out", str(tmp_path / "a.npz")]) == 0
    assert cli.main(argv + ["--out", str(tmp_path / "b.npz")]) == 0
    a, b = np.load(tmp_path / "a.npz"), np.load(tmp_path / "b.npz")
    assert a["images"].shape == (5, 28, 28) and a["images"].dtype == np.uint8
    assert np.array_equal(a["images"], b["images"]) and len(np.unique(a["images"], axis=0)) == 5
    expected = [-1] * 5 if not FAMILIES[name].conditional else [0, 1, 2, 3, 4]  # a mix keeps 0..9 across batches
    assert a["labels"].tolist() == expected
    assert Image.open(tmp_path / "a-grid.png").size == ((5 * 30 + 2) * 4, (30 + 2) * 4)
    assert cli.main(argv + ["--out", str(tmp_path / "c.npy")]) == 0
    raw = np.load(tmp_path / "c.npy")
    assert raw.shape == (5, 28, 28) and np.abs(raw * 255 - a["images"]).max() <= 1
    assert not list(tmp_path.glob(".*partial*"))


def test_the_first_batch_is_what_the_web_form_draws_for_the_seed(tmp_path, monkeypatch):
    from genlab.cli import sample as cli_sample
    from genlab.models import sampling
    monkeypatch.setattr(cli_sample, "BATCH", 4)
    argv = ["sample", "gan", "--n", "10", "--digit", "3", "--seed", "5", "--out", str(tmp_path / "x.npz")]
    assert cli.main(argv) == 0
    web = sampling.sample_digits(weights.load(FAMILIES["gan"]), sampling.digit_request("3", 4, 5))
    assert np.array_equal(np.load(tmp_path / "x.npz")["images"][:4], images.to_uint8(web))


def test_sample_goes_past_the_web_forms_bound_with_a_progress_bar(tmp_path, monkeypatch):
    from genlab.cli import sample as cli_sample
    bars = []

    class Bar:
        def __init__(self, **kwargs):
            self.kwargs, self.updates = kwargs, []
            bars.append(self)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def update(self, k):
            self.updates.append(k)
    monkeypatch.setattr(cli_sample, "tqdm", Bar)
    monkeypatch.setattr(cli_sample, "BATCH", 50)
    assert cli.main(["sample", "gan", "--n", "120", "--out", str(tmp_path / "x.npz")]) == 0
    assert np.load(tmp_path / "x.npz")["images"].shape == (120, 28, 28)
    assert Image.open(tmp_path / "x-grid.png").size == ((10 * 30 + 2) * 4, (10 * 30 + 2) * 4)  # the first 100
    (bar,) = bars
    assert bar.kwargs["total"] == 120 and bar.kwargs["file"] is sys.stderr and bar.updates == [50, 50, 20]


def test_an_interrupted_sample_writes_nothing(tmp_path, monkeypatch, capsys):
    from genlab.cli import sample as cli_sample
    real = cli_sample.sample_in_batches

    def interrupted(*args):
        for i, item in enumerate(real(*args)):
            if i == 1:
                raise KeyboardInterrupt
            yield item
    monkeypatch.setattr(cli_sample, "sample_in_batches", interrupted)
    monkeypatch.setattr(cli_sample, "BATCH", 2)
    for out in ("x.npz", "x.npy", "x.png"):
        assert cli.main(["sample", "gan", "--n", "5", "--out", str(tmp_path / out)]) == 130
    assert list(tmp_path.iterdir()) == [] and "interrupted; nothing written" in capsys.readouterr().err


def test_info_lists_every_family(capsys):
    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in FAMILIES)


def test_module_entry_point_runs():
    result = subprocess.run([sys.executable, "-m", "genlab", "--help"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0 and "train" in result.stdout


def test_train_help_shows_help_text_and_bounds(capsys):
    with pytest.raises(SystemExit):
        cli.main(["train", "gan", "--help"])
    out = capsys.readouterr().out
    assert "latent size (default 64, 2..512)" in " ".join(out.split())


def test_vae_samples_and_reconstructs_like_the_tab(tmp_path):
    assert cli.main(["sample", "vae", "--n", "64", "--out", str(tmp_path / "x.npy")]) == 0
    assert np.load(tmp_path / "x.npy").shape == (64, 28, 28)
    assert cli.main(["reconstruct", "vae", "--index", "3", "--n", "5", "--out", str(tmp_path / "r.npy")]) == 0
    recon = np.load(tmp_path / "r.npy")
    assert recon.shape == (5, 28, 28) and 0 <= recon.min() and recon.max() <= 1
    picture = tmp_path / "seven.png"
    image = Image.new("L", (100, 100), 255)
    from PIL import ImageDraw
    ImageDraw.Draw(image).line([(20, 20), (80, 20), (40, 90)], fill=0, width=9)
    image.save(picture)
    assert cli.main(["reconstruct", "vae", "--image", str(picture), "--out", str(tmp_path / "r.png")]) == 0
    assert Image.open(tmp_path / "r.png").size == ((30 + 2) * 4, (2 * 30 + 2) * 4)


@pytest.fixture
def text_weights(tmp_path, monkeypatch):
    """Tiny untrained GPT and LSTM as the "shipped" weights (the real ones may still be training)."""
    monkeypatch.setattr(weights, "ROOT", tmp_path / "weights")
    for name in ("gpt", "lstm"):
        weights.save(tiny(FAMILIES[name]), weights.shipped(FAMILIES[name]))
    return tmp_path


@pytest.mark.parametrize("name", ["gpt", "lstm"])
def test_sample_streams_the_prompt_then_exactly_n_seeded_characters(name, text_weights, capsys):
    argv = ["sample", name, "--prompt", "ROMEO:", "--n-chars", "40", "--temperature", "1.0", "--top-k", "0",
            "--top-p", "1.0"]
    assert cli.main(argv + ["--seed", "3"]) == 0
    first = capsys.readouterr().out
    assert first.startswith("ROMEO:") and len(first) == len("ROMEO:") + 40
    assert not weights.load(FAMILIES[name]).vocab.unknown(first)  # the tiny model the command used
    out = text_weights / "romeo.txt"
    assert cli.main(argv + ["--seed", "3", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.out == first and out.read_text(encoding="utf-8") == first  # same seed, same text
    assert f"wrote {out}" in captured.err
    assert cli.main(argv + ["--seed", "4"]) == 0
    assert capsys.readouterr().out != first


def test_sample_flushes_every_character_as_it_is_generated(text_weights, monkeypatch):
    class Recorder:
        def __init__(self):
            self.text, self.flushed = "", []

        def write(self, s):
            self.text += s

        def flush(self):
            self.flushed.append(self.text)

        def isatty(self):
            return False

    stream = Recorder()
    monkeypatch.setattr(sys, "stdout", stream)
    assert cli.main(["sample", "gpt", "--prompt", "KEEPER:", "--n-chars", "12"]) == 0
    assert [len(s) for s in stream.flushed] == list(range(len("KEEPER:"), len("KEEPER:") + 13))


def test_sample_refuses_unknown_prompt_characters_before_printing(text_weights, capsys):
    assert cli.main(["sample", "gpt", "--prompt", "ROMEO: {hi}~", "--n-chars", "5"]) == 2
    captured = capsys.readouterr()
    assert "error: the prompt has 3 character(s) this model does not know: '{' '}' '~'" in captured.err
    assert captured.out == "" and "Traceback" not in captured.err
