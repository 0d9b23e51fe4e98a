"""The Train tab through the running app: the queue runs one training at a time."""

import threading
import time

import pandas as pd
from gradio_client import Client

from genlab.ui import train_tab
from genlab.ui.train_run import Frame


def test_the_queue_never_runs_two_trainings_at_once(server, monkeypatch):
    intervals, lock = [], threading.Lock()

    def fake_run(ctx, family_name, recipe, config, session, **kwargs):
        began = time.perf_counter()
        for step in range(1, 6):
            time.sleep(0.1)
            yield Frame(f"step {step}", pd.DataFrame({"step": [step], "value": [1.0], "series": ["loss"]}),
                        None, None, 0, session or {}, step, step == 5)
        with lock:
            intervals.append((began, time.perf_counter()))

    monkeypatch.setattr(train_tab, "stream_run", fake_run)
    clients = [Client(server, analytics_enabled=False, verbose=False) for _ in range(2)]
    jobs = [c.submit("gan", uploaded=None, api_name="/train_start") for c in clients]
    outputs = [job.result(timeout=60) for job in jobs]
    assert all(out[0] == "step 5" for out in outputs)
    (a_start, a_end), (b_start, b_end) = sorted(intervals)
    assert b_start >= a_end  # the second waited in the queue until the first finished
