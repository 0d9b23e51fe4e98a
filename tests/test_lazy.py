"""genlab.lazy: stand-ins that import their module on first use, once, even under racing threads."""

import copy
import sys
import threading

import pytest

from genlab import lazy

SLOW_MODULE = """
import time
with open({log!r}, "a") as log:
    log.write("imported\\n")
time.sleep(0.3)  # a slow import, like torch's: racing first uses must all wait for it
VALUE = 42
"""


@pytest.fixture
def slow_module(tmp_path, monkeypatch):
    name = f"genlab_test_slow_{tmp_path.name}"
    (tmp_path / f"{name}.py").write_text(SLOW_MODULE.format(log=str(tmp_path / "imports.log")))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(lazy, "_DEFERRED", [])  # keep the app's warm-up list free of test modules
    yield name
    sys.modules.pop(name, None)


def test_the_module_is_imported_on_first_attribute_read(slow_module):
    stand_in = lazy.lazy(slow_module)
    assert slow_module not in sys.modules
    assert "imported on first use" in repr(stand_in)
    assert stand_in.VALUE == 42
    assert slow_module in sys.modules and "loaded" in repr(stand_in)
    with pytest.raises(AttributeError):
        stand_in.missing


def test_racing_first_uses_all_see_the_complete_module(slow_module, tmp_path):
    stand_in = lazy.lazy(slow_module)
    seen, errors = [], []

    def first_use():
        try:
            seen.append(stand_in.VALUE)
        except Exception as err:  # a half-imported module would raise AttributeError here
            errors.append(err)

    threads = [threading.Thread(target=first_use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (errors, seen) == ([], [42] * 8)
    assert (tmp_path / "imports.log").read_text() == "imported\n"  # executed once


def test_a_copied_stand_in_forwards_like_the_original():
    # copies are made without __init__; the stand-in must not look for its own fields on the module
    assert copy.copy(lazy.lazy("json")).dumps([1]) == "[1]"


def test_load_deferred_imports_every_module_handed_to_lazy(slow_module):
    lazy.lazy(slow_module)
    lazy.lazy(slow_module)  # named twice, imported once
    modules = lazy.load_deferred()
    assert [m.__name__ for m in modules] == [slow_module] and modules[0].VALUE == 42
