"""Device resolution and app.py's launch settings."""

import importlib
import runpy
import sys
from pathlib import Path
from unittest.mock import ANY

import pytest
import torch

from genlab import devices
from genlab.ui import theme
from genlab.ui.public import AuthError
from genlab.ui.store import ModelStore

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def fresh_resolution():
    devices._resolve.cache_clear()
    yield
    devices._resolve.cache_clear()


def test_env_override_and_explicit_names(monkeypatch):
    monkeypatch.setenv("GENLAB_DEVICE", "cpu")
    assert devices.resolve() == torch.device("cpu")
    assert devices.resolve("CPU") == torch.device("cpu")


@pytest.mark.parametrize("cuda, mps, expected", [(True, True, "cuda"), (False, True, "mps"), (False, False, "cpu")])
def test_auto_prefers_cuda_then_mps_then_cpu(monkeypatch, cuda, mps, expected):
    monkeypatch.delenv("GENLAB_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)
    assert devices.resolve().type == expected


def test_the_environment_is_read_on_every_call(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    monkeypatch.setenv("GENLAB_DEVICE", "cpu")
    assert devices.resolve().type == "cpu"
    monkeypatch.setenv("GENLAB_DEVICE", "auto")
    assert devices.resolve().type == "mps"


def test_unknown_or_unavailable_devices_are_clear_errors(monkeypatch):
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        devices.resolve("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            devices.resolve("cuda")


@pytest.mark.parametrize("device, slots", [("cpu", 1), ("cuda", 4), ("mps", 4)])
def test_each_lane_runs_one_call_at_a_time_on_cpu_and_four_on_a_gpu(monkeypatch, device, slots):
    monkeypatch.setattr(devices, "resolve", lambda name="": torch.device(device))
    store = ModelStore("auto")
    assert store.device.type == device
    assert store.lane("quick") == {"concurrency_id": "quick", "concurrency_limit": slots}


def test_app_defaults_to_localhost_7860_and_honours_gradio_env(monkeypatch):
    sys.path.insert(0, str(ROOT))
    app = importlib.import_module("app")
    monkeypatch.delenv("GRADIO_SERVER_NAME", raising=False)
    monkeypatch.delenv("GRADIO_SERVER_PORT", raising=False)
    args = app.parse_args([])
    assert (args.host, args.port, args.share) == ("127.0.0.1", 7860, False)
    monkeypatch.setenv("GRADIO_SERVER_NAME", "0.0.0.0")
    monkeypatch.setenv("GRADIO_SERVER_PORT", "8080")
    args = app.parse_args(["--share"])
    assert (args.host, args.port, args.share) == ("0.0.0.0", 8080, True)
    assert type(app.demo).__name__ == "Blocks"


@pytest.fixture
def app(monkeypatch):
    monkeypatch.delenv("GRADIO_SERVER_NAME", raising=False)
    monkeypatch.delenv("GRADIO_SERVER_PORT", raising=False)
    monkeypatch.delenv("GRADIO_TEMP_DIR", raising=False)  # Gradio's files outside the repo, as usual
    monkeypatch.syspath_prepend(str(ROOT))
    return importlib.import_module("app")


LOCAL = {"server_name": "127.0.0.1", "server_port": 7860, "share": False, "css": theme.css(), "theme": ANY,
         "enable_monitoring": False, "mcp_server": False}  # off whatever GRADIO_MCP_SERVER says
HARDENED = {"show_error": False, "max_file_size": "5mb", "blocked_paths": [str(ROOT)], "state_session_capacity": 256}


@pytest.mark.parametrize("argv, environ, public, launch", [
    ([], {}, False, LOCAL),  # a local run is exactly what it was before public mode existed
    (["--public"], {}, True, {**LOCAL, **HARDENED}),
    (["--share"], {}, True, {**LOCAL, **HARDENED, "share": True}),
    # app_kwargs carries the sign-in guard (tests/test_signin.py checks it)
    (["--share", "--auth", "u:p:q"], {}, True, {**LOCAL, **HARDENED, "share": True, "auth": [("u", "p:q")],
                                                "app_kwargs": ANY}),
    ([], {"SPACE_ID": "someone/genlab"}, True, {**LOCAL, **HARDENED}),  # Spaces set host/port themselves
], ids=["local", "public", "share", "share-auth", "space"])
def test_launch_settings(app, argv, environ, public, launch):
    assert app.launch_settings(app.parse_args(argv), environ) == {"public": public, "mcp": False, "launch": launch}


def test_mcp_is_asked_for_locally_and_refused_in_public_mode(app):
    settings = app.launch_settings(app.parse_args(["--mcp"]), {})
    assert settings["mcp"] is True and settings["launch"]["mcp_server"] is True
    for argv, environ in ((["--mcp", "--share"], {}), (["--mcp", "--public"], {}), (["--mcp"], {"SPACE_ID": "a/b"})):
        with pytest.raises(SystemExit) as exit_info:
            app.main(argv, environ)
        assert "--mcp is for local use" in str(exit_info.value.code)
    line = app.start_line("http://127.0.0.1:7860/", None, settings)
    assert line.endswith("\n* MCP tools at http://127.0.0.1:7860/gradio_api/mcp/")


def test_the_repo_is_not_blocked_when_gradios_files_live_in_it(monkeypatch):
    from genlab.ui.app import blocked_paths
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(ROOT / "gradio-tmp"))
    assert blocked_paths() == []  # blocking would refuse every picture the app makes


def test_auth_files(app, tmp_path):
    good = tmp_path / "users"
    good.write_text("# team\nalice:s3cret\n\n  bob:pa:ss  \r\n", encoding="utf-8")
    settings = app.launch_settings(app.parse_args(["--share", "--auth-file", str(good)]), {})
    assert settings["launch"]["auth"] == [("alice", "s3cret"), ("bob", "pa:ss")]


@pytest.mark.parametrize("text, message", [
    (None, "cannot read auth file"),
    ("", "no user:password lines"),
    ("alice:ok\nhunter2-without-colon\n", "line 2: expected user:password"),
    ("alice:\n", "line 1: expected user:password"),
    (":hunter2\n", "line 1: expected user:password"),
    ("alice:hunter2\nalice:other\n", "more than once: alice"),
])
def test_bad_auth_files_are_refused_without_showing_passwords(app, tmp_path, capsys, text, message):
    path = tmp_path / "users"
    if text is not None:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        app.main(["--share", "--auth-file", str(path)], {})
    assert message in str(exit_info.value.code) and "hunter2" not in str(exit_info.value.code)
    assert "hunter2" not in capsys.readouterr().out


def test_a_bad_auth_value_is_refused_without_showing_it(app):
    with pytest.raises(AuthError, match="--auth value 1") as error:
        app.launch_settings(app.parse_args(["--share", "--auth", "hunter2"]), {})
    assert "hunter2" not in str(error.value)


class _Launched:
    def __init__(self, demo, calls):
        self.demo, self.calls = demo, calls

    def launch(self, **kwargs):
        self.calls.append(("launch", self.demo, kwargs))
        return None, "http://127.0.0.1:7860/", None

    def block_thread(self):
        self.calls.append(("block", self.demo))


@pytest.mark.parametrize("argv, environ, demo_public, rebuilt", [
    ([], {}, False, False), (["--share"], {}, False, True), ([], {"SPACE_ID": "a/b"}, True, False)])
def test_main_builds_again_only_when_the_flags_change_the_mode(app, monkeypatch, argv, environ, demo_public, rebuilt):
    calls = []
    monkeypatch.setattr(app, "DEMO_PUBLIC", demo_public)
    monkeypatch.setattr(app, "build_app", lambda public, mcp: calls.append(("build", public)) or "rebuilt")
    monkeypatch.setattr(app, "prepare", lambda demo: _Launched(demo, calls))
    app.main(argv, environ)
    expected = app.launch_settings(app.parse_args(argv), environ)["launch"]
    served = "rebuilt" if rebuilt else app.demo
    # quiet, then app.py's own start line, then the wait Gradio would have done itself
    quiet = {**expected, "quiet": True, "prevent_thread_lock": True}
    assert calls == ([("build", True)] if rebuilt else []) + [("launch", served, quiet), ("block", served)]


@pytest.mark.parametrize("argv, environ, share_url, says, never", [
    ([], {}, None, "on http://127.0.0.1:7860/ (add --share for a public link)", "share=True"),
    (["--share"], {}, "https://abc.gradio.live", "on http://127.0.0.1:7860/ and on https://abc.gradio.live", "add --"),
    (["--share"], {}, None, "on http://127.0.0.1:7860/ (no public link: see above)", "add --"),
    (["--public"], {}, None, "on http://127.0.0.1:7860/", "add --share"),  # public already (own proxy)
    ([], {"SPACE_ID": "a/b"}, None, "on http://127.0.0.1:7860/", "add --share"),
], ids=["local", "shared", "share-failed", "public", "space"])
def test_the_start_line_names_the_address_and_the_flag_this_script_takes(app, argv, environ, share_url, says,
                                                                          never):
    line = app.start_line("http://127.0.0.1:7860/", share_url, app.launch_settings(app.parse_args(argv), environ))
    assert line.startswith("* genlab is running ") and line.endswith(says) and never not in line


def _free_port() -> int:
    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_python_app_py_prints_its_own_start_line_instead_of_gradios(app, monkeypatch, capsys):
    """A real (tiny) launch: the server answers, and the only start-up line is app.py's."""
    import gradio as gr
    import httpx
    with gr.Blocks() as tiny:
        gr.Markdown("hello")
    answered = []

    def answer_then_stop(self):  # instead of waiting for Ctrl-C
        answered.append(httpx.get(self.local_url, timeout=30).status_code)
        self.close()

    monkeypatch.setattr(app, "demo", tiny)
    monkeypatch.setattr(app, "DEMO_PUBLIC", False)
    monkeypatch.setattr(gr.Blocks, "block_thread", answer_then_stop)
    port = _free_port()
    app.main(["--port", str(port)], {})
    out = capsys.readouterr().out
    assert answered == [200]
    assert f"* genlab is running on http://127.0.0.1:{port}/ (add --share for a public link)\n" in out
    assert "share=True" not in out and "Running on local URL" not in out


def test_on_a_space_the_imported_demo_is_public(monkeypatch):
    import genlab.ui
    built = []
    monkeypatch.setattr(genlab.ui, "build_app", lambda public: built.append(public) or "demo")
    monkeypatch.setenv("SPACE_ID", "someone/genlab")
    namespace = runpy.run_path(str(ROOT / "app.py"), run_name="imported_by_spaces")  # a fresh import, not __main__
    assert (namespace["demo"], built) == ("demo", [True])


def test_malloc_arenas_are_capped_on_glibc_and_skipped_elsewhere(monkeypatch):
    import platform

    from genlab.ui import memory
    if platform.libc_ver()[0] == "glibc":
        assert memory.cap_malloc_arenas(2) is True
    from types import SimpleNamespace
    monkeypatch.setattr(memory, "sys", SimpleNamespace(platform="darwin"))  # this module's view only
    assert memory.cap_malloc_arenas(2) is False
