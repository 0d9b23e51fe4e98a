"""With a sign-in, every route but the login page's own refuses strangers, and /login refuses guessing."""

import importlib
import re
from pathlib import Path

import httpx
import pytest
from gradio_client import Client

from genlab.ui import server
from genlab.ui.server import FailedLogins, SignInRequired, client_address

ROOT = Path(__file__).resolve().parent.parent
USER, PASSWORD = "alice", "correct horse"


@pytest.fixture(scope="module")
def signed_server():
    """The app launched as `app.py --auth-file` launches it, with one user."""
    from genlab.ui import build_app
    from genlab.ui.app import launch_in_process
    demo = build_app("cpu")
    yield launch_in_process(demo, auth=[(USER, PASSWORD)]).rstrip("/")
    demo.close()


def log_in(url: str, password: str = PASSWORD, address: str = "198.51.100.1") -> httpx.Response:
    # uvicorn takes a request from 127.0.0.1 to come through a proxy: X-Forwarded-For names the client
    return httpx.post(url + "/login", data={"username": USER, "password": password},
                      headers={"x-forwarded-for": address}, timeout=10)


# each of these answered a stranger before (cancel with someone's session id stopped their training run)
CLOSED = [("POST", "/gradio_api/cancel"), ("POST", "/gradio_api/reset"), ("POST", "/reset"),
          ("GET", "/gradio_api/heartbeat/some-session"), ("GET", "/gradio_api/startup-events"),
          ("GET", "/gradio_api/app_id"), ("GET", "/app_id"), ("GET", "/gradio_api/openapi.json"),
          ("GET", "/openapi.json"), ("GET", "/gradio_api/token"), ("GET", "/gradio_api/runs"),
          ("GET", "/config"), ("POST", "/gradio_api/queue/join"), ("GET", "/gradio_api/theme.css")]


@pytest.mark.parametrize("method, path", CLOSED, ids=[f"{m} {p}" for m, p in CLOSED])
def test_anonymous_requests_are_refused(signed_server, method, path):
    response = httpx.request(method, signed_server + path, json={"event_id": "x", "session_hash": "some-session"},
                             timeout=10)
    assert response.status_code == 401, response.text[:200]


def test_the_login_page_and_what_it_loads_answer_anyone(signed_server):
    page = httpx.get(signed_server + "/", timeout=10)
    assert page.status_code == 200 and '"auth_required":true' in page.text.replace(" ", "")
    assert "gan_sample" not in page.text  # neither the app's config nor its API description
    script = re.search(r'src="\.?/?(assets/[^"]+\.js)"', page.text).group(1)
    for path in ["/" + script, "/theme.css", "/favicon.ico", "/static/img/logo_nosize.svg"]:
        assert httpx.get(signed_server + path, timeout=10).status_code == 200, path


def test_a_signed_in_client_gets_the_page_and_the_routes_strangers_may_not(signed_server):
    with httpx.Client(timeout=10) as browser:
        assert browser.post(signed_server + "/login", data={"username": USER, "password": PASSWORD}).status_code == 200
        page = browser.get(signed_server + "/")
        assert page.status_code == 200 and "gan_sample" in page.text
        assert browser.get(signed_server + "/gradio_api/app_id").status_code == 200
        assert browser.post(signed_server + "/gradio_api/cancel",
                            json={"event_id": "x", "session_hash": "s", "fn_index": 0}).status_code == 200


def test_a_signed_in_gradio_client_runs_an_endpoint(signed_server):
    client = Client(signed_server, auth=(USER, PASSWORD), analytics_enabled=False, verbose=False)
    grid = client.predict("7", 16, 0, 0, api_name="/gan_sample")
    assert Path(grid).stat().st_size > 0


def test_the_eleventh_failed_login_in_a_minute_is_refused_without_checking_the_password(signed_server, monkeypatch):
    guesser, neighbour = "203.0.113.7", "203.0.113.8"
    for _ in range(10):
        assert log_in(signed_server, "guess", guesser).status_code == 400
    refused = log_in(signed_server, PASSWORD, guesser)  # even the right password: it is never checked
    assert refused.status_code == 429
    assert "too many failed sign-ins" in refused.json()["detail"].lower()
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert log_in(signed_server, PASSWORD, neighbour).status_code == 200  # other addresses keep their own count
    now = server.clock()
    monkeypatch.setattr(server, "clock", lambda: now + 61)  # the minute is over
    assert log_in(signed_server, PASSWORD, guesser).status_code == 200


def test_successful_logins_do_not_use_up_the_limit(signed_server):
    for _ in range(12):
        assert log_in(signed_server, PASSWORD, "203.0.113.20").status_code == 200


def test_failed_logins_count_a_burst_before_any_answer():
    failed = FailedLogins(limit=3, window=60)
    assert [failed.admit("a", 0.0) for _ in range(5)] == [True, True, True, False, False]
    failed.forgive("a")  # one of the three succeeded
    assert failed.admit("a", 1.0) and not failed.admit("a", 1.0)
    assert failed.seconds_left("a", 1.0) == 59
    assert failed.admit("a", 60.0)  # a new window


def test_failed_logins_forget_old_windows_and_stay_bounded():
    failed = FailedLogins(limit=1, window=60, max_addresses=3)
    for i in range(5):
        failed.admit(f"10.0.0.{i}", float(i))
    assert list(failed.windows) == ["10.0.0.2", "10.0.0.3", "10.0.0.4"]
    failed.admit("10.0.0.9", 100.0)
    assert list(failed.windows) == ["10.0.0.9"]


def scope(peer: str, forwarded: str = "") -> dict:
    return {"client": (peer, 5000), "headers": [(b"x-forwarded-for", forwarded.encode())] if forwarded else []}


def test_the_address_is_the_peer_uvicorn_reports_off_a_space():
    # uvicorn has already applied X-Forwarded-For from 127.0.0.1; from anyone else it is forged
    assert client_address(scope("81.2.69.200", "81.2.69.160"), {}) == "81.2.69.200"
    assert client_address(scope("10.1.2.3", "81.2.69.160"), {}) == "10.1.2.3"


def test_on_a_space_the_address_is_the_rightmost_public_one_the_proxy_added():
    space = {"SPACE_ID": "someone/genlab"}
    assert client_address(scope("10.16.3.80", "81.2.69.160"), space) == "81.2.69.160"
    assert client_address(scope("10.16.3.80", "81.2.69.1, 81.2.69.160, 10.0.0.2"), space) == "81.2.69.160"
    assert client_address(scope("10.16.3.80"), space) == "10.16.3.80"
    assert client_address(scope("81.2.69.200", "81.2.69.160"), space) == "81.2.69.200"  # not from the proxy


def test_app_py_launches_with_the_guard(monkeypatch, tmp_path):
    users = tmp_path / "users"
    users.write_text(f"{USER}:{PASSWORD}\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(ROOT))
    app = importlib.import_module("app")
    launch = app.launch_settings(app.parse_args(["--auth-file", str(users)]), {})["launch"]
    assert launch["auth"] == [(USER, PASSWORD)]
    assert [entry.cls for entry in launch["app_kwargs"]["middleware"]] == [SignInRequired]
    assert "app_kwargs" not in app.launch_settings(app.parse_args([]), {})["launch"]
