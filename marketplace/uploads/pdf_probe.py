"""PDFs are read by pypdf in helper processes, so a crafted file costs at most PROBE_SECONDS and PROBE_MEMORY.

pypdf is a parser in pure Python, and hostile files find its slow paths: a PDF without an xref table makes it parse
every object (11 MB of tiny objects: 7 s), a page tree of 100,000 pages took 13 s, and a 1 MB file whose pages sit
in object streams padded with blanks took 116 s and 1 GB. No limit inside one process covers every such path, and a
thread cannot be stopped, so each web process keeps PROBES helper processes (started when first needed, so after
gunicorn forks), each a fresh interpreter that imports nothing of the app and cannot grow past PROBE_MEMORY. One
that has not answered within PROBE_SECONDS of being asked is killed and replaced, and one left reading when its
parent died stops after CPU_SECONDS. The pool also bounds how many PDFs are read at a time: a request waits for a
free helper, for at most `wait` seconds (NoHelperFree: the caller answers 503).

    read(path, max_pages, wait)  ->  {"pages": 3} | {"encrypted": True} | {"refused": "invalid" | "too_large"}

The helper (`python -I pdf_probe.py MAX_PAGES`: no user site, no PYTHON* variables, not the app's folder) takes the
parent's sys.path from PATH_VARIABLE, imports pypdf and answers READY (or {"error": why}: HelperFailed, logged,
rather than every PDF refused as too large), then reads file paths, one a line, and answers each with one JSON
line. Anything else it writes (a broken pipe, a garbled or endless line) counts as no answer: it is killed."""
import atexit
import contextlib
import importlib
import json
import logging
import os
import queue
import resource
import selectors
import subprocess
import sys
import threading
import time
from pathlib import Path

PROBES = 2  # helper processes per web process: at most this many PDFs are read at a time
PROBE_SECONDS = 5  # a good 50 MB PDF takes well under one
PROBE_MEMORY = 512 * 1024 * 1024  # address space of a helper
CPU_SECONDS = 2 * PROBE_SECONDS  # CPU time a helper may spend on one file (SIGXCPU ends it)
START_SECONDS = 30  # for a new helper to import pypdf (a loaded machine takes a while)
LONGEST_ANSWER = 64 * 1024
PATH_VARIABLE = "PDF_PROBE_SYS_PATH"
TOO_LARGE = {"refused": "too_large"}
INVALID = {"refused": "invalid"}
READY = {"ready": True}

log = logging.getLogger(__name__)

_pools: dict[int, queue.Queue] = {}
_pools_lock = threading.Lock()


class NoHelperFree(TimeoutError):
    """Every helper stayed busy for the whole wait."""


class HelperFailed(RuntimeError):
    """A helper did not start (pypdf missing from its path?): a fault of the deployment, not of the PDF."""


def read(path: Path, max_pages: int, wait: float) -> dict:
    """What the PDF at `path` is, read by a helper; TOO_LARGE when it needs more time or memory than a helper has.
    pypdf also stops walking the page tree after about 2 × max_pages entries. Raises NoHelperFree after `wait`
    seconds without a free helper, HelperFailed when a new one does not start."""
    pool = _pool()
    try:
        helper = pool.get(timeout=wait)
    except queue.Empty:
        raise NoHelperFree(f"no PDF helper came free in {wait} s") from None
    try:
        if helper is not None and helper.poll() is not None:
            _stop(helper)
            helper = None
        if helper is None:
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
    return _launch([sys.executable, "-I", __file__, str(max_pages)])


def _launch(command: list[str]) -> subprocess.Popen:
    """A helper that said it is ready; HelperFailed (logged with the helper's reason) when it did not."""
    helper = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              bufsize=0, env={**os.environ, PATH_VARIABLE: os.pathsep.join(sys.path)})
    answer = _answer(helper, START_SECONDS)
    if answer != READY:
        _stop(helper, kill=True)
        log.error("the PDF helper %s did not start: %s", command, answer)
        raise HelperFailed(f"the PDF helper did not start: {answer}")
    return helper


def _ask(helper: subprocess.Popen, path: Path) -> dict | None:
    """The helper's answer, or None when it died or did not answer in time."""
    try:
        helper.stdin.write(os.fsencode(path) + b"\n")  # unbuffered: a path is one atomic write to the pipe
    except (OSError, ValueError):
        return None
    return _answer(helper, PROBE_SECONDS)


def _answer(helper: subprocess.Popen, seconds: float) -> dict | None:
    """The helper's next line as a JSON object, or None when it did not write one within `seconds` (selectors,
    unlike select.select, take the high descriptors of a busy process)."""
    deadline, line = time.monotonic() + seconds, b""
    with selectors.DefaultSelector() as selector:
        selector.register(helper.stdout, selectors.EVENT_READ)
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or len(line) > LONGEST_ANSWER or not selector.select(left):
                return None
            chunk = os.read(helper.stdout.fileno(), LONGEST_ANSWER)
            if not chunk:
                return None
            line += chunk
    try:
        answer = json.loads(line)
    except ValueError:
        return None
    return answer if isinstance(answer, dict) else None


def _stop(helper: subprocess.Popen, kill: bool = False) -> None:
    """End `helper`; its pipes may already be broken (it died), which is no error here."""
    if kill:
        helper.kill()
    for pipe in (helper.stdin, helper.stdout):
        with contextlib.suppress(OSError):
            pipe.close()
    try:
        helper.wait(timeout=PROBE_SECONDS)
    except subprocess.TimeoutExpired:
        helper.kill()
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
    sys.path.extend(p for p in os.environ.get(PATH_VARIABLE, "").split(os.pathsep) if p and p not in sys.path)
    try:
        importlib.import_module("pypdf")  # now, so a helper that cannot read PDFs says so (not: each is too large)
    except Exception as error:
        _say({"error": f"{type(error).__name__}: {error}"})
        return
    resource.setrlimit(resource.RLIMIT_AS, (PROBE_MEMORY, PROBE_MEMORY))
    _say(READY)
    for line in sys.stdin.buffer:
        _limit_cpu()
        _say(facts(Path(os.fsdecode(line.rstrip(b"\n"))), max_pages))


def _say(answer: dict) -> None:
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()


def _limit_cpu() -> None:
    """CPU_SECONDS more for the next file: a parent kills a helper that is late, but one whose parent died would
    otherwise read a hostile file for ever."""
    used = resource.getrusage(resource.RUSAGE_SELF)
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = int(used.ru_utime + used.ru_stime) + CPU_SECONDS
    resource.setrlimit(resource.RLIMIT_CPU, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard))


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
