"""PDFs are read by pypdf in helper processes, so a crafted file costs at most PROBE_SECONDS and PROBE_MEMORY.

pypdf is a parser in pure Python, and hostile files find its slow paths: a PDF without an xref table makes it parse
every object (11 MB of tiny objects: 7 s), a page tree of 100,000 pages took 13 s, and a 1 MB file whose pages sit
in object streams padded with blanks took 116 s and 1 GB. No limit inside one process covers every such path, and a
thread cannot be stopped, so each web process keeps PROBES helper processes (started when first needed, so after
gunicorn forks), each a fresh interpreter that imports nothing of the app and cannot grow past PROBE_MEMORY. One
that has not answered within PROBE_SECONDS is killed and replaced. The pool also bounds how many PDFs are read at
a time: a request waits for a free helper.

    read(path, max_pages)  ->  {"pages": 3} | {"encrypted": True} | {"refused": "invalid" | "too_large"}

The helper (`python -I pdf_probe.py MAX_PAGES`) reads file paths, one a line, and answers each with one JSON line."""
import atexit
import json
import os
import queue
import resource
import select
import subprocess
import sys
import threading
from pathlib import Path

PROBES = 2  # helper processes per web process: at most this many PDFs are read at a time
PROBE_SECONDS = 5  # a good 50 MB PDF takes well under one
PROBE_MEMORY = 512 * 1024 * 1024  # address space of a helper
TOO_LARGE = {"refused": "too_large"}
INVALID = {"refused": "invalid"}

_pools: dict[int, queue.Queue] = {}
_pools_lock = threading.Lock()


def read(path: Path, max_pages: int) -> dict:
    """What the PDF at `path` is, read by a helper; TOO_LARGE when it needs more time or memory than a helper has.
    pypdf also stops walking the page tree after about 2 × max_pages entries."""
    pool = _pool()
    helper = pool.get()
    try:
        if helper is None or helper.poll() is not None:
            helper = _start(max_pages)
        answer = _ask(helper, path)
        if answer is None:
            _stop(helper, kill=True)
            helper = None
        return answer or TOO_LARGE
    finally:
        pool.put(helper)


def _pool() -> queue.Queue:
    """This process's helpers (a forked worker starts its own: its parent's pipes are not its to use)."""
    with _pools_lock:
        pool = _pools.get(os.getpid())
        if pool is None:
            pool = _pools[os.getpid()] = queue.Queue()
            for _ in range(PROBES):
                pool.put(None)
    return pool


def _start(max_pages: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-I", __file__, str(max_pages)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)


def _ask(helper: subprocess.Popen, path: Path) -> dict | None:
    """The helper's answer, or None when it died or did not answer in time."""
    try:
        helper.stdin.write(os.fsencode(path) + b"\n")
        helper.stdin.flush()
    except OSError:
        return None
    ready, _, _ = select.select([helper.stdout], [], [], PROBE_SECONDS)
    line = helper.stdout.readline() if ready else b""
    return json.loads(line) if line else None


def _stop(helper: subprocess.Popen, kill: bool = False) -> None:
    if kill:
        helper.kill()
    helper.stdin.close()
    helper.stdout.close()
    helper.wait()


@atexit.register
def _stop_helpers() -> None:
    pool = _pools.get(os.getpid())
    while pool is not None and not pool.empty():
        helper = pool.get_nowait()
        if helper is not None:
            _stop(helper)


# ---- the helper process ----------------------------------------------------------------------------------------

def serve(max_pages: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (PROBE_MEMORY, PROBE_MEMORY))
    for line in sys.stdin.buffer:
        answer = facts(Path(os.fsdecode(line.rstrip(b"\n"))), max_pages)
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


def facts(path: Path, max_pages: int) -> dict:
    from pypdf import PdfReader, apply_configuration
    from pypdf.errors import LimitReachedError

    try:
        with path.open("rb") as f, apply_configuration(page_tree_maximum_entries=2 * max_pages):
            reader = PdfReader(f)  # a file object: given a path, pypdf would read the whole file into memory
            if reader.is_encrypted:
                return {"encrypted": True}
            return {"pages": len(reader.pages)}
    except (LimitReachedError, MemoryError):
        return TOO_LARGE
    except Exception:  # pypdf fails on hostile input in many ways; each one means "not a usable PDF"
        return INVALID


if __name__ == "__main__":
    serve(int(sys.argv[1]))
