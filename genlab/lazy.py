"""Modules imported on first use: how `python app.py` serves its page before torch has loaded.

`torch = lazy("torch")` binds a stand-in; the first attribute read imports the module and every
later read is forwarded to it. Building the app's page reads no such attribute (a test holds
that), so torch and the torch-heavy library modules load once the server is up (app.py's warm-up
calls `load_deferred`) or when a first request needs them, whichever comes first.

importlib.import_module takes the import system's per-module lock, so requests racing on a first
use all wait for the one complete module. (importlib.util.LazyLoader swaps the module object in
place instead, which is not thread-safe on every Python version genlab supports.)
Stand-ins are module globals, read-only: setting an attribute on one does not reach the module.
Modules that use a stand-in in annotations need `from __future__ import annotations`.
"""

import importlib
from types import ModuleType
from typing import Any, List

_DEFERRED: List[str] = []  # every module name given to lazy(), in order


class _Deferred:
    def __init__(self, name: str):
        self._name = name
        self._module = None

    def __getattr__(self, attr: str) -> Any:  # only called for names this stand-in does not have
        if attr in ("_name", "_module"):  # a copy made without __init__: no module to forward to
            raise AttributeError(attr)
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attr)

    def __repr__(self) -> str:
        return f"<module {self._name!r}, {'loaded' if self._module is not None else 'imported on first use'}>"


def lazy(name: str) -> Any:
    """A stand-in for module `name` that imports it on first attribute access."""
    _DEFERRED.append(name)
    return _Deferred(name)


def load_deferred() -> List[ModuleType]:
    """Import every module handed to lazy() so far (the app calls this once its server is up)."""
    return [importlib.import_module(name) for name in dict.fromkeys(_DEFERRED)]
