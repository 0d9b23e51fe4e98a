"""Stopping a streaming handler never breaks later requests: no torch mode outlives a stopped stream."""

import time

from gradio_client import Client
from gradio_client.utils import Status

from genlab.registry import FAMILIES
from genlab.ui.tabs import train as train_tab

from conftest import TINY


def _stop_after_first_picture(client: Client) -> None:
    job = client.submit("3", 1, 0, "ddpm", 1000, 1.0, api_name="/diffusion_sample")
    while not job.outputs() and not job.done():  # the stream is under way on a server worker thread
        time.sleep(0.02)
    job.cancel()
    while job.status().code not in (Status.CANCELLED, Status.FINISHED):
        time.sleep(0.02)


def test_training_works_after_several_stopped_diffusion_requests(server, monkeypatch):
    real_run = train_tab.stream_run
    family = FAMILIES["gan"]

    def tiny_run(ctx, family_name, recipe, config, session, **kwargs):
        recipe = {**recipe, "steps": 3, "batch_size": 8}
        return real_run(ctx, family_name, recipe, dict(TINY[family.name]), session, **kwargs)

    monkeypatch.setattr(train_tab, "stream_run", tiny_run)
    client = Client(server, analytics_enabled=False, verbose=False)
    for _ in range(5):
        _stop_after_first_picture(client)
    for _ in range(4):  # workers are a pool: try several, any one of them may be a stopped stream's
        status = Client(server, analytics_enabled=False, verbose=False).submit(
            "gan", uploaded=None, api_name="/train_start").result(timeout=120)[0]
        assert "step 3/3" in status
