"""The Train tab through the running app: the queue runs one training at a time, and clients
name a run's family, recipe and config."""

import time

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from genlab.ui.tabs import train as train_tab

from conftest import TEXT, TINY


def test_a_second_start_is_told_the_server_is_busy_at_once_and_trains_once_it_is_free(server, monkeypatch):
    """One run trains at a time; a second Start gets the reason straight away instead of waiting
    unseen in the queue (and training after its user has gone)."""
    real_run, calls = train_tab.stream_run, []

    def tiny_run(ctx, family_name, recipe, config, session, **kwargs):
        calls.append(1)
        recipe = {**recipe, "steps": 100_000 if len(calls) == 1 else 3, "batch_size": 8}
        return real_run(ctx, family_name, recipe, dict(TINY["gan"]), session, **kwargs)

    monkeypatch.setattr(train_tab, "stream_run", tiny_run)
    long = Client(server, analytics_enabled=False, verbose=False).submit("gan", uploaded=None,
                                                                       api_name="/train_start")
    while not any("steps/s" in out[0] for out in long.outputs()):  # the first run is training (not preparing)
        time.sleep(0.02)
    second = Client(server, analytics_enabled=False, verbose=False).submit("gan", uploaded=None,
                                                                         api_name="/train_start")
    with pytest.raises(AppError, match=r"a training run is in progress on this server \(step \d+ of 100000\)"):
        second.result(timeout=60)
    long.cancel()
    while not long.done():
        time.sleep(0.02)
    for _ in range(200):  # the cancelled run lets go of the slot as its generator closes
        try:
            status = Client(server, analytics_enabled=False, verbose=False).submit(
                "gan", uploaded=None, api_name="/train_start").result(timeout=60)[0]
            break
        except AppError as err:
            assert "in progress" in str(err)
            time.sleep(0.05)
    assert "step 3/3" in status


def client(server) -> Client:
    return Client(server, analytics_enabled=False, verbose=False)


def test_the_train_endpoints_take_and_give_named_values(server):
    endpoints = client(server).view_api(print_info=False, return_format="dict")["named_endpoints"]
    names = {api: [p["parameter_name"] for p in endpoints[api]["parameters"]]
             for api in ("/train_start", "/train_resume", "/train_download", "/train_judge_for_data",
                         "/train_data_preview")}
    assert names == {"/train_start": ["family", "preset", "recipe", "config", "source", "pasted", "uploaded", "data",
                                      "pictures"],
                     "/train_resume": ["recipe"], "/train_download": [], "/train_judge_for_data": ["data", "pictures"],
                     "/train_data_preview": ["family", "data", "upload"]}
    for api in names:
        assert all(r["label"] and not r["label"].startswith("value_") for r in endpoints[api]["returns"]), api


def test_a_gpt_run_trains_the_steps_a_client_names(server):
    outputs = client(server).submit("gpt", recipe={"steps": 3}, config={"n_layer": 1, "n_embd": 32},
                                    source=train_tab.OWN_TEXT, pasted=TEXT, api_name="/train_start").result(timeout=120)
    assert "finished: step 3/3" in outputs[0]


def test_an_unknown_field_is_refused_by_name(server):
    with pytest.raises(AppError, match="unknown config fields for gpt: layers, width; the fields are context"):
        client(server).submit("gpt", recipe={"steps": 3}, config={"layers": 2, "width": 8}, source=train_tab.OWN_TEXT,
                              pasted=TEXT, api_name="/train_start").result(timeout=60)
    with pytest.raises(AppError, match="only steps may change, not lr"):
        client(server).submit(recipe={"steps": 9, "lr": 0.1}, api_name="/train_resume").result(timeout=60)
