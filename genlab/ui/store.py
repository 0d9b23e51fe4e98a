"""Shipped models, loaded once on first use and shared by every tab of one app."""

import threading
from typing import Dict

from torch import nn

from genlab import devices, weights
from genlab.models import get_family


class ModelStore:
    def __init__(self, device: str = ""):
        self.device = devices.resolve(device)
        self._models: Dict[str, nn.Module] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> nn.Module:
        """The shipped model of family `name` on this store's device (eval mode)."""
        with self._lock:
            if name not in self._models:
                self._models[name] = weights.load(get_family(name), device=self.device)
            return self._models[name]

    @property
    def concurrency_limit(self) -> int:
        """How many model calls may run at once: one on CPU (torch already uses every core)."""
        return 1 if self.device.type == "cpu" else 4
