"""The model card of a model shared on the Hugging Face Hub (`python -m genlab push`, the Train tab).

Front matter through huggingface_hub's ModelCardData, so the Hub reads it as it reads any card:
`library_name: genlab`, tags, the data set, a pipeline tag and the measured metrics as a
`model-index` (numbers only; a value like the diffusion sampler's settings stays in the table).
The body says how to load the model, the exact training command and run facts, and every
measured figure. cards.py writes the shorter card of a weights folder in this repository.
"""

import re
import sys
from typing import Optional

from huggingface_hub import EvalResult, ModelCard, ModelCardData

from genlab.data import datasets
from genlab.models.base import Family

# the Hub's task ids (https://huggingface.co/tasks) for what a family makes (Family.output)
PIPELINE_TAGS = {"image": "unconditional-image-generation", "text": "text-generation",
                 "label": "image-classification"}
USE = {  # how to run a shared model of each kind of output, {name} the family and {repo} the repo id
    "image": "python -m genlab sample {name} --model {repo} --digit 7 --out grid.png",
    "text": "python -m genlab sample {name} --model {repo} --prompt \"ROMEO:\" --n-chars 300",
    "label": "python -c \"from huggingface_hub import snapshot_download; from genlab import weights; "
             "from genlab.registry import FAMILIES; "
             "print(weights.load(FAMILIES['{name}'], snapshot_download('{repo}', "
             "allow_patterns=['config.json', 'model.safetensors'])))\"",
}

IN_APP = ("image", "text")  # outputs that a tab's model picker shows (a classifier has none)

_BODY = """# {repo}

A genlab **{title}** model (family `{name}`), shared with `python -m genlab push`.
genlab is a lab of small generative models: GAN, VAE and diffusion on MNIST digits, and
character-level GPT and LSTM on tiny-shakespeare.

{doc}

## Use it
```bash
{use}
```
{app}Only `config.json` and `model.safetensors` are needed; genlab loads them strictly (every key and
tensor must match the family, no pickles).

## Training
{training}

## Measured quality
{metrics}

## Files
`config.json` (the model config), `model.safetensors` (weights, no pickles), `training.json`
(the exact command and run facts, when recorded), `metrics.json` (from `python -m genlab eval {name}`,
when measured).
"""


def metric_id(name: str) -> str:
    """'FID (judge)' -> 'fid-judge', 'val bits/char' -> 'val-bits-per-char': a model-index metric's `type`."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower().replace("/", " per ")).strip("-")


def card_data(family: Family, repo_id: str, training: Optional[dict], metrics: Optional[dict]) -> ModelCardData:
    tag = datasets.DATASETS[family.data].tag
    own_data = bool((training or {}).get("own_text"))  # trained on a user's text, which is not shared
    summary = (metrics or {}).get("summary", {})
    numbers = {k: v for k, v in summary.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    task = PIPELINE_TAGS[family.output]
    results = [EvalResult(task_type=task, dataset_type=tag, dataset_name=str(metrics.get("reference", tag)),
                          metric_type=metric_id(name), metric_name=name, metric_value=value)
               for name, value in numbers.items()]
    return ModelCardData(library_name="genlab", tags=["genlab", tag, family.name], pipeline_tag=task,
                         datasets=None if own_data else [tag], model_name=repo_id, eval_results=results or None)


def training_lines(training: Optional[dict]) -> str:
    """The run facts as a list: the command first; only what training.json records."""
    if not training:
        return "not recorded (no training.json in the folder that was pushed)"
    facts = [("command", f"`{training['command']}`" if training.get("command") else None),
             ("steps", training.get("steps")),
             ("batch size", (training.get("recipe") or {}).get("batch_size")),
             ("wall time", f"{training['wall_time_s'] / 60:.1f} min" if isinstance(training.get("wall_time_s"),
                                                                                  (int, float)) else None),
             ("hardware", training.get("hardware")), ("torch", training.get("torch")),
             ("data", training.get("data")), ("note", training.get("note"))]
    return "\n".join(f"- {name}: {value}" for name, value in facts if value not in (None, ""))


def metric_table(metrics: Optional[dict], name: str) -> str:
    summary = (metrics or {}).get("summary", {})
    if not summary:
        return f"not measured (`python -m genlab eval {name}` measures shipped weights)"
    rows = "\n".join(f"| {k} | {v} |" for k, v in summary.items())
    reference = f"Against {metrics['reference']}.\n\n" if metrics.get("reference") else ""
    return f"{reference}| metric | value |\n|---|---|\n{rows}"


def render(family: Family, repo_id: str, training: Optional[dict], metrics: Optional[dict]) -> str:
    """The README.md of Hub repo `repo_id` holding a `family` model with these training facts and metrics."""
    doc = (sys.modules[family.model_cls.__module__].__doc__ or "").strip()
    app = (f"In the genlab app, type `{repo_id}` into the *Load from the Hub* field under the {family.name} "
           "model picker.\n" if family.output in IN_APP else "")
    body = _BODY.format(repo=repo_id, name=family.name, title=family.title, doc=doc, app=app,
                        use=USE[family.output].format(name=family.name, repo=repo_id),
                        training=training_lines(training), metrics=metric_table(metrics, family.name))
    data = card_data(family, repo_id, training, metrics)
    return str(ModelCard(f"---\n{data.to_yaml()}\n---\n\n{body}"))
