"""Keep the C allocator from handing each iteration fresh pages, for training on the CPU.

glibc's malloc serves a block above M_MMAP_THRESHOLD (128 KiB by default; raised on its own only
after a larger block is freed) with a new mmap, unmaps it on free, and gives the top of its heap
back to the kernel above M_TRIM_THRESHOLD. A training step allocates and frees the same activation
buffers every iteration, so each one came from new pages that the kernel zeroes a page fault at a
time, thousands of faults per iteration for a conv pair, and training ran markedly slower than with
the buffers reused (docs/performance.md has the speeds; tests/test_allocator.py bounds the faults). Fixing the thresholds at 32 / 64
MiB keeps freed blocks for reuse without raising peak memory (same place). Process-wide, so it is set once,
only on Linux with glibc, and `GANLAB_MALLOPT=0` leaves the allocator alone.
"""

from __future__ import annotations

import ctypes
import os
import sys

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3       # from glibc's <malloc.h>
MMAP_THRESHOLD = 32 << 20                           # glibc's largest allowed value on 64-bit
TRIM_THRESHOLD = 64 << 20
_in_force = False


def keep_freed_blocks() -> bool:
    """Set the thresholds (once per process); True if they are in force."""
    global _in_force
    if _in_force:
        return True
    if not sys.platform.startswith("linux") or os.environ.get("GANLAB_MALLOPT") == "0":
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt     # absent on musl and other C libraries
    except (OSError, AttributeError):
        return False
    _in_force = bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    return _in_force
