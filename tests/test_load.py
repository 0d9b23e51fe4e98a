"""A short load test: concurrent gradio_client users on the image endpoints (the GAN batched, diffusion
streaming) get answers, never errors."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from load_test import run_load  # noqa: E402


def test_concurrent_users_get_answers_and_no_errors(server):
    tally = run_load(server, users=8, seconds=6, endpoints=["gan", "vae", "diffusion"])
    assert not tally.errors
    assert sum(len(v) for v in tally.latencies.values()) >= 8
