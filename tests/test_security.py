"""What a stranger can reach: files, direct API calls, oversized requests, planted pickles."""

import pickle
import shutil
from pathlib import Path

import httpx
import pytest

from genlab import weights
from genlab.models import sampling
from genlab.registry import get_family

from conftest import no_model_work

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "weights" / "gan" / "model.safetensors"


@pytest.fixture(scope="module")
def public_server():
    """The app as a Space or share link serves it: public limits and launch options."""
    from genlab.ui import build_app
    from genlab.ui.app import launch_in_process
    demo = build_app("cpu", public=True)
    yield launch_in_process(demo, public=True).rstrip("/")
    demo.close()


@pytest.fixture(params=["server", "public_server"])
def any_server(request):
    """File routes must be closed in both modes, not only when hardened."""
    return request.getfixturevalue(request.param).rstrip("/")


PROBES = ["/gradio_api/file=/etc/passwd", "/gradio_api/file=%2fetc%2fpasswd", "/gradio_api/file//etc/passwd",
          "/gradio_api/file=..%2f..%2f..%2f..%2f..%2fetc%2fpasswd", "/file=/etc/passwd",
          "/static/..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
          "/gradio_api/file=app.py", "/gradio_api/file=../app.py", "/gradio_api/file=%2e%2e/app.py",
          f"/gradio_api/file={ROOT / 'app.py'}", "/gradio_api/file=weights/gan/model.safetensors",
          f"/gradio_api/file={SHIPPED}", "/gradio_api/file=http://127.0.0.1/"]  # the last: no SSRF to us


@pytest.mark.parametrize("path", PROBES)
def test_file_routes_refuse_everything_outside_gradios_own_files(any_server, path):
    response = httpx.get(any_server + path, timeout=10)
    assert response.status_code in (400, 403, 404), response.text[:200]
    assert b"root:" not in response.content
    for secret in (ROOT / "app.py", SHIPPED):
        assert secret.read_bytes()[:64] not in response.content


def test_a_file_gradio_created_is_served(public_server):
    """The control for the probes above: the route works, it just refuses what isn't Gradio's."""
    upload = httpx.post(public_server + "/gradio_api/upload", files={"files": ("x.txt", b"hello there")}, timeout=10)
    assert upload.status_code == 200, upload.text
    served = httpx.get(public_server + "/gradio_api/file=" + upload.json()[0], timeout=10)
    assert (served.status_code, served.content) == (200, b"hello there")


def test_public_uploads_are_capped(public_server):
    too_big = b"x" * (5 * 1024 * 1024 + 1)
    response = httpx.post(public_server + "/gradio_api/upload", files={"files": ("big.txt", too_big)}, timeout=30)
    assert response.status_code >= 400


@pytest.mark.parametrize("route", ["/gradio_api/run/gan_sample", "/gradio_api/api/gan_sample"])
def test_direct_calls_that_skip_the_queue_are_refused(public_server, route):
    response = httpx.post(public_server + route, json={"data": ["mix", 4, 0, 0, "pretrained"]}, timeout=10)
    assert response.status_code == 404
    assert "join the queue" in response.json()["detail"]


def test_an_oversized_request_fails_fast_naming_the_limit(public_server):
    from gradio_client import Client
    from gradio_client.exceptions import AppError
    client = Client(public_server, analytics_enabled=False, verbose=False)
    with no_model_work() as work:  # the server runs in this process, so its forward calls are counted
        job = client.submit("mix", 10_000, 0, 0, api_name="/gan_sample")
        # the limit as a number of its own ("100", not the "100" inside "10000"); Gradio's slider or our handler
        with pytest.raises(AppError, match=rf"(?<!\d){sampling.MAX_SAMPLES}(?!\d)"):
            job.result(timeout=30)
    assert work["forward calls"] == 0


class _Touch:
    """A pickle that, when loaded, creates `marker`: stands in for any code an attacker plants."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return Path.touch, (self.marker,)


def test_a_planted_pickle_is_never_executed(tmp_path):
    payload = pickle.dumps(_Touch(tmp_path / "ran-in-control"))
    pickle.loads(payload)  # the control: this payload really runs code when unpickled
    assert (tmp_path / "ran-in-control").exists()

    marker, folder = tmp_path / "ran", tmp_path / "judge"
    payload = pickle.dumps(_Touch(marker))
    folder.mkdir()
    shutil.copy(ROOT / "weights" / "judge" / "config.json", folder / "config.json")
    (folder / "pytorch_model.bin").write_bytes(payload)
    (folder / "model.safetensors").write_bytes(payload)
    with pytest.raises(weights.WeightsError, match="cannot read tensors"):
        weights.load(get_family("judge"), folder)
    (folder / "model.safetensors").unlink()  # only the .bin left: still never a fallback to unpickling
    with pytest.raises(weights.WeightsError):
        weights.load(get_family("judge"), folder)
    assert not marker.exists()
