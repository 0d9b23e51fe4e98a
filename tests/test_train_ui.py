"""The Train tab through the running app: the queue runs one training at a time; a real browser
starts a quick run, sees it learn, and stops it."""

import os
import re
import threading
import time

import pandas as pd
import pytest
from gradio_client import Client

from genlab.ui import build_app, train_tab
from genlab.ui.app import launch_in_process
from genlab.ui.train_run import Frame

from test_browser import ARGS, CHROMIUM


@pytest.fixture(scope="module")
def server():
    demo = build_app("cpu")
    yield launch_in_process(demo)
    demo.close()


def test_the_queue_never_runs_two_trainings_at_once(server, monkeypatch):
    intervals, lock = [], threading.Lock()

    def fake_run(ctx, family_name, recipe, config, session, **kwargs):
        began = time.perf_counter()
        for step in range(1, 6):
            time.sleep(0.1)
            yield Frame(f"step {step}", pd.DataFrame({"step": [step], "value": [1.0], "series": ["loss"]}),
                        None, None, [], session or {}, step, step == 5)
        with lock:
            intervals.append((began, time.perf_counter()))

    monkeypatch.setattr(train_tab, "stream_run", fake_run)
    clients = [Client(server, analytics_enabled=False, verbose=False) for _ in range(2)]
    jobs = [c.submit("gan", api_name="/train_start") for c in clients]
    outputs = [job.result(timeout=60) for job in jobs]
    assert all(out[0] == "step 5" for out in outputs)
    (a_start, a_end), (b_start, b_end) = sorted(intervals)
    assert b_start >= a_end  # the second waited in the queue until the first finished


@pytest.mark.skipif(not os.path.exists(CHROMIUM) and not os.environ.get("GENLAB_REQUIRE_BROWSER"),
                    reason="Chromium not installed")
def test_start_a_quick_run_watch_it_learn_and_stop_it(server, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    def step_shown(page) -> int:
        match = re.search(r"step (\d+)/", page.locator("#train-status").inner_text())
        return int(match.group(1)) if match else 0

    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(str(tmp_path / "profile"), executable_path=CHROMIUM,
                                                       headless=True, args=ARGS)
        try:
            page = context.new_page()
            page.goto(server)
            page.get_by_role("tab", name="Train").click()
            page.locator("#train-start").click()
            expect(page.locator("#train-status")).to_contain_text("steps/s", timeout=60000)
            first = step_shown(page)
            page.wait_for_function("() => document.querySelectorAll('#train-plot canvas, #train-plot svg').length > 0",
                                   timeout=30000)
            deadline = time.time() + 60
            while step_shown(page) <= first + 20 and time.time() < deadline:
                page.wait_for_timeout(300)
            assert step_shown(page) > first + 20  # it keeps learning, and the page keeps up
            expect(page.locator("#train-preview img")).to_be_visible(timeout=30000)
            page.locator("#train-stop").click()
            page.wait_for_timeout(1500)
            stopped = step_shown(page)
            page.wait_for_timeout(2000)
            assert step_shown(page) == stopped < 400  # nothing arrives after Stop
        finally:
            context.close()
