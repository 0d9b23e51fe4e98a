"""Keep a long-running server's memory flat: cap glibc's per-thread malloc arenas.

glibc gives each thread that allocates its own arena (up to 8 per core) and rarely returns their
freed pages; Gradio answers from a pool of worker threads, so memory climbs with the threads used
rather than with the work. The cap roughly halves that growth (README, "Design choices, measured";
benchmarks/load_test.py); MALLOC_ARENA_MAX=2 set before start also covers threads made during imports.
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
