"""The Train tab's run logic: streams, stops, resumes, refuses, and hands its model to other tabs."""

import dataclasses
import time

import numpy as np
import pytest

from genlab import limits, params
from genlab.models.base import held_out_losses
from genlab.params import RequestError
from genlab.registry import FAMILIES
from genlab.train import checkpoints
from genlab.train.loop import NonFiniteLoss
from genlab.ui import train_run
from genlab.ui.store import ModelStore, model_choices
from genlab.ui.tabs import gan as gan_tab, train as train_tab

from conftest import TEXT, TINY, no_model_work, poison_step


@pytest.fixture(autouse=True)
def every_step(monkeypatch):
    """Frames and previews as often as asked (the app throttles them by time)."""
    monkeypatch.setattr(train_run, "PREVIEW_SECONDS", 0.0)
    monkeypatch.setattr(train_run, "PREVIEW_SHARE", float("inf"))
    monkeypatch.setattr(train_run, "STREAM_SECONDS", 0.0)


@pytest.fixture
def ctx(tmp_path):
    return train_run.TrainContext(ModelStore("cpu", runs_root=tmp_path / "runs"))


def tiny_run(name, steps=6):
    family = FAMILIES[name]
    recipe = dataclasses.asdict(dataclasses.replace(family.recipe, steps=steps, batch_size=8))
    return recipe, dict(TINY[family.name])


@pytest.mark.parametrize("name", list(FAMILIES))
def test_a_quick_run_streams_progress_previews_and_a_usable_model(ctx, name):
    recipe, config = tiny_run(name)
    text = TEXT if FAMILIES[name].data == "text" else None
    frames = list(train_run.stream_run(ctx, name, recipe, config, train_run.new_session(), preview_every=2,
                                       text=text))
    last = frames[-1]
    data = "your text" if text else "bundled MNIST sample"
    assert last.done and last.step == 6 and "step 6/6" in last.status and data in last.status
    assert last.previews == 4  # the first step, then every second one
    if text:  # a text sample in the model's vocabulary
        assert isinstance(last.preview, str) and len(last.preview) == 240 and last.histogram is None
        assert train_run.preview_at(ctx, last.session, 99) == last.preview
    else:
        assert last.preview.dtype == np.uint8 and last.preview.ndim == 3
        assert np.array_equal(train_run.preview_at(ctx, last.session, 99), last.preview)  # the timeline's end
        assert train_run.preview_at(ctx, last.session, 0).shape == last.preview.shape
        assert last.histogram["count"].sum() > 0
    series = set(last.history["series"])
    assert any(s.startswith("held-out") for s in series) and any(not s.startswith("held-out") for s in series)
    label = last.session["current"]
    assert label == f"{name} run 1" and label in model_choices(last.session, name)
    assert checkpoints.read_step(ctx.store.run_folder(last.session, label)) == 6
    ctx.store.choose(name, label, last.session)  # loads as a model of that family


def test_the_gan_tab_samples_from_a_session_run(ctx):
    recipe, config = tiny_run("gan", steps=2)
    session = list(train_run.stream_run(ctx, "gan", recipe, config, None))[-1].session
    grid = gan_tab.sample_grid(ctx.store, "3", 4, 0, 0, "gan run 1", session)
    assert grid.shape == ((2 * 30 + 2) * 3, (2 * 30 + 2) * 3)
    with pytest.raises(RequestError, match="no gan run named 'gan run 7'"):
        gan_tab.sample_grid(ctx.store, "3", 4, 0, 0, "gan run 7", session)
    with pytest.raises(RequestError, match="no gan run"):
        gan_tab.sample_grid(ctx.store, "3", 4, 0, 0, "../../etc/passwd", session)


def test_stop_keeps_a_checkpoint_and_resume_continues_from_it(ctx):
    recipe, config = tiny_run("gan", steps=8)
    run = train_run.stream_run(ctx, "gan", recipe, config, None, preview_every=1)
    first = [next(run) for _ in range(3)]
    run.close()  # what the Stop button does to the handler
    ctx.settle()  # the checkpoint is written beside the closed stream
    session = first[-1].session
    saved = checkpoints.read_step(ctx.store.run_folder(session, session["current"]))
    assert saved == first[-1].step == 3
    resumed = list(train_run.stream_run(ctx, "gan", {"steps": 8}, {}, session, resume=True, preview_every=1))
    assert resumed[0].step == 4 and resumed[-1].step == 8 and resumed[-1].done
    assert resumed[-1].session["current"] == session["current"] and len(resumed[-1].session["runs"]) == 1


def test_a_finished_run_resumes_only_when_steps_grow(ctx):
    recipe, config = tiny_run("judge", steps=2)
    session = list(train_run.stream_run(ctx, "judge", recipe, config, None))[-1].session
    with pytest.raises(RequestError, match="already finished its 2 steps"):
        list(train_run.stream_run(ctx, "judge", {"steps": 2}, {}, session, resume=True))
    assert list(train_run.stream_run(ctx, "judge", {"steps": 3}, {}, session, resume=True))[-1].step == 3


def test_a_second_run_never_trains_beside_the_first(ctx):
    recipe, config = tiny_run("gan", steps=50)
    first = train_run.stream_run(ctx, "gan", recipe, config, None, preview_every=1)
    next(first)  # training
    with pytest.raises(RequestError, match=r"a training run is in progress on this server \(step 1 of 50\)"):
        next(train_run.stream_run(ctx, "gan", recipe, config, None))
    first.close()
    second = train_run.stream_run(ctx, "gan", recipe, config, None)
    assert next(second).step >= 1
    second.close()
    ctx.settle()  # its checkpoint is saved beside the closed stream


def test_a_non_finite_loss_stops_the_run_with_a_clear_message(ctx, monkeypatch):
    poison_step(monkeypatch, FAMILIES["gan"], at_call=4)
    recipe, config = tiny_run("gan", steps=10)
    frames = []
    with pytest.raises(NonFiniteLoss, match="step 4: d_loss, g_loss, d_real, d_fake became non-finite"):
        for frame in train_run.stream_run(ctx, "gan", recipe, config, None, preview_every=1):
            frames.append(frame)
    assert frames[-1].step == 3 and not ctx.busy.locked()


@pytest.mark.parametrize("change, message", [
    ({"steps": 10**6}, "steps must be from 1 to 1000000|steps must be at most"),
    ({"batch_size": 0}, "batch_size must be from 1"),
    ({"lr": float("nan")}, "lr must be a finite number"),
    ({"schedule": "zigzag"}, "schedule must be one of constant, cosine"),
])
def test_bad_recipes_are_refused_before_any_model_work(ctx, change, message):
    recipe, config = tiny_run("gan")
    with pytest.raises(RequestError, match=message):
        next(train_run.stream_run(ctx, "gan", {**recipe, **change}, config, None))
    assert not any(ctx.store.runs_root.glob("*")) if ctx.store.runs_root.exists() else True


def test_public_limits_are_tighter_and_count_parameters_without_building_the_model(tmp_path):
    public = train_run.TrainContext(ModelStore("cpu", runs_root=tmp_path), limits.PUBLIC)
    recipe, config = tiny_run("gan")
    with pytest.raises(RequestError, match=f"steps must be at most {limits.PUBLIC.max_steps}"):
        train_run.checked_run(public, "gan", {**recipe, "steps": limits.PUBLIC.max_steps + 1}, config)
    with no_model_work() as work:
        with pytest.raises(RequestError, match="parameters; at most"):
            train_run.checked_run(public, "gan", recipe, {"g_width": 256, "d_width": 256})
    assert work == {"forward calls": 0, "real parameters": 0}


def test_presets_fill_every_family_form():
    for family in FAMILIES.values():
        quick, quick_config = train_tab.preset(family, "quick")
        shipped, _ = train_tab.preset(family, "shipped")
        assert shipped == family.recipe and quick.steps < shipped.steps
        assert isinstance(quick_config, family.config_cls)


def test_download_zips_config_and_weights(ctx):
    import zipfile
    recipe, config = tiny_run("judge", steps=2)
    session = list(train_run.stream_run(ctx, "judge", recipe, config, None))[-1].session
    with zipfile.ZipFile(train_run.download(ctx, session)) as archive:
        assert sorted(archive.namelist()) == ["judge/config.json", "judge/model.safetensors"]
    with pytest.raises(RequestError, match="this session has no run yet: press Start"):
        train_run.download(ctx, train_run.new_session())


def test_held_out_evaluation_leaves_the_training_random_stream_alone():
    import torch

    from genlab.data import mnist

    from conftest import tiny
    family = FAMILIES["vae"]  # its loss samples (binarisation, reparameterisation)
    batch = next(mnist.image_batches(mnist.load_sample("test"), 16, seed=0))
    model = tiny(family)
    torch.manual_seed(5)
    first = held_out_losses(model, batch)
    after = torch.rand(3)
    torch.manual_seed(5)
    assert held_out_losses(model, batch) == first and torch.equal(torch.rand(3), after)


def test_the_app_throttles_previews_and_frames_by_time(ctx, monkeypatch):
    monkeypatch.setattr(train_run, "PREVIEW_SECONDS", 3600.0)
    monkeypatch.setattr(train_run, "STREAM_SECONDS", 3600.0)
    recipe, config = tiny_run("gan", steps=6)
    frames = list(train_run.stream_run(ctx, "gan", recipe, config, None, preview_every=1))
    assert [f.step for f in frames] == [1, 6]  # the first preview, then the last step
    assert all(f.preview is not None for f in frames)


def test_the_first_preview_comes_at_once_on_a_machine_booted_seconds_ago(ctx, monkeypatch):
    """perf_counter counts from boot: on a fresh CI machine it reads seconds, not hours."""
    zero = time.monotonic() - 0.5
    monkeypatch.setattr(time, "perf_counter", lambda: time.monotonic() - zero)
    monkeypatch.setattr(train_run, "PREVIEW_SECONDS", 3600.0)
    monkeypatch.setattr(train_run, "STREAM_SECONDS", 3600.0)
    recipe, config = tiny_run("gan", steps=4)
    frames = list(train_run.stream_run(ctx, "gan", recipe, config, None, preview_every=1))
    assert [f.step for f in frames] == [1, 4]


def test_a_text_run_on_the_users_text_takes_its_vocabulary_and_resumes_on_it(ctx):
    own = "zebra quartz! " * 40  # a vocabulary unlike tiny-shakespeare's
    recipe, config = tiny_run("lstm", steps=3)
    first = list(train_run.stream_run(ctx, "lstm", recipe, config, None, preview_every=1, text=own))[-1]
    model = ctx.store.choose("lstm", first.session["current"], first.session)
    assert model.vocab.chars == "".join(sorted(set(own)))
    assert set(first.preview) <= set(own)
    resumed = list(train_run.stream_run(ctx, "lstm", {"steps": 5}, {}, first.session, resume=True))
    assert resumed[0].step == 4 and resumed[-1].step == 5 and "your text" in resumed[-1].status


@pytest.mark.parametrize("source, pasted, message", [
    (train_tab.OWN_TEXT, "", "has 0 characters; at least 200"),
    (train_tab.OWN_TEXT, "short", "has 5 characters"),
])
def test_unusable_own_text_is_refused_with_a_clear_message(source, pasted, message):
    with pytest.raises(RequestError, match=message):
        train_tab.chosen_text("gpt", source, pasted, None)


def test_an_uploaded_binary_file_is_refused_and_image_families_ignore_text(tmp_path):
    blob = tmp_path / "x.txt"
    blob.write_bytes(b"\x89PNG\x00\x00" * 100)
    with pytest.raises(RequestError, match="binary"):
        train_tab.chosen_text("gpt", train_tab.OWN_TEXT, "", str(blob))
    assert train_tab.chosen_text("gan", train_tab.OWN_TEXT, "anything", None) is None
    assert train_tab.chosen_text("gpt", train_tab.SHAKESPEARE, "ignored", None) is None


def test_without_tiny_shakespeare_a_text_run_asks_for_the_users_text(ctx):
    recipe, config = tiny_run("gpt", steps=2)
    with pytest.raises(RequestError, match="tiny-shakespeare not found.*paste or upload your own text"):
        list(train_run.stream_run(ctx, "gpt", recipe, config, None))


def test_slow_previews_are_spaced_out_to_a_small_share_of_the_run(ctx, monkeypatch):
    monkeypatch.setattr(train_run, "PREVIEW_SHARE", 1e-9)  # any preview is "slow": wait ages before the next
    recipe, config = tiny_run("gan", steps=6)
    frames = list(train_run.stream_run(ctx, "gan", recipe, config, None, preview_every=1))
    assert [f.step for f in frames if f.preview is not None] == [1, 6]  # the first, then only the last


def test_stopping_a_run_returns_at_once_and_holds_the_slot_until_the_checkpoint_is_saved(ctx, monkeypatch):
    """Gradio closes a stopped stream on its event loop: the save must not run there."""
    import threading
    saving, may_finish = threading.Event(), threading.Event()
    real_save = checkpoints.save

    def slow_save(*args, **kwargs):
        saving.set()
        may_finish.wait(30)
        return real_save(*args, **kwargs)

    monkeypatch.setattr(checkpoints, "save", slow_save)
    recipe, config = tiny_run("gan", steps=50)
    run = train_run.stream_run(ctx, "gan", recipe, config, None, preview_every=1)
    session = next(run).session
    run.close()  # returns while the checkpoint is still being written
    assert saving.wait(30) and not may_finish.is_set()
    assert ctx.busy.locked()  # no other run starts while this one saves
    may_finish.set()
    second = train_run.stream_run(ctx, "gan", recipe, config, None)
    assert next(second).step >= 1  # it waited for the save, then trained
    second.close()
    ctx.settle()  # its checkpoint is saved beside the closed stream
    assert checkpoints.read_step(ctx.store.run_folder(session, session["current"])) >= 1


@pytest.mark.parametrize("family_name", ["gan", "gpt", "judge"])
def test_start_reads_the_chosen_familys_form_and_no_other(family_name):
    import gradio as gr

    from genlab.ui import forms
    with gr.Blocks():
        train_forms = train_tab.TrainForms({
            name: tuple(forms.build_form(part, f"t-{name}-{i}") for i, part in enumerate(train_tab.preset(fam, "quick")))
            for name, fam in FAMILIES.items()})
    shown = [w.value for w in train_forms.widgets]  # each family's widgets show its quick preset
    recipe, config = train_tab.preset(FAMILIES[family_name], "quick")
    assert train_forms.read(family_name, shown) == (
        {f.name: getattr(recipe, f.name) for f in params.tunable(recipe)},
        {f.name: getattr(config, f.name) for f in params.tunable(config)})


def in_accordion(block) -> bool:
    import gradio as gr
    while block is not None and not isinstance(block, gr.Accordion):
        block = block.parent
    return block is not None


def test_each_familys_form_shows_its_basic_fields_and_folds_the_rest_away():
    import gradio as gr
    for name, family in FAMILIES.items():
        with gr.Blocks():
            recipe, config = train_tab.family_forms(name)
        folded = {f.name for form in (recipe, config) for f in params.tunable(form.cls) if not params.spec(f)["basic"]}
        for form in (recipe, config):
            for field, widget in form.fields.items():  # the basic ones stand in the form, the rest in Advanced
                assert in_accordion(widget) == (field in folded), (name, field)
        shown = len(recipe.fields) + len(config.fields) - len(folded)
        assert {"steps", "batch_size", "lr"} <= set(recipe.fields) - folded and 4 <= shown <= 6, name


def test_field_help_is_in_each_familys_own_words():
    import gradio as gr
    with gr.Blocks():
        gan_recipe, _ = train_tab.family_forms("gan")
        gpt_recipe, _ = train_tab.family_forms("gpt")
    assert "one D and one G" in gan_recipe.fields["steps"].info
    assert "D and" not in gpt_recipe.fields["steps"].info and "text windows" in gpt_recipe.fields["batch_size"].info


def test_the_preset_hint_says_what_the_benchmark_measured_for_the_current_preset(tmp_path):
    import json

    from genlab.ui import train_presets
    for family in FAMILIES.values():  # benchmarks/train_presets.py --write has timed today's quick presets
        entry = train_presets.measurement(family)
        assert entry is not None, f"rerun benchmarks/train_presets.py --write: {family.name}'s preset changed"
        assert train_presets.about(entry["seconds"]) in train_presets.preset_info(family)
        assert f"on {entry['cores']} CPU cores (measured)" in train_presets.preset_info(family)
    stale = json.loads(train_presets.MEASURED_FILE.read_text())
    stale["families"]["gan"]["preset"]["recipe"]["steps"] += 1  # timed another preset than today's
    (tmp_path / "m.json").write_text(json.dumps(stale))
    assert "not yet measured" in train_presets.preset_info(FAMILIES["gan"], tmp_path / "m.json")
    assert train_presets.about(131) == "about 2 min" and train_presets.about(42) == "about 40 s"


def test_loss_series_are_named_as_people_read_them(ctx):
    recipe, config = tiny_run("gan", steps=2)
    last = list(train_run.stream_run(ctx, "gan", recipe, config, None, preview_every=1))[-1]
    assert set(last.history["series"]) == {"D loss", "G loss", "D(real)", "D(fake)", "held-out D loss",
                                           "held-out G loss", "held-out D(real)", "held-out D(fake)"}
    assert str(last.history["value"].dtype) == "float64" and str(last.history["step"].dtype) == "int64"


def test_resume_continues_the_same_curves_held_out_series_included(ctx):
    recipe, config = tiny_run("vae", steps=6)
    run = train_run.stream_run(ctx, "vae", recipe, config, None, preview_every=2)
    first = [next(run) for _ in range(3)]
    run.close()
    ctx.settle()
    resumed = list(train_run.stream_run(ctx, "vae", {"steps": 6}, {}, first[-1].session, resume=True,
                                        preview_every=2))
    history = resumed[-1].history
    for series in ("-ELBO", "held-out -ELBO", "KL"):
        steps = history[history["series"] == series]["step"].tolist()
        assert steps == sorted(set(steps)) and steps[0] <= 2 and steps[-1] == 6, (series, steps)


def test_stop_leaves_where_the_run_stopped_and_no_eta(ctx):
    from genlab.ui import train_api
    recipe, config = tiny_run("gan", steps=8)
    run = train_run.stream_run(ctx, "gan", recipe, config, None, preview_every=1)
    frames = [next(run) for _ in range(3)]
    assert "ETA" in frames[-1].status
    run.close()
    status = train_api.train_stop(ctx, frames[-1].session)
    assert "stopped at step 3 of 8" in status and "Resume" in status and "ETA" not in status


def test_a_refused_start_clears_the_screen_and_says_why(ctx):
    outputs = train_tab.train_start(ctx, "gpt", "quick", {"stepz": 3}, {}, train_tab.OWN_TEXT, TEXT, None, None)
    preparing = next(outputs)
    assert preparing[1] is None and preparing[2] is None and preparing[3] == ""  # plot and previews cleared
    refused = next(outputs)
    assert "Could not start" in refused[0] and "stepz" in refused[0] and refused[2] is None
    with pytest.raises(RequestError, match="unknown recipe field for gpt: stepz"):
        next(outputs)


def test_offline_the_users_own_text_is_preselected_and_messages_name_no_server_path(ctx, tmp_path, monkeypatch):
    from genlab.data import corpus
    from genlab.ui import train_api
    assert train_api.default_source() == train_tab.OWN_TEXT  # the tests hide tiny-shakespeare
    with pytest.raises(Exception) as err:
        corpus.load_shakespeare(download=False)
    assert str(tmp_path) not in str(err.value) and "/cache" not in str(err.value)
    cut = train_run.without_paths(f"{tmp_path}/x/input.txt: bad (see https://a.b/c)")
    assert cut == "input.txt: bad (see https://a.b/c)"
    source = tmp_path / "input.txt"
    source.write_text("x")
    monkeypatch.setenv("GENLAB_TEXT_PATH", str(source))
    assert train_api.default_source() == train_tab.SHAKESPEARE
    with pytest.raises(RequestError) as refused:
        list(train_run.stream_run(ctx, "gpt", *tiny_run("gpt", steps=2), None))
    assert str(tmp_path) not in str(refused.value) and "input.txt" in str(refused.value)
