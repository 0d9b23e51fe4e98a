"""Keep a long-running server's memory flat: cap glibc's per-thread malloc arenas.

glibc gives each thread that allocates its own arena (up to 8 per core) and rarely returns their
freed pages; Gradio answers from a pool of worker threads, so memory climbs with the threads used
rather than with the work. Measured with benchmarks/load_test.py (32 users on every endpoint, 60 s,
2 cores): +174 MB over 141 requests with glibc's default, +81 MB over 139 with this cap (+53 MB over
148 with MALLOC_ARENA_MAX=2 set before start, which also covers threads made during imports).
"""

import ctypes
import ctypes.util
import sys

M_ARENA_MAX = -8  # mallopt parameter number, from glibc's malloc.h


def cap_malloc_arenas(arenas: int = 2) -> bool:
    """Ask glibc for at most `arenas` malloc arenas from now on; False where there is no glibc (macOS,
    Windows, musl), which is harmless. Call it before the server starts its threads."""
    if not sys.platform.startswith("linux"):
        return False
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        return bool(libc.mallopt(M_ARENA_MAX, arenas))
    except (OSError, AttributeError):  # no libc to load, or one without mallopt (musl)
        return False
