"""python -m genlab deploy: the bundle, its checks, and the upload (HfApi faked: no network); gpu()."""

import inspect
import shutil
import sys
import types
from pathlib import Path

import httpx
import huggingface_hub
import pytest

from genlab import weights
from genlab.cli import deploy, main as cli
from genlab.registry import FAMILIES
from genlab.ui import gpu as gpu_module

from conftest import tiny

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def project(tmp_path):
    """A small deployable checkout: the real settings files, tiny required weights, and clutter to skip."""
    root = tmp_path / "space"
    root.mkdir()
    for name in ("spaces.yaml", "README.md", "requirements.txt", "app.py", ".gitignore"):
        shutil.copy(ROOT / name, root / name)
    for name, text in {"genlab/__init__.py": "", "genlab/ui/app.py": "x = 1\n",
                       "genlab/__pycache__/x.cpython-310.pyc": "", "genlab/tests/test_x.py": "",
                       "tests/test_a.py": "", "benchmarks/b.py": "", "scripts/s.py": "", ".ci/run": "",
                       "runs/gan/state.json": "{}", ".venv/lib/x.py": "", ".gradio/cache.txt": "",
                       "weights/.gan-tmp123/model.safetensors": ""}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    for name in deploy.REQUIRED:
        weights.save(tiny(FAMILIES[name]), root / "weights" / name)
    return root


def paths_of(root):
    return [p for p, _ in deploy.bundle(root)]


def test_bundle_keeps_the_app_and_skips_tests_caches_and_local_folders(project):
    paths = paths_of(project)
    assert {"app.py", "README.md", "requirements.txt", "genlab/ui/app.py", "weights/gan/model.safetensors",
            "weights/judge/config.json"} <= set(paths)
    assert paths == sorted(paths)
    skipped = ("tests/", "benchmarks/", "scripts/", ".ci/", "runs/", ".venv/", ".gradio/", "weights/.gan-tmp")
    assert not [p for p in paths if p.startswith(skipped) or "__pycache__" in p or "/tests/" in p]


@pytest.mark.parametrize("pattern, rel, is_dir, hit", [
    ("tests/", "genlab/tests", True, True), ("tests/", "tests", False, False),
    ("**/__pycache__/", "__pycache__", True, True), ("**/__pycache__/", "a/b/__pycache__", True, True),
    ("*.pyc", "a/b/x.pyc", False, True), ("/tmp/", "tmp", True, True), ("/tmp/", "a/tmp", True, False),
    ("weights/.*", "weights/.gan-x", True, True), ("weights/.*", "weights/gan", True, False),
])
def test_ignore_patterns_follow_gitignore_rules(pattern, rel, is_dir, hit):
    assert deploy.excluded(deploy.ignore_spec([pattern]), rel, is_dir) is hit


def test_a_negation_brings_a_file_back_but_never_tests(tmp_path):
    (tmp_path / ".gitignore").write_text("*.log\n!keep.log\n!tests/\n")
    patterns = deploy.exclusions(tmp_path, {})
    spec = deploy.ignore_spec(patterns)
    assert deploy.excluded(spec, "run.log", False) and not deploy.excluded(spec, "keep.log", False)
    assert deploy.excluded(spec, "tests", True)


def test_checks_pass_and_untrained_families_are_only_noted(project, capsys):
    assert cli.main(["deploy", "--root", str(project), "--dry-run"]) == 0
    out = capsys.readouterr().out
    untrained = [n for n in FAMILIES if n not in deploy.REQUIRED]
    assert f"{', '.join(untrained)}: not trained (tab will say so)" in out
    assert "FAIL" not in out and "dry run: would upload to space genlab/genlab (cpu-basic)" in out


def test_dry_run_of_this_checkout_lists_files_with_sizes_and_skips_the_rest(capsys):
    assert cli.main(["deploy", "--dry-run"]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line for line in out.splitlines()}
    for path in ("app.py", "requirements.txt", "README.md", "genlab/cli/main.py", "genlab/ui/app.py", "genlab/ui/docs/gan.md",
                 "weights/gan/model.safetensors"):
        assert path in rows, path
    size = (ROOT / "weights/gan/model.safetensors").stat().st_size
    assert rows["weights/gan/model.safetensors"].endswith(deploy.human(size))
    assert not [p for p in rows if p.startswith(("tests/", "benchmarks/", ".ci/", "runs/", ".venv/"))
                or "__pycache__" in p]
    total = sum(n for _, n in deploy.bundle(ROOT))
    assert f"files, {deploy.human(total)}" in out
    for name in ("weights", "file sizes", "no tests or caches", "README front matter", "gradio pin", "app file"):
        assert f"ok    {name}: " in out


def test_a_file_over_10_mb_fails_the_size_check(project, capsys):
    with open(project / "genlab" / "big.bin", "wb") as f:
        f.truncate(deploy.MAX_FILE_BYTES + 1)  # sparse: no 10 MB written
    assert cli.main(["deploy", "--root", str(project), "--dry-run"]) == 2
    captured = capsys.readouterr()
    assert "FAIL  file sizes: over 10.0 MB: genlab/big.bin (10.0 MB)" in captured.out
    assert captured.err.strip() == "error: check failed: file sizes; nothing uploaded"


@pytest.mark.parametrize("breakage, failed", [
    (lambda root: shutil.rmtree(root / "weights" / "vae"), "weights"),
    (lambda root: (root / "weights/gan/model.safetensors").write_bytes(b"junk"), "weights"),
    (lambda root: (root / "README.md").write_text("# no front matter\n"), "README front matter"),
    (lambda root: (root / "requirements.txt").write_text("gradio==5.0.0\n"), "gradio pin"),
])
def test_each_broken_check_is_named(project, capsys, breakage, failed):
    breakage(project)
    assert cli.main(["deploy", "--root", str(project), "--dry-run"]) == 2
    assert capsys.readouterr().err.strip() == f"error: check failed: {failed}; nothing uploaded"


class FakeApi:
    """Records HfApi calls; `fail` makes create_repo raise it."""

    instances = []
    fail = None

    def __init__(self, token=None):
        self.token, self.calls = token, []
        FakeApi.instances.append(self)

    def create_repo(self, repo_id, **kwargs):
        self.calls.append(("create_repo", repo_id, kwargs))
        if FakeApi.fail is not None:
            raise FakeApi.fail
        return f"https://huggingface.co/spaces/{repo_id}"

    def upload_folder(self, **kwargs):
        self.calls.append(("upload_folder", kwargs["repo_id"], kwargs))

    def request_space_hardware(self, repo_id, hardware):
        self.calls.append(("request_space_hardware", repo_id, {"hardware": hardware}))


@pytest.fixture
def fake_hub(monkeypatch):
    monkeypatch.setattr(FakeApi, "instances", [])
    monkeypatch.setattr(FakeApi, "fail", None)
    monkeypatch.setattr(deploy, "HfApi", FakeApi)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setattr(huggingface_hub, "get_token", lambda: None)  # no stored login either
    return FakeApi


def test_no_token_is_one_clear_line_and_no_network(project, fake_hub, capsys):
    assert cli.main(["deploy", "--root", str(project), "--repo", "me/lab"]) == 2
    assert capsys.readouterr().err == f"error: {deploy.NO_TOKEN}\n"
    assert "huggingface-cli login" in deploy.NO_TOKEN and "HF_TOKEN" in deploy.NO_TOKEN
    assert fake_hub.instances == []


@pytest.mark.parametrize("error", [
    httpx.ConnectError("All connection attempts failed: /api/repos/create"),
    huggingface_hub.errors.HfHubHTTPError("503 Server Error: Service Unavailable\nfor url: /api/repos/create",
                                          response=types.SimpleNamespace(headers={}, request=None)),
    huggingface_hub.errors.HFValidationError("Repo id must be in the form 'repo_name'\nor 'namespace/repo_name'"),
    OSError("[Errno 101] Network is unreachable"),
])
def test_network_errors_are_one_line_and_exit_2(project, fake_hub, capsys, monkeypatch, error):
    monkeypatch.setenv("HF_TOKEN", "hf_env")
    fake_hub.fail = error
    assert cli.main(["deploy", "--root", str(project), "--repo", "me/lab"]) == 2
    err = capsys.readouterr().err  # progress lines, then the error on one line
    assert err.splitlines()[-1] == f"error: deploy to me/lab failed: {' '.join(str(error).split())}"
    assert err.count("error:") == 1 and "Traceback" not in err
    assert fake_hub.instances[0].token == "hf_env"


def test_upload_creates_a_gradio_space_and_sends_exactly_the_bundle(project, fake_hub, capsys):
    assert cli.main(["deploy", "--root", str(project), "--repo", "me/lab", "--token", "hf_x"]) == 0
    (api,) = fake_hub.instances
    assert api.token == "hf_x"
    (create, upload) = api.calls  # cpu-basic: no hardware request
    assert create == ("create_repo", "me/lab", {"repo_type": "space", "space_sdk": "gradio", "exist_ok": True})
    kwargs = upload[2]
    assert kwargs["repo_type"] == "space" and Path(kwargs["folder_path"]) == project
    assert {"tests/", "benchmarks/", ".ci/", "runs/", "**/__pycache__/", "*.pyc"} <= set(kwargs["ignore_patterns"])
    assert sorted(kwargs["allow_patterns"]) == paths_of(project)
    assert "deployed" in capsys.readouterr().out


def test_other_hardware_is_requested_after_the_upload(project, fake_hub, monkeypatch):
    monkeypatch.setattr(huggingface_hub, "get_token", lambda: "hf_stored")
    assert cli.main(["deploy", "--root", str(project), "--repo", "me/lab", "--hardware", "zero-a10g"]) == 0
    (api,) = fake_hub.instances
    assert api.token == "hf_stored"
    assert api.calls[-1] == ("request_space_hardware", "me/lab", {"hardware": "zero-a10g"})


def test_failed_checks_stop_before_any_network(project, fake_hub):
    shutil.rmtree(project / "weights" / "gan")
    assert cli.main(["deploy", "--root", str(project), "--repo", "me/lab", "--token", "hf_x"]) == 2
    assert fake_hub.instances == []


# ---- gpu(): spaces.GPU on ZeroGPU Spaces, a no-op elsewhere


def handler(x):
    """Doc."""
    return x + 1


def streamer(n):
    yield from range(n)


@pytest.fixture
def fake_spaces(monkeypatch):
    """A `spaces` module whose GPU returns a plain wrapper (the worst case for generators)."""
    module = types.SimpleNamespace(durations=[], calls=[])

    def GPU(duration):
        module.durations.append(duration)

        def decorate(fn):
            def wrapper(*args, **kwargs):
                module.calls.append(fn.__name__)
                return fn(*args, **kwargs)
            return wrapper
        return decorate

    module.GPU = GPU
    monkeypatch.setitem(sys.modules, "spaces", module)
    return module


def test_gpu_is_a_no_op_without_the_zero_gpu_variable(fake_spaces, monkeypatch):
    monkeypatch.delenv("SPACES_ZERO_GPU", raising=False)
    assert gpu_module.gpu(60)(handler) is handler
    assert gpu_module.gpu(60)(streamer) is streamer and fake_spaces.durations == []


def test_gpu_is_a_no_op_without_the_spaces_package(monkeypatch):
    monkeypatch.setenv("SPACES_ZERO_GPU", "true")
    monkeypatch.setitem(sys.modules, "spaces", None)  # makes `import spaces` fail
    assert gpu_module.gpu(60)(streamer) is streamer


def test_gpu_uses_spaces_gpu_on_zero_gpu_and_keeps_generators(fake_spaces, monkeypatch):
    monkeypatch.setenv("SPACES_ZERO_GPU", "true")
    plain, stream = gpu_module.gpu(30)(handler), gpu_module.gpu(90)(streamer)
    assert fake_spaces.durations == [30, 90]
    assert (plain.__name__, plain.__doc__, plain(1)) == ("handler", "Doc.", 2)
    assert inspect.isgeneratorfunction(stream) and stream.__name__ == "streamer"
    assert list(stream(3)) == [0, 1, 2]
    assert fake_spaces.calls == ["handler", "streamer"]


def test_zero_gpu_spaces_get_training_runs_that_stop_before_the_gpu_is_taken(monkeypatch):
    import types

    from genlab import limits
    from genlab.ui import build_app, gpu as gpu_module
    fake = types.ModuleType("spaces")
    fake.GPU = lambda duration: (lambda fn: fn)
    monkeypatch.setitem(sys.modules, "spaces", fake)
    monkeypatch.setenv("SPACES_ZERO_GPU", "1")
    assert gpu_module.on_zero_gpu()
    assert limits.ZERO_GPU.max_call_seconds < gpu_module.TRAIN_GPU_SECONDS
    from genlab.ui.train_run import TrainContext
    captured = {}
    monkeypatch.setattr("genlab.ui.app.TrainContext",
                        lambda store, run_limits: captured.setdefault("ctx", TrainContext(store, run_limits)))
    build_app("cpu")
    assert captured["ctx"].limits == limits.ZERO_GPU
