"""Issue 15, "uploads stall the site": what each attack costs, measured on this machine (Linux: peak memory is
read from /proc/self/status after resetting the high-water mark). Run before and after a change and compare:

    .venv/bin/python scripts/measure_upload_stalls.py [case ...]

Cases: bomb (a 190 KB PNG of 7000×7000 RGBA), photo (the largest photo accepted, 40 megapixels), parallel (eight
25-megapixel images saved at once), pdf (an 11 MB PDF of 300,000 objects whose xref must be rebuilt), objstm (a 1 MB
PDF whose pages sit in padded object streams; its memory is the helper process's, not shown), pages (a PDF of
100,000 pages), write-images / write-pdfs (SQLite: how long another user's /cart/add waits when posted while a
form's uploads are checked), slow-clients (the Procfile's gunicorn, two uploads trickled a byte at a time: how long
a GET takes). Each runs in a process of its own.
The hostile files come from tests/test_upload_stalls.py, the world from tests/conftest.py."""
import io
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from werkzeug.datastructures import FileStorage  # noqa: E402

from marketplace import create_app, uploads  # noqa: E402
from marketplace.extensions import db  # noqa: E402
from tests.conftest import TEST_CONFIG, CsrfClient, Factory, migrate  # noqa: E402
from tests.test_hostile_forms import signed_in_client  # noqa: E402
from tests.test_hostile_uploads import claim_materials  # noqa: E402
from tests.test_upload_stalls import (  # noqa: E402
    TrickledUpload,
    free_port,
    get,
    pdf_of_many_objects,
    pdf_of_padded_object_streams,
    png_of_one_colour,
    post_multipart,
    procfile_web_command,
    slow_images,
)


def peak_rss_mb(work) -> float:
    """How far this process's resident memory rose above where it stood while `work()` ran."""
    Path("/proc/self/clear_refs").write_text("5")  # resets the high-water mark
    before = _status_mb("VmRSS")
    work()
    return _status_mb("VmHWM") - before


def _status_mb(field: str) -> float:
    return int(re.search(rf"{field}:\s+(\d+) kB", Path("/proc/self/status").read_text()).group(1)) / 1024


def save(data: bytes, name: str, **options) -> str:
    try:
        stored = uploads.save(FileStorage(io.BytesIO(data), filename=name), accept=(uploads.PDF, uploads.IMAGE),
                              **options)
        return f"stored {stored.width}×{stored.height}" if stored.width else "stored"
    except uploads.UploadError as error:
        return f"refused: {error.message}"
    finally:
        db.session.rollback()


def timed(label: str, work) -> None:
    outcome = {}
    started = time.perf_counter()
    peak = peak_rss_mb(lambda: outcome.setdefault("answer", work()))
    print(f"{label}: {time.perf_counter() - started:.2f} s, peak +{peak:.0f} MB, {outcome['answer']}")


def bomb(_app) -> None:
    data = png_of_one_colour(7000, 7000, channels=4)
    timed(f"bomb ({len(data) // 1000} KB PNG, 7000×7000 RGBA)", lambda: save(data, "bomb.png"))


def photo(_app) -> None:
    timed("photo (7300×5470 RGB, 40 Mpx)", lambda: save(png_of_one_colour(7300, 5470), "发票.png"))


def parallel(app) -> None:
    data = png_of_one_colour(5000, 5000)
    answers = []

    def one():
        with app.app_context():
            answers.append(save(data, "仪器.png", square=True))

    def eight():
        threads = [threading.Thread(target=one) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return ", ".join(sorted(set(answers)))
    timed("parallel (8 × 5000×5000 RGB at once)", eight)


def pdf(_app) -> None:
    data = pdf_of_many_objects(pages=1, fillers=300_000, xref=False)
    timed(f"pdf ({len(data) / 2**20:.1f} MB, no xref, 300,000 objects)", lambda: save(data, "发票.pdf"))


def objstm(_app) -> None:
    data = pdf_of_padded_object_streams(pages=100)
    timed(f"objstm ({len(data) / 2**20:.1f} MB, 100 pages in padded object streams)", lambda: save(data, "发票.pdf"))


def pages(_app) -> None:
    data = pdf_of_many_objects(pages=100_000)
    timed(f"pages ({len(data) / 2**20:.1f} MB, 100,000 pages)", lambda: save(data, "报告.pdf"))


def write_wait(app, uploading, label: str, during: int) -> None:
    """Seconds another user's /cart/add takes, posted while the `during`-th file of `uploading`'s form is checked
    (the one before it stored, so on the old code its row was flushed and the write lock held)."""
    setup, files = uploading(MAKE)
    buyer, service = MAKE.enterprise(), MAKE.service(MAKE.provider().provider)
    uploader, shopper = signed_in_client(app, setup.user), signed_in_client(app, buyer)
    db.session.commit()
    times = {}

    def upload():
        started = time.perf_counter()
        status = post_multipart(uploader, setup.url, {**setup.data, **files})
        times["upload"] = (time.perf_counter() - started, status.status_code)
    thread = threading.Thread(target=upload)
    thread.start()
    receiving, seen = Path(app.config["UPLOAD_FOLDER"]) / "tmp", set()
    while len(seen) < during and thread.is_alive():
        seen |= set(receiving.glob("*.part"))
        time.sleep(0.005)
    started = time.perf_counter()
    status = shopper.post("/cart/add", data={"service_id": service.id, "quantity": "1"}).status_code
    waited = time.perf_counter() - started
    thread.join()
    print(f"{label}: /cart/add answered {status} after {waited:.2f} s; the upload took {times['upload'][0]:.2f} s "
          f"({times['upload'][1]})")


def write_images(app) -> None:
    write_wait(app, lambda make: slow_images(make, count=6, side=6000),
               "write-images (service form, 6 × 6000×6000 RGB)", during=3)


def write_pdfs(app) -> None:
    def two_pdfs(make):
        crafted = pdf_of_many_objects(pages=1, fillers=300_000, xref=False)
        return claim_materials(make), {"files": [FileStorage(io.BytesIO(crafted), f"报告{n}.pdf") for n in range(2)]}
    write_wait(app, two_pdfs, "write-pdfs (claim materials, 2 crafted 11 MB PDFs)", during=2)


def slow_clients(app) -> None:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": app.config["DATABASE_URL"], "UPLOAD_FOLDER": app.config["UPLOAD_FOLDER"],
           "SECRET_KEY": "measure-only", "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    env.pop("WEB_CONCURRENCY", None)
    server = subprocess.Popen(procfile_web_command(port), cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                get(port, "/healthz", timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        slow = [TrickledUpload(port) for _ in range(2)]
        time.sleep(1)
        started = time.perf_counter()
        try:
            answer = get(port, "/healthz", timeout=40).split(b"\r\n", 1)[0].decode()
        except OSError as error:
            answer = f"no answer ({error})"
        print(f"slow-clients (2 trickled uploads): GET /healthz took {time.perf_counter() - started:.2f} s: {answer}")
        for upload in slow:
            upload.close()
    finally:
        server.terminate()
        server.wait(timeout=30)


MAKE = Factory()  # one for every case: its serial keeps e-mail addresses unique
CASES = {"bomb": bomb, "photo": photo, "parallel": parallel, "pdf": pdf, "objstm": objstm, "pages": pages,
         "write-images": write_images, "write-pdfs": write_pdfs, "slow-clients": slow_clients}


def main(names: list[str]) -> None:
    """Each case in a fresh process: memory one case freed may stay with the process and hide the next one's."""
    if len(names) != 1:
        for name in names or CASES:
            subprocess.run([sys.executable, __file__, name], check=True)
        return
    with tempfile.TemporaryDirectory() as workdir:
        url = f"sqlite:///{workdir}/measure.db"
        migrate(url)
        app = create_app({**TEST_CONFIG, "DATABASE_URL": url, "UPLOAD_FOLDER": f"{workdir}/uploads"})
        app.test_client_class = CsrfClient
        with app.app_context():
            CASES[names[0]](app)
            db.session.remove()


if __name__ == "__main__":
    main(sys.argv[1:])
