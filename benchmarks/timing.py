"""Shared timing helpers for the benchmark scripts."""

import statistics
import time


def median_ms(fn, repeats: int) -> float:
    """Median wall time of `fn()` in milliseconds over `repeats` calls, after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        fn()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)
