"""The diffusion model as a diffusers pipeline folder, loadable where genlab is not installed.

The folder is what `DiffusionPipeline.save_pretrained` writes (unet/ with the averaged weights that
genlab samples with, scheduler/ with genlab's default solver, model_index.json) plus pipeline.py, a
copy of genlab.models.diffusion.pipeline, which model_index.json names as diffusers' custom-pipeline
convention asks (`_class_name: [module, class]`), so that
`DiffusionPipeline.from_pretrained(folder, trust_remote_code=True)` runs it. diffusers 0.42 asks for
trust_remote_code for any pipeline.py, local or on the Hub (utils/dynamic_modules_utils.py).
"""

import json
import shutil
from pathlib import Path

from genlab.models.diffusion import pipeline, schedulers
from genlab.models.diffusion.model import Diffusion

PIPELINE_FILE = "pipeline.py"
MODEL_INDEX = "model_index.json"


def as_pipeline(model: Diffusion) -> pipeline.DigitDiffusionPipeline:
    """A pipeline sharing `model`'s averaged UNet, with the solver genlab samples with by default."""
    scheduler = schedulers.make_scheduler(model.scheduler_config(), schedulers.DEFAULT_SCHEDULER)
    return pipeline.DigitDiffusionPipeline(unet=model.unet_ema, scheduler=scheduler)


def write(model: Diffusion, folder: Path) -> None:
    """unet/, scheduler/, model_index.json and pipeline.py of `model` into the existing empty `folder`."""
    folder = Path(folder)
    as_pipeline(model).save_pretrained(folder, safe_serialization=True)
    index_path = folder / MODEL_INDEX
    index = json.loads(index_path.read_text(encoding="utf-8"))
    index["_class_name"] = [Path(PIPELINE_FILE).stem, pipeline.DigitDiffusionPipeline.__name__]
    index_path.write_text(json.dumps(index, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    shutil.copyfile(pipeline.__file__, folder / PIPELINE_FILE)
