"""One client cannot take every place in the shared queue."""

import threading
import time

import gradio as gr
import pytest
from gradio_client import Client

from genlab.ui.app import launch_in_process
from genlab.ui.fair_queue import MAX_WAITING_PER_CLIENT


@pytest.fixture
def slow_app():
    """One lane held busy until the test lets it go, so later requests wait in the queue."""
    release = threading.Event()

    def hold(x):
        release.wait(60)
        return x

    with gr.Blocks() as demo:
        box = gr.Number()
        gr.Button().click(hold, box, box, api_name="hold")
    url = launch_in_process(demo)
    yield url, release
    release.set()
    demo.close()


def test_a_client_with_many_sessions_gets_a_message_instead_of_filling_the_queue(slow_app):
    url, release = slow_app
    # one remote address (uvicorn takes it from X-Forwarded-For, as from a proxy on this machine)
    remote = {"X-Forwarded-For": "203.0.113.5"}
    clients = [Client(url, analytics_enabled=False, verbose=False, headers=remote)
               for _ in range(MAX_WAITING_PER_CLIENT + 2)]
    running = clients[0].submit(0, api_name="/hold")
    while running.status().code.name != "PROCESSING":  # it holds the only slot
        time.sleep(0.01)
    waiting = [c.submit(i, api_name="/hold") for i, c in enumerate(clients[1:MAX_WAITING_PER_CLIENT + 1], 1)]
    while not all(job.status().code.name == "IN_QUEUE" for job in waiting):
        time.sleep(0.01)
    refused = clients[-1].submit(99, api_name="/hold")
    with pytest.raises(Exception, match=f"you already have {MAX_WAITING_PER_CLIENT} requests waiting"):
        refused.result(timeout=30)
    local = Client(url, analytics_enabled=False, verbose=False).submit(7, api_name="/hold")  # another client
    release.set()
    assert [job.result(timeout=30) for job in waiting] == list(range(1, MAX_WAITING_PER_CLIENT + 1))
    assert local.result(timeout=30) == 7


def test_a_gan_grid_is_answered_while_a_long_denoising_request_runs(server):
    """Lanes: quick calls have their own slot, so they never wait behind a diffusion request."""
    client = Client(server, analytics_enabled=False, verbose=False)
    long = client.submit("3", 1, 0, "ddpm", 1000, 1.0, api_name="/diffusion_sample")
    while not long.outputs():  # denoising is under way
        time.sleep(0.02)
    Client(server, analytics_enabled=False, verbose=False).predict("mix", 10, 0, 0, api_name="/gan_sample")
    assert not long.done()  # the grid came back while the denoising request still held its slot
    long.cancel()
