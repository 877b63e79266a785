"""glibc's malloc serves every block over its mmap threshold (at most 32 MiB) with a fresh mmap and unmaps it on
free. A CPU training step allocates and frees the same large activations and LSTM workspaces every time, so every
step page-faults its working set in again: 144,000 minor faults and a tenth of the step in the kernel for
hierdec-mel_16bar at batch 64 (benchmarks/bench_train.py, "heap"). Serving large blocks from the heap and keeping
what is freed lets the next step reuse the same pages; training's shapes repeat, so the heap stops growing after
the first steps."""

import ctypes
import sys

M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4  # mallopt's parameters, from glibc's malloc.h
KEPT_BYTES = 2**31 - 1  # freed memory at the heap's top that glibc keeps rather than returns (mallopt's int)


def keep_freed_memory() -> bool:
    """Large blocks from the heap, freed memory kept for reuse; False where the C library is not glibc."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None)  # the C library this process already runs on
    if not hasattr(libc, "gnu_get_libc_version"):  # musl and others: their own allocators
        return False
    return bool(libc.mallopt(M_MMAP_MAX, 0)) and bool(libc.mallopt(M_TRIM_THRESHOLD, KEPT_BYTES))
