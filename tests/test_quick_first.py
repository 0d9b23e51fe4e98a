"""Heavy-lane streams wait while the quick lane has work, within their share of time (genlab.ui.quick_first)."""

import inspect
from types import SimpleNamespace

import gradio as gr
import pytest

from genlab.ui import quick_first
from genlab.ui.handlers import handler
from genlab.ui.quick_first import QuickFirst


class FakeClock:
    """time.perf_counter and time.sleep for quick_first: sleeping and computing frames move it, nothing else."""

    def __init__(self):
        self.now = 0.0

    def perf_counter(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(quick_first, "time", fake)
    return fake


def lane_queue(running=0, waiting=0):
    """A stand-in for a queued demo: its quick lane with `running` requests and `waiting` queued."""
    lane = SimpleNamespace(current_concurrency=running, queue=[object()] * waiting)
    return SimpleNamespace(_queue=SimpleNamespace(event_queue_per_concurrency_id={"quick": lane})), lane


def frames(clock, n, seconds_each, log):
    for i in range(n):
        clock.now += seconds_each  # the frame's computing
        log.append(("frame", i, clock.now))
        yield i


def test_idle_quick_lane_costs_a_stream_nothing(clock):
    demo, _ = lane_queue()
    log = []
    assert list(QuickFirst(demo).paced(lambda: frames(clock, 5, 0.1, log))()) == [0, 1, 2, 3, 4]
    assert clock.now == pytest.approx(0.5)


@pytest.mark.parametrize("running,waiting", [(1, 0), (0, 3)])
def test_busy_quick_lane_holds_a_stream_to_its_share(clock, running, waiting):
    demo, _ = lane_queue(running, waiting)
    pacer = QuickFirst(demo, heavy_share=0.25)
    log = []
    assert list(pacer.paced(lambda: frames(clock, 8, 0.1, log))()) == list(range(8))
    computed = 0.8
    # it computed a quarter of the time, waiting the rest: never more (it always moves) nor less
    assert computed / clock.now == pytest.approx(0.25, abs=0.02)


def test_a_stream_goes_on_as_soon_as_the_quick_lane_is_free(clock):
    demo, lane = lane_queue(running=1)
    pacer = QuickFirst(demo, heavy_share=0.1)
    stream = pacer.paced(lambda: frames(clock, 3, 0.1, []))()
    next(stream)  # 0.1 s computed: up to 0.9 s of waiting allowed before the next frame
    calls = []

    def free_after_two_polls(seconds):
        calls.append(seconds)
        clock.now += seconds
        if len(calls) == 2:
            lane.current_concurrency = 0
    clock.sleep = free_after_two_polls
    next(stream)
    assert len(calls) == 2 and clock.now == pytest.approx(0.1 + 2 * quick_first.POLL_SECONDS + 0.1)


def test_closing_a_paced_stream_closes_the_handler_stream(clock):
    demo, _ = lane_queue()
    closed = []

    def stream():
        try:
            yield from frames(clock, 10, 0.1, [])
        finally:
            closed.append(True)
    paced = QuickFirst(demo).paced(stream)()
    next(paced)
    paced.close()  # Stop in the page, or a client that went away
    assert closed == [True]


def test_inactive_pacer_and_an_unqueued_app_never_wait(clock):
    demo, _ = lane_queue(running=1)

    def stream():
        yield from frames(clock, 3, 0.1, [])
    assert QuickFirst(demo, active=False).paced(stream) is stream
    assert list(QuickFirst(SimpleNamespace()).paced(stream)()) == [0, 1, 2]  # no queue yet
    assert clock.now == pytest.approx(0.3)


def test_pacer_reads_gradios_own_lane_and_keeps_streaming_handlers_streaming():
    with gr.Blocks() as demo:
        box = gr.Textbox()
        box.submit(lambda text: text, box, box, concurrency_id="quick")
    pacer = QuickFirst(demo)
    assert not pacer.quick_has_work()
    demo.queue()
    for fn in demo.fns.values():  # as Gradio does for each event when it starts serving
        demo._queue.create_event_queue_for_fn(fn)
    lane = demo._queue.event_queue_per_concurrency_id["quick"]
    assert not pacer.quick_has_work()
    lane.current_concurrency = 1
    assert pacer.quick_has_work()

    def stream(store, n):
        yield from range(n)
    paced = handler(stream, "store", pacer=pacer)
    assert inspect.isgeneratorfunction(paced)
    assert list(inspect.signature(paced).parameters) == ["n"]  # what Gradio reads to map inputs
