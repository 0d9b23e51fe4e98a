"""The Train tab through the running app: the queue runs one training at a time."""

import time

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from genlab.ui.tabs import train as train_tab

from conftest import TINY


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
    while not long.outputs():  # the first run is training
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
