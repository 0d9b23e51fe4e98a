"""Shared timing helpers for the benchmark scripts."""

import contextlib
import os
import statistics
import subprocess
import time
import urllib.request


def median_ms(fn, repeats: int) -> float:
    """Median wall time of `fn()` in milliseconds over `repeats` calls, after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        fn()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


@contextlib.contextmanager
def served(argv, cwd, extra_env=None):
    """Run a Gradio app command (`argv`) on a free local port until it answers.

    Yields (url, seconds to ready, the server's Popen)."""
    from genlab.ui.app import free_port
    port = free_port()
    env = {**os.environ, "GRADIO_SERVER_PORT": str(port), "GRADIO_ANALYTICS_ENABLED": "False", **(extra_env or {})}
    url = f"http://127.0.0.1:{port}/"
    began = time.perf_counter()
    process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                with urllib.request.urlopen(url, timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                if time.perf_counter() - began > 120:
                    raise RuntimeError(f"{argv} did not start within 120 s") from None
                time.sleep(0.05)
        yield url, time.perf_counter() - began, process
    finally:
        process.terminate()
        process.wait()
