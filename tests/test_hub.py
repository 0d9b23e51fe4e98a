"""Sharing models on the Hugging Face Hub and loading them back, against a fake Hub: no network.

FakeHfApi stands in for huggingface_hub.HfApi (it records create_repo/upload_folder) and writes what
it is sent into a Hub cache laid out as huggingface_hub's own (models--USER--NAME/snapshots/...).
Loading then runs the real snapshot_download in offline mode against that cache, wrapped to record
which files each call asked for.
"""

import dataclasses
import json
import shutil
import types
from pathlib import Path

import gradio as gr
import huggingface_hub
import numpy as np
import pytest
import torch
import yaml
from huggingface_hub import ModelCard, constants

from genlab import images, limits, weights
from genlab.cli import main as cli, push as push_cli, sample as sample_cli
from genlab.models import sampling
from genlab.params import RequestError
from genlab.registry import FAMILIES
from genlab.train import hub
from genlab.ui import forms, train_api, train_run
from genlab.ui.store import ModelStore, model_choices
from genlab.ui.tabs import train as train_tab

from conftest import TEXT, TINY, tiny

TOKEN = "hf_notARealTokenButUniqueEnough1234"
COMMIT = "0123456789abcdef0123456789abcdef01234567"


class FakeHfApi:
    """Records every call; upload_folder copies the folder into the fake Hub (a Hub cache)."""

    calls: list = []
    tokens: list = []
    cache = None

    def __init__(self, token=None, **kwargs):
        FakeHfApi.tokens.append(token)

    def create_repo(self, repo_id, **kwargs):
        FakeHfApi.calls.append(("create_repo", repo_id, kwargs))
        return huggingface_hub.RepoUrl(f"https://huggingface.co/{repo_id}")

    def upload_folder(self, *, repo_id, folder_path, **kwargs):
        sent = {p.name: p.read_bytes() for p in sorted(Path(folder_path).iterdir())}
        FakeHfApi.calls.append(("upload_folder", repo_id, sent))
        user, name = repo_id.split("/")
        repo = FakeHfApi.cache / f"models--{user}--{name}"
        (repo / "refs").mkdir(parents=True, exist_ok=True)
        (repo / "refs" / "main").write_text(COMMIT)
        shutil.rmtree(repo / "snapshots", ignore_errors=True)
        snapshot = repo / "snapshots" / COMMIT
        snapshot.mkdir(parents=True)
        for file, data in sent.items():
            (snapshot / file).write_bytes(data)


@pytest.fixture
def fake_hub(tmp_path, monkeypatch):
    """The fake HfApi, an offline Hub cache it fills, and the allow_patterns of every snapshot_download."""
    FakeHfApi.calls, FakeHfApi.tokens, FakeHfApi.cache = [], [], tmp_path / "hub-cache"
    FakeHfApi.cache.mkdir()
    monkeypatch.setattr(hub, "HfApi", FakeHfApi)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(FakeHfApi.cache))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)  # the real snapshot_download, never the network
    fetched = []
    real = hub.snapshot_download

    def recorded(repo_id, **kwargs):
        fetched.append((repo_id, kwargs.get("allow_patterns")))
        return real(repo_id, **kwargs)

    monkeypatch.setattr(hub, "snapshot_download", recorded)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setattr(huggingface_hub, "get_token", lambda: None)  # no cached login on this machine
    return fetched


def trained_folder(tmp_path, name="gan", with_metrics=True):
    """A weights folder as `python -m genlab train --out` writes it (plus metrics.json, as eval would)."""
    family = FAMILIES[name]
    model = tiny(family)
    facts = {"command": f"python -m genlab train {name} --steps 3", "steps": 3,
             "recipe": dataclasses.asdict(family.recipe), "data": "bundled MNIST sample"}
    folder = weights.save(model, tmp_path / f"run-{name}", {"training.json": json.dumps(facts)})
    if with_metrics:
        weights.write_json(folder / "metrics.json", {"family": name, "reference": "MNIST test",
                                                     "summary": {"FID (judge)": 12.5, "class fidelity": 0.75,
                                                                 "sampler": "scheduler ddim"}})
    return folder


def front_matter(card: str) -> dict:
    return yaml.safe_load(card.split("---\n")[1])


def test_dry_run_lists_the_files_and_sizes_and_sends_nothing(tmp_path, fake_hub, capsys):
    folder = trained_folder(tmp_path)
    assert cli.main(["push", str(folder), "--repo", "alice/tiny-gan", "--dry-run"]) == 0
    out = capsys.readouterr().out
    for name in ("config.json", "model.safetensors", "training.json", "metrics.json", "README.md"):
        assert name in out
    size = (folder / "model.safetensors").stat().st_size
    assert push_cli.human(size) in out and "dry run: would upload to model repo alice/tiny-gan" in out
    assert FakeHfApi.calls == [] and FakeHfApi.tokens == []  # no client was even made
    # a family's name pushes its shipped folder
    assert cli.main(["push", "judge", "--repo", "alice/judge", "--dry-run"]) == 0
    assert "metrics.json" in capsys.readouterr().out and FakeHfApi.calls == []


def test_push_uploads_exactly_those_files_with_a_card_that_parses(tmp_path, fake_hub, capsys):
    folder = trained_folder(tmp_path)
    assert cli.main(["push", str(folder), "--repo", "alice/tiny-gan", "--private", "--token", TOKEN]) == 0
    (create, repo_id, options), (upload, _, sent) = FakeHfApi.calls
    assert (create, repo_id, upload) == ("create_repo", "alice/tiny-gan", "upload_folder")
    assert options["private"] is True and options["exist_ok"] is True and FakeHfApi.tokens == [TOKEN]
    assert set(sent) == {"config.json", "model.safetensors", "training.json", "metrics.json", "README.md"}
    for name in ("config.json", "model.safetensors", "training.json", "metrics.json"):
        assert sent[name] == (folder / name).read_bytes()
    card = sent["README.md"].decode()
    meta = front_matter(card)
    assert meta["library_name"] == "genlab" and {"genlab", "mnist", "gan"} <= set(meta["tags"])
    assert meta["datasets"] == ["mnist"] and meta["pipeline_tag"] == "unconditional-image-generation"
    parsed = ModelCard(card).data
    assert {r.metric_name: r.metric_value for r in parsed.eval_results} == {"FID (judge)": 12.5,
                                                                            "class fidelity": 0.75}
    assert "`python -m genlab train gan --steps 3`" in card and "| sampler | scheduler ddim |" in card
    out, err = capsys.readouterr()
    assert "https://huggingface.co/alice/tiny-gan" in out
    assert TOKEN not in out + err


def test_the_token_is_never_printed_nor_written(tmp_path, fake_hub, capsys, monkeypatch):
    folder = trained_folder(tmp_path)
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    assert cli.main(["push", str(folder), "--repo", "alice/tiny-gan"]) == 0
    assert FakeHfApi.tokens == [TOKEN] and FakeHfApi.calls[0][2]["private"] is None
    out, err = capsys.readouterr()
    assert TOKEN not in out + err
    for path in folder.parent.rglob("*"):  # the run folder, and everything beside it
        assert not path.is_file() or TOKEN.encode() not in path.read_bytes(), path
    assert all(TOKEN.encode() not in data for data in FakeHfApi.calls[1][2].values())


def test_a_token_with_a_newline_is_trimmed_and_one_the_client_quotes_is_never_shown(tmp_path, fake_hub, capsys,
                                                                                      monkeypatch):
    folder = trained_folder(tmp_path)
    monkeypatch.setenv("HF_TOKEN", TOKEN + "\n")  # as read from a secret file
    assert cli.main(["push", str(folder), "--repo", "alice/tiny-gan"]) == 0
    assert FakeHfApi.tokens == [TOKEN]
    assert cli.main(["push", str(folder), "--repo", "alice/tiny-gan", "--token", "hf_abc\ndef12345"]) == 2
    assert "token is malformed" in capsys.readouterr().err and "hf_abc" not in str(FakeHfApi.calls[2:])

    def refused(self, **kwargs):  # httpx quotes a header it refuses, token and all
        raise OSError(f"Illegal header value b'Bearer {TOKEN}'")
    monkeypatch.setattr(FakeHfApi, "upload_folder", refused)
    assert cli.main(["push", str(folder), "--repo", "alice/tiny-gan", "--token", TOKEN]) == 2
    err = capsys.readouterr().err
    assert "pushing to alice/tiny-gan failed" in err and "Bearer ***" in err and TOKEN not in err


def test_without_a_token_nothing_is_sent(tmp_path, fake_hub, capsys):
    assert cli.main(["push", str(trained_folder(tmp_path)), "--repo", "alice/tiny-gan"]) == 2
    assert "no Hugging Face token" in capsys.readouterr().err and FakeHfApi.calls == []


def test_a_folder_that_does_not_load_or_is_mislabelled_is_not_pushed(tmp_path, fake_hub, capsys):
    folder = trained_folder(tmp_path)
    weights.write_json(folder / "metrics.json", {"family": "vae", "summary": {}})
    assert cli.main(["push", str(folder), "--repo", "alice/tiny-gan", "--token", TOKEN]) == 2
    assert "measured a vae model" in capsys.readouterr().err
    (folder / "config.json").write_text('{"nothing": 1}')
    assert cli.main(["push", str(folder), "--repo", "alice/tiny-gan", "--token", TOKEN]) == 2
    assert "match no genlab family" in capsys.readouterr().err
    assert cli.main(["push", str(tmp_path / "nowhere"), "--repo", "alice/x", "--dry-run"]) == 2
    assert "neither a family" in capsys.readouterr().err and FakeHfApi.calls == []


def test_sample_with_model_loads_from_the_fake_hub(tmp_path, fake_hub, capsys):
    folder = trained_folder(tmp_path)
    assert cli.main(["push", str(folder), "--repo", "alice/tiny-gan", "--token", TOKEN]) == 0
    out = tmp_path / "x.npy"
    assert cli.main(["sample", "gan", "--model", "alice/tiny-gan", "--n", "6", "--out", str(out)]) == 0
    # only the config first (to check the family), then exactly config and weights
    assert fake_hub == [("alice/tiny-gan", ["config.json"]), ("alice/tiny-gan", ["config.json", "model.safetensors"])]
    request = sampling.DigitRequest(None, 6, 0, None)
    expected = [s for _, s in sample_cli.sample_in_batches(weights.load(FAMILIES["gan"], folder), request, None, 250)]
    np.testing.assert_allclose(np.load(out), images.to_unit(torch.cat(expected)))


def test_a_text_model_streams_from_the_fake_hub(tmp_path, fake_hub, capsys):
    family = FAMILIES["gpt"]
    vocab = "".join(sorted(set(TEXT)))
    torch.manual_seed(0)
    folder = weights.save(weights.build(family, **TINY["gpt"], vocab=vocab), tmp_path / "gpt")
    assert cli.main(["push", str(folder), "--repo", "bob/tiny-gpt", "--token", TOKEN]) == 0
    capsys.readouterr()
    assert cli.main(["sample", "gpt", "--model", "bob/tiny-gpt", "--prompt", "The", "--n-chars", "12"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("The") and len(text) == 3 + 12 and set(text) <= set(vocab)


def test_a_hub_repo_holding_another_family_is_refused_before_its_weights_download(tmp_path, fake_hub, capsys):
    assert cli.main(["push", str(trained_folder(tmp_path, "vae", False)), "--repo", "alice/a-vae",
                     "--token", TOKEN]) == 0
    with pytest.raises(hub.HubError, match=r"alice/a-vae holds a vae model \(VAE.*\), not a gan model"):
        hub.load_from_hub(FAMILIES["gan"], "alice/a-vae")
    assert fake_hub == [("alice/a-vae", ["config.json"])]
    assert cli.main(["sample", "gan", "--model", "alice/a-vae", "--out", str(tmp_path / "x.png")]) == 2
    assert "holds a vae model" in capsys.readouterr().err
    assert hub.load_from_hub(FAMILIES["vae"], "alice/a-vae").config == tiny(FAMILIES["vae"]).config


def test_offline_without_a_cached_copy_gives_a_clear_error(fake_hub, capsys, tmp_path):
    assert cli.main(["sample", "gan", "--model", "alice/never-pushed", "--out", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err
    assert "this machine could not reach the Hugging Face Hub to fetch alice/never-pushed" in err
    with pytest.raises(RequestError, match="the server could not reach the Hugging Face Hub to fetch alice/gone"):
        ModelStore("cpu", runs_root=tmp_path / "runs").choose("gan", "alice/gone", None)
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize("repo_id", ["gan", "../etc", "alice/../../x", "a/b/c", "/etc/passwd", "alice/x--y",
                                     "alice/" + "x" * 100, "alice/x.git", " alice/x"])
def test_bad_repo_ids_are_refused_and_never_read_as_paths(repo_id, fake_hub):
    with pytest.raises(hub.HubError, match="USER/NAME"):
        hub.load_from_hub(FAMILIES["gan"], repo_id)
    assert fake_hub == []


def test_a_repo_id_is_never_a_local_folder(tmp_path, fake_hub, monkeypatch):
    trained_folder(tmp_path / "alice", "gan").rename(tmp_path / "alice" / "tiny-gan")  # ./alice/tiny-gan
    monkeypatch.chdir(tmp_path)
    with pytest.raises(hub.HubError, match="could not reach the Hugging Face Hub"):
        hub.load_from_hub(FAMILIES["gan"], "alice/tiny-gan")
    assert fake_hub == [("alice/tiny-gan", ["config.json"])]


def test_a_public_server_refuses_a_repo_not_on_its_list_before_any_download(tmp_path, fake_hub):
    public = limits.with_listed_hub_models(limits.PUBLIC, {limits.HUB_MODELS: " alice/tiny-gan, bob/x ,"})
    assert public.hub_models == ("alice/tiny-gan", "bob/x") and not public.hub_push
    assert limits.with_listed_hub_models(limits.LOCAL, {limits.HUB_MODELS: "alice/x"}).hub_models is None
    assert limits.with_listed_hub_models(limits.PUBLIC, {}).hub_models == ()
    with pytest.raises(ValueError, match="GENLAB_HUB_MODELS: 'not a repo' is not a Hub model id"):
        limits.with_listed_hub_models(limits.PUBLIC, {limits.HUB_MODELS: "alice/x,not a repo"})
    store = ModelStore("cpu", runs_root=tmp_path / "runs", hub_models=public.hub_models)
    with pytest.raises(RequestError, match="loads only these models from the Hugging Face Hub: alice/tiny-gan, "
                                           "bob/x; not mallory/evil"):
        store.choose("gan", "mallory/evil", None)
    closed = ModelStore("cpu", runs_root=tmp_path / "runs", hub_models=())
    with pytest.raises(RequestError, match="loads no models from the Hugging Face Hub"):
        closed.choose("gan", "alice/tiny-gan", None)
    assert fake_hub == []
    hub.push(  # the owner pushed the listed one earlier
        FAMILIES["gan"], trained_folder(tmp_path), "alice/tiny-gan", TOKEN)
    model = store.choose("gan", "alice/tiny-gan", None)
    assert store.choose("gan", "alice/tiny-gan", None) is model and len(fake_hub) == 2  # kept, fetched once


def test_model_pickers_offer_the_hub_as_the_server_allows(tmp_path):
    session, listed = train_run.new_session(), ("alice/tiny-gan",)
    assert model_choices(session, "gan", "bob/typed") == ["pretrained", "bob/typed"]
    assert model_choices(session, "gan", "pretrained", listed) == ["pretrained", "alice/tiny-gan"]
    for offered, field_shown in ((None, True), (listed, False)):
        with gr.Blocks() as demo:
            picker = forms.model_picker("gan", gr.State(session), offered)
        field = next(b for b in demo.blocks.values() if isinstance(b, gr.Accordion))
        assert field.visible is field_shown and picker.allow_custom_value
        assert ("alice/tiny-gan" in [c[1] for c in picker.choices]) is not field_shown


@pytest.fixture
def finished_run(tmp_path):
    ctx = train_run.TrainContext(ModelStore("cpu", runs_root=tmp_path / "runs"))
    recipe = dataclasses.asdict(dataclasses.replace(FAMILIES["gan"].recipe, steps=2, batch_size=8))
    session = list(train_run.stream_run(ctx, "gan", recipe, dict(TINY["gan"]), train_run.new_session()))[-1].session
    return ctx, session


def test_the_train_tab_pushes_a_finished_run(finished_run, fake_hub):
    ctx, session = finished_run
    message = train_api.push_run(ctx, "alice/ui-gan", TOKEN, False, session)
    assert message == "Pushed **gan run 1** (step 2) to [alice/ui-gan](https://huggingface.co/alice/ui-gan)."
    assert TOKEN not in message and FakeHfApi.tokens == [TOKEN]
    sent = FakeHfApi.calls[1][2]
    assert set(sent) == {"config.json", "model.safetensors", "training.json", "README.md"}
    facts = json.loads(sent["training.json"])
    assert facts["steps"] == 2 and facts["command"].startswith("python -m genlab train gan --steps 2 --batch-size 8")
    assert "--z-dim 8" in facts["command"] and facts["data"].startswith("bundled MNIST sample")
    assert f"`{facts['command']}`" in sent["README.md"].decode()
    for path in ctx.store.runs_root.rglob("*"):
        assert not path.is_file() or TOKEN.encode() not in path.read_bytes(), path
    # the pushed run loads back through the Hub, as a model of its family
    pushed, trained = ctx.store.choose("gan", "alice/ui-gan", session), ctx.store.choose("gan", "gan run 1", session)
    assert pushed.config == trained.config
    assert all(torch.equal(a, b) for a, b in zip(pushed.state_dict().values(), trained.state_dict().values()))


def test_the_train_tab_never_pushes_in_public_mode(finished_run, fake_hub):
    ctx, session = finished_run
    public = dataclasses.replace(ctx, limits=limits.PUBLIC)
    with pytest.raises(RequestError, match="this server does not push to the Hugging Face Hub"):
        train_api.push_run(public, "alice/ui-gan", TOKEN, False, session)
    shown = []  # the tab's stream shows the reason in its result field, then raises for clients
    with pytest.raises(RequestError):
        for status in train_api.push_stream(public, "alice/ui-gan", TOKEN, False, session):
            shown.append(status)
    assert shown[0].startswith("Pushing") and shown[-1].startswith("**Could not push:** this server does not")
    with pytest.raises(RequestError, match="USER/NAME"):
        train_api.push_run(ctx, "no-slash", TOKEN, False, session)
    assert FakeHfApi.calls == []
    for run_limits, shown in ((limits.LOCAL, True), (limits.PUBLIC, False)):
        shared = types.SimpleNamespace(trainer=dataclasses.replace(ctx, limits=run_limits), limits=run_limits,
                                       store=ctx.store)
        with gr.Blocks() as demo:
            shared.session = gr.State(train_run.new_session())
            train_tab.build(demo, shared)
        ids = {getattr(b, "elem_id", None) for b in demo.blocks.values()}
        assert ("train-push-token" in ids) is shown
        tokens = [b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "train-push-token"]
        assert all(t.type == "password" for t in tokens)


def test_a_checkpoint_folder_pushes_its_facts_not_its_optimiser_state(finished_run, fake_hub, capsys):
    ctx, session = finished_run
    folder = ctx.store.run_folder(session, "gan run 1")
    assert cli.main(["push", str(folder), "--repo", "alice/ckpt", "--dry-run"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()[1:5]]
    assert listed == ["config.json", "model.safetensors", "training.json", "README.md"]
