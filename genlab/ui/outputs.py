"""Files the app writes for users to download (GIFs): server-named, in one folder, bounded in number."""

import tempfile
import uuid
from pathlib import Path
from typing import List

import numpy as np

from genlab import images


class OutputFiles:
    def __init__(self, keep: int = 100):
        self.folder = Path(tempfile.mkdtemp(prefix="genlab-outputs-"))
        self.keep = keep  # gradio copies what it serves into its own cache, so old files can go

    def gif(self, frames: List[np.ndarray], stem: str, bounce: bool = True) -> str:
        """Write an animated GIF named by us (`stem` must be ours, never user text) and return its path."""
        path = self.folder / f"{stem}-{uuid.uuid4().hex[:10]}.gif"
        path.write_bytes(images.gif_bytes(frames, bounce=bounce))
        for old in sorted(self.folder.glob("*.gif"), key=lambda p: p.stat().st_mtime)[:-self.keep]:
            old.unlink(missing_ok=True)
        return str(path)
