"""python -m genlab export diffusion --format diffusers: a folder diffusers loads and samples genlab's digits from."""

import ast
import json
import sys
from pathlib import Path

import diffusers
import pytest
import torch
from diffusers import DiffusionPipeline
from diffusers.utils import dynamic_modules_utils

from genlab import weights
from genlab.cli import main as cli
from genlab.models.diffusion import diffusers_folder, pipeline, schedulers
from genlab.registry import FAMILIES

from conftest import tiny

DIFFUSION = FAMILIES["diffusion"]


@pytest.fixture(scope="module")
def modules_cache(tmp_path_factory):
    """diffusers copies pipeline.py into $HF_MODULES_CACHE and puts that folder on sys.path (read when
    diffusers is imported): point it at a temp folder so no test writes the user's cache."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(dynamic_modules_utils, "HF_MODULES_CACHE", str(tmp_path_factory.mktemp("hf-modules")))
        patch.setattr(sys, "path", list(sys.path))
        yield


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """(model, its weights folder): a tiny untrained model whose live weights differ from the average
    that samples, so an export of the wrong UNet shows."""
    model = tiny(DIFFUSION).eval()
    with torch.no_grad():
        for p in model.unet.parameters():
            p.add_(0.05)
    return model, weights.save(model, tmp_path_factory.mktemp("run") / "tiny-diffusion")


@pytest.fixture(scope="module")
def tiny_export(tiny_run, tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "digits"
    assert cli.main(["export", "diffusion", "--format", "diffusers", "--run", str(tiny_run[1]), "--out", str(out)]) == 0
    return out


def load(folder: Path):
    pipe = DiffusionPipeline.from_pretrained(folder, trust_remote_code=True)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def genlab_digits(model, labels, seed, settings) -> torch.Tensor:
    """genlab's own samples as the pipeline returns them: (B, 1, 28, 28) in [0, 1]."""
    with torch.no_grad():
        samples = model.sample(len(labels), generator=torch.Generator().manual_seed(seed),
                               labels=torch.tensor(labels), settings=settings)
    return samples.add(1).mul(0.5)


@pytest.mark.parametrize("name,steps,guidance", [("sde-dpm++", 6, 1.2), ("sde-dpm++", 4, 1.0), ("ddim", 5, 2.0),
                                                  ("dpm++", 4, 0.0), ("ddpm", 4, 3.0)])
def test_the_exported_pipeline_samples_genlabs_digits_for_a_seed(tiny_run, tiny_export, modules_cache,
                                                                 name, steps, guidance):
    pipe = load(tiny_export)
    choice = schedulers.SCHEDULERS[name]
    if name != schedulers.DEFAULT_SCHEDULER:  # swapped in the usual diffusers way, with genlab's settings
        pipe.scheduler = getattr(diffusers, choice.cls).from_config(pipe.scheduler.config, **choice.overrides)
    labels = [0, 3, 7, 10, 7]  # 10: no label
    got = pipe(class_labels=labels, guidance_scale=guidance, num_inference_steps=steps,
               generator=torch.Generator().manual_seed(5), output_type="pt").images
    want = genlab_digits(tiny_run[0], labels, 5, schedulers.SamplerSettings(name, steps, guidance))
    assert got.shape == (5, 1, 28, 28)
    torch.testing.assert_close(got, want, atol=1e-5, rtol=0)
    other_seed = pipe(class_labels=labels, guidance_scale=guidance, num_inference_steps=steps,
                      generator=torch.Generator().manual_seed(6), output_type="pt").images
    assert not torch.allclose(other_seed, want)


def test_the_folder_has_diffusers_layout_and_the_averaged_weights(tiny_run, tiny_export, modules_cache):
    assert {p.relative_to(tiny_export).as_posix() for p in tiny_export.rglob("*") if p.is_file()} == {
        "model_index.json", "pipeline.py", "unet/config.json", "unet/diffusion_pytorch_model.safetensors",
        "scheduler/scheduler_config.json"}
    index = json.loads((tiny_export / "model_index.json").read_text())
    assert index["_class_name"] == ["pipeline", "DigitDiffusionPipeline"]
    assert index["unet"] == ["diffusers", "UNet2DModel"]
    assert (tiny_export / "pipeline.py").read_text() == Path(pipeline.__file__).read_text()
    pipe = load(tiny_export)
    model = tiny_run[0]
    for key, tensor in model.unet_ema.state_dict().items():
        assert torch.equal(pipe.unet.state_dict()[key], tensor), key
    assert pipe.scheduler.config.algorithm_type == "sde-dpmsolver++"  # genlab's default solver
    assert pipe.scheduler.config.timestep_spacing == "leading"


def test_the_pipeline_file_needs_only_torch_and_diffusers(tiny_export, modules_cache, monkeypatch):
    tree = ast.parse(Path(pipeline.__file__).read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= {"torch", "diffusers", "inspect", "typing"}
    for name in [m for m in sys.modules if m == "genlab" or m.startswith("genlab.")]:
        monkeypatch.setitem(sys.modules, name, None)  # any genlab import now fails
    pipe = load(tiny_export)
    images = pipe(class_labels=3, num_inference_steps=2, generator=torch.Generator().manual_seed(0)).images
    assert len(images) == 1 and images[0].size == (28, 28) and images[0].mode == "L"


def test_the_pipeline_defaults_are_genlabs_default_sampler():
    default = schedulers.SamplerSettings()
    assert (pipeline.DEFAULT_STEPS, pipeline.DEFAULT_GUIDANCE) == (default.steps, default.guidance)
    assert diffusers_folder.as_pipeline(tiny(DIFFUSION)).scheduler.config.algorithm_type == "sde-dpmsolver++"


def test_bad_labels_and_settings_are_refused_by_name(tiny_run):
    pipe = diffusers_folder.as_pipeline(tiny_run[0])
    with pytest.raises(ValueError, match=r"class_labels must lie in 0\.\.10"):
        pipe(class_labels=[3, 11])
    with pytest.raises(ValueError, match="whole numbers"):
        pipe(class_labels=[0.5])
    with pytest.raises(ValueError, match="output_type"):
        pipe(class_labels=[3], output_type="latent")
    with pytest.raises(ValueError, match="num_inference_steps"):
        pipe(class_labels=[3], num_inference_steps=0)


def test_the_shipped_weights_export_and_sample_genlabs_digits(tmp_path, modules_cache):
    out = tmp_path / "new" / "mnist-digits"  # missing parent folders are made
    assert cli.main(["export", "diffusion", "--out", str(out)]) == 0
    pipe = load(out)
    got = pipe(class_labels=[7, 7, 1], num_inference_steps=3, generator=torch.Generator().manual_seed(0),
               output_type="np").images
    assert got.shape == (3, 28, 28, 1) and got.min() >= 0 and got.max() <= 1
    model = weights.load(DIFFUSION)
    settings = schedulers.SamplerSettings(steps=3)
    want = genlab_digits(model, [7, 7, 1], 0, settings).permute(0, 2, 3, 1).numpy()
    assert abs(got - want).max() < 1e-5


def test_bad_format_and_occupied_out_are_refused_and_nothing_is_touched(tiny_run, tmp_path, capsys):
    run = str(tiny_run[1])
    assert cli.main(["export", "diffusion", "--format", "onnx", "--run", run, "--out", str(tmp_path / "x")]) == 2
    assert "--format 'onnx': diffusion exports as diffusers" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    assert cli.main(["export", "diffusion", "--run", run, "--out", str(mine)]) == 2
    assert "exists and is not empty" in capsys.readouterr().err
    assert cli.main(["export", "diffusion", "--run", run, "--out", str(mine), "--force"]) == 2
    assert "refusing to replace it even with --force" in capsys.readouterr().err
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]
    assert cli.main(["export", "diffusion", "--run", run, "--out", str(mine / "notes.txt")]) == 2
    assert "is a file" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]  # no temp folders left


def test_force_replaces_an_earlier_export_and_an_empty_folder_is_used(tiny_run, tmp_path):
    run = str(tiny_run[1])
    out = tmp_path / "digits"
    out.mkdir()
    assert cli.main(["export", "diffusion", "--run", run, "--out", str(out)]) == 0
    (out / "pipeline.py").write_text("# an earlier export's pipeline")
    assert cli.main(["export", "diffusion", "--run", run, "--out", str(out)]) == 2
    assert cli.main(["export", "diffusion", "--run", run, "--out", str(out), "--force"]) == 0
    assert "earlier" not in (out / "pipeline.py").read_text() and (out / "model_index.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["digits"]
    (out / ".git").mkdir()  # a cloned pipeline repo has model_index.json too, and more: never replaced
    assert cli.main(["export", "diffusion", "--run", run, "--out", str(out), "--force"]) == 2
    assert (out / ".git").is_dir()
