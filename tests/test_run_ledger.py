"""What the server keeps of training runs, and that it lets go: time budgets, timelines, idle runs."""

import dataclasses

import numpy as np
import pytest

from genlab import limits
from genlab.params import RequestError
from genlab.registry import FAMILIES
from genlab.ui import train_run
from genlab.ui.run_ledger import RunLedger
from genlab.ui.store import ModelStore
from genlab.ui.tabs import train as train_tab

from conftest import TEXT, TINY


def tiny_run(name, steps=3):
    family = FAMILIES[name]
    return dataclasses.asdict(dataclasses.replace(family.recipe, steps=steps, batch_size=8)), dict(TINY[family.name])


def context(tmp_path, **changes):
    run_limits = dataclasses.replace(limits.PUBLIC, **changes)
    return train_run.TrainContext(ModelStore("cpu", runs_root=tmp_path / "runs",
                                             idle_run_seconds=run_limits.idle_run_seconds), run_limits)


def test_a_runs_time_budget_covers_all_its_resumes(tmp_path):
    ctx = context(tmp_path, max_seconds=1000)
    recipe, config = tiny_run("judge", steps=2)
    session = list(train_run.stream_run(ctx, "judge", recipe, config, None))[-1].session
    folder = ctx.store.run_folder(session, session["current"]).name
    assert ctx.store.runs.seconds_used(folder) > 0
    ctx.store.runs.add_seconds(folder, 1000)  # as if it had trained for the whole budget
    with pytest.raises(RequestError, match="used all 1000 s of training time"):
        next(train_run.stream_run(ctx, "judge", {"steps": 4}, {}, session, resume=True))


def test_a_paste_larger_than_the_servers_text_cap_is_refused_before_any_work(tmp_path):
    ctx = context(tmp_path, max_text_bytes=1000)
    with pytest.raises(RequestError, match="the pasted text is 1,001 bytes; at most 1,000"):
        train_tab.chosen_text("gpt", train_tab.OWN_TEXT, "x" * 1001, None, ctx.limits.max_text_bytes)
    recipe, config = tiny_run("lstm")
    with pytest.raises(RequestError, match="your text is 1,200 bytes; at most 1,000"):
        next(train_run.stream_run(ctx, "lstm", recipe, config, None, text="y" * 1200))
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_only_the_current_runs_timeline_stays_in_memory(tmp_path):
    ctx = context(tmp_path)
    recipe, config = tiny_run("judge", steps=2)
    first = list(train_run.stream_run(ctx, "judge", recipe, config, None, preview_every=1))[-1].session
    first_folder = ctx.store.run_folder(first, first["current"]).name
    assert ctx.store.runs.preview_count(first_folder)
    second = list(train_run.stream_run(ctx, "judge", recipe, config, first, preview_every=1))[-1].session
    assert ctx.store.runs.preview_count(first_folder) == 0
    assert train_run.preview_at(ctx, second, 0) is not None


def test_a_gone_sessions_runs_are_deleted_with_their_files(tmp_path):
    ctx = context(tmp_path)
    recipe, config = tiny_run("lstm", steps=2)
    session = list(train_run.stream_run(ctx, "lstm", recipe, config, None, text=TEXT))[-1].session
    train_run.download(ctx, session)
    root = tmp_path / "runs"
    assert len(list(root.iterdir())) == 3  # checkpoint folder, the user's text, the zip
    ctx.store.runs.forget_session(session)
    assert list(root.iterdir()) == []
    with pytest.raises(RequestError, match="no saved checkpoint: it was deleted after 60 minutes unused"):
        ctx.store.choose("lstm", session["current"], session)


def test_idle_runs_are_swept_and_used_or_training_ones_kept(tmp_path):
    now = [0.0]
    ledger = RunLedger(tmp_path, idle_seconds=100, clock=lambda: now[0])
    for name in ("old", "used", "training"):
        (tmp_path / name).mkdir()
        ledger.touch(name)
    ledger.training("training", True)
    now[0] = 90.0
    ledger.touch("used")
    now[0] = 150.0
    assert ledger.sweep() == ["old"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["training", "used"]


def test_without_an_idle_limit_nothing_is_swept(tmp_path):
    now = [0.0]
    ledger = RunLedger(tmp_path, clock=lambda: now[0])
    (tmp_path / "run").mkdir()
    ledger.touch("run")
    now[0] = 1e9
    assert ledger.sweep() == [] and (tmp_path / "run").is_dir()


def test_past_the_run_cap_the_least_recently_used_runs_make_room(tmp_path):
    now = [0.0]
    ledger = RunLedger(tmp_path, max_runs=3, clock=lambda: now[0])
    for i, name in enumerate(["a", "b", "c"]):
        now[0] = float(i)
        (tmp_path / name).mkdir()
        ledger.touch(name)
    ledger.training("a", True)  # the oldest, but training: kept
    assert ledger.sweep() == []
    assert ledger.sweep(room=1) == ["b"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "c"]


def test_timelines_are_kept_compressed_and_bounded_all_together(tmp_path, monkeypatch):
    from genlab.ui import run_ledger
    now = [0.0]
    ledger = RunLedger(tmp_path, clock=lambda: now[0])
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (60, 60, 3), dtype=np.uint8) for _ in range(3)]
    ledger.add_preview("old", frames[0])
    assert np.array_equal(ledger.preview("old", 0), frames[0])  # lossless round trip
    size = ledger._entries["old"].preview_bytes
    monkeypatch.setattr(run_ledger, "MAX_PREVIEW_BYTES", 2 * size + size // 2)
    now[0] = 1.0
    ledger.add_preview("new", frames[1])
    ledger.add_preview("new", frames[2])  # three frames would pass the budget: the older run's go
    assert ledger.preview_count("old") == 0 and ledger.preview_count("new") == 2
    assert np.array_equal(ledger.preview("new", 99), frames[2])
    assert ledger.preview("none", 0) is None
