"""Messages users see, with the server's own folders taken out."""

import re
from pathlib import Path


def without_paths(message: str) -> str:
    """`message` with every absolute file path cut to its last part: users never see the server's folders."""
    return re.sub(r"(?<![\w.:/])(?:~|[A-Za-z]:)?[/\\][^\s:;,'\"()]+", lambda m: Path(m.group(0)).name or "/", message)
