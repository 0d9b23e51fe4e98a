"""Heavy lanes step aside while the quick lane has work, so a GAN grid never waits behind a UNet.

Each lane has its own slot (ModelStore.lane), but on a CPU the slots share the same cores: the
network calls of a diffusion request and the characters of a text request take the cores that a
one-forward grid needs, and its answer waits for them (benchmarks/load_test.py, mixed load). Torch
has no priorities between threads, so the heavy streams cooperate: before computing their next
frame they wait while the quick lane has a request running or queued. The wait is bounded by a
share of wall time (HEAVY_SHARE), so a heavy request always moves, however busy the quick lane is.
"""

import functools
import inspect
import time
from typing import Callable

HEAVY_SHARE = 0.25  # the least fraction of wall time a paced stream computes while the quick lane is busy
POLL_SECONDS = 0.005  # how often a waiting stream looks at the quick lane again


class QuickFirst:
    """Paces generator handlers of the heavy lanes around `lane` of `demo`'s queue (set once the app
    is queued; before that, and with a GPU, where lanes do not share cores, nothing waits)."""

    def __init__(self, demo, lane: str = "quick", active: bool = True, heavy_share: float = HEAVY_SHARE):
        self.demo, self.lane, self.active, self.heavy_share = demo, lane, active, heavy_share

    def quick_has_work(self) -> bool:
        """A request of the quick lane is running or waiting (read without Gradio's lock: an int and a
        list length, so a stale answer costs at most one poll)."""
        queue = getattr(self.demo, "_queue", None)
        lane = queue.event_queue_per_concurrency_id.get(self.lane) if queue is not None else None
        return lane is not None and (lane.current_concurrency > 0 or len(lane.queue) > 0)

    def paced(self, stream: Callable) -> Callable:
        """`stream` (a generator function) waiting before each next frame while the quick lane has work,
        at most until it has waited (1 - share) / share times as long as it has computed."""
        if not self.active:
            return stream

        @functools.wraps(stream)
        def paced_stream(*args, **kwargs):
            frames = stream(*args, **kwargs)
            computed = waited = 0.0
            try:
                while True:
                    waited += self._wait(budget=computed * (1 - self.heavy_share) / self.heavy_share - waited)
                    began = time.perf_counter()
                    try:
                        frame = next(frames)
                    except StopIteration:
                        return
                    computed += time.perf_counter() - began
                    yield frame
            finally:
                frames.close()

        assert inspect.isgeneratorfunction(paced_stream)
        return paced_stream

    def _wait(self, budget: float) -> float:
        """Sleep while the quick lane has work, for at most `budget` seconds; the seconds slept."""
        began = time.perf_counter()
        while budget > 0 and self.quick_has_work():
            time.sleep(min(POLL_SECONDS, budget))
            budget -= POLL_SECONDS
        return time.perf_counter() - began
