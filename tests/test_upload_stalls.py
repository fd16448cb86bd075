"""Uploads can't stall the site (issue 15): an image is refused from its header when decoding it would cost more
memory than a photo of an invoice needs, at most two images are decoded at a time per process, a PDF is read by a
helper process only as far as 500 pages and only for a few seconds, uploads are checked before the request takes
SQLite's write lock (so another user's write is not kept waiting), and the Procfile's gunicorn keeps answering
while clients trickle their uploads in. scripts/measure_upload_stalls.py prints what each attack costs."""
import io
import math
import os
import resource
import socket
import struct
import subprocess
import sys
import threading
import time
import zlib
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import has_request_context
from PIL import Image
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import stream_encode_multipart

from marketplace import uploads
from marketplace.config import ROOT
from marketplace.extensions import db
from marketplace.models import StoredFile
from marketplace.uploads import content, early, pdf_probe, storage

from .conftest import Auth, run_at_once
from .hostile import service_form
from .samples import pdf_bytes, png_bytes
from .test_crash_safety import free_port
from .test_hostile_forms import signed_in_client
from .test_hostile_uploads import claim_materials

MB = 1024 * 1024
PDF_TOO_LARGE = "PDF文件过大或过于复杂"
EXAMINE_WAIT = 20  # seconds an examining held back by a test waits at most
READY_SECONDS = 30


# --- hostile files, made here ------------------------------------------------------------------------------------

def png_of_one_colour(width: int, height: int, channels: int = 3) -> bytes:
    """A valid 8-bit PNG (grey, RGB or RGBA) of one colour: a few hundred KB on the wire however large it decodes
    (7000×7000 RGBA is 190 KB and 196 MB of pixels)."""
    colour_type = {1: 0, 3: 2, 4: 6}[channels]

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    compressor = zlib.compressobj(9)
    row = bytes(1 + width * channels)
    pixels = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def pdf_of_many_objects(pages: int, fillers: int = 0, xref: bool = True) -> bytes:
    """A valid PDF of `pages` blank pages (in /Pages nodes of up to 1000 kids) and `fillers` tiny objects nothing
    refers to. Without its xref table a reader must find and parse every object to rebuild it: 15 MB of them cost
    pypdf several seconds."""
    parts, offsets, size = [b"%PDF-1.7\n"], {}, [9]

    def add(number: int, body: bytes) -> None:
        offsets[number] = size[0]
        parts.append(b"%d 0 obj\n%s\nendobj\n" % (number, body))
        size[0] += len(parts[-1])
    groups = range((pages + 999) // 1000)
    first_page = 3 + len(groups)
    add(1, b"<</Type/Catalog/Pages 2 0 R>>")
    add(2, b"<</Type/Pages/Count %d/Kids[%s]>>" % (pages, b" ".join(b"%d 0 R" % (3 + g) for g in groups)))
    for g in groups:
        kids = range(first_page + g * 1000, first_page + min(pages, (g + 1) * 1000))
        add(3 + g, b"<</Type/Pages/Parent 2 0 R/Count %d/Kids[%s]>>" % (len(kids), b" ".join(b"%d 0 R" % k
                                                                                                for k in kids)))
    for n in range(pages):
        add(first_page + n, b"<</Type/Page/Parent %d 0 R/MediaBox[0 0 595 842]>>" % (3 + n // 1000))
    for n in range(fillers):
        add(first_page + pages + n, b"<</Filler %d>>" % n)
    start, count = size[0], len(offsets) + 1
    if xref:
        parts.append(b"xref\n0 %d\n0000000000 65535 f \n" % count)
        parts.extend(b"%010d 00000 n \n" % offsets[n] for n in range(1, count))
    parts.append(b"trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (count, start))
    return b"".join(parts)


def pdf_of_padded_object_streams(pages: int, padding: int = 10 * MB) -> bytes:
    """A 1 MB PDF (at 100 pages) whose every page sits in an object stream of its own, padded with `padding` blanks
    after it: pypdf steps over each blank in Python, 116 s and 1 GB of memory for the page count."""
    parts, offsets, size = [b"%PDF-1.7\n"], {}, [9]

    def add(number: int, body: bytes) -> None:
        offsets[number] = size[0]
        parts.append(b"%d 0 obj\n%s\nendobj\n" % (number, body))
        size[0] += len(parts[-1])
    first_page = 3 + pages  # page n is compressed in object stream 3 + n
    add(1, b"<</Type/Catalog/Pages 2 0 R>>")
    add(2, b"<</Type/Pages/Count %d/Kids[%s]>>" % (pages, b" ".join(b"%d 0 R" % (first_page + n)
                                                                      for n in range(pages))))
    for n in range(pages):
        header = b"%d 0 " % (first_page + n)
        packed = zlib.compress(header + b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>" + b" " * padding, 9)
        add(3 + n, b"<</Type/ObjStm/N 1/First %d/Length %d/Filter/FlateDecode>>stream\n%s\nendstream"
            % (len(header), len(packed), packed))
    xref_number = first_page + pages
    rows = [struct.pack(">BIH", 1, offsets[n], 0) if n in offsets else
            struct.pack(">BIH", 2, n - pages, 0) if first_page <= n < xref_number else bytes(7)
            for n in range(xref_number + 1)]
    offsets[xref_number] = start = size[0]
    table = zlib.compress(b"".join(rows))
    parts.append(b"%d 0 obj\n<</Type/XRef/Size %d/W[1 4 2]/Root 1 0 R/Length %d/Filter/FlateDecode>>stream\n%s"
                 b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % (xref_number, xref_number + 1, len(table),
                                                                      table, start))
    return b"".join(parts)


def refusal(data: bytes, name: str, accept=(uploads.PDF, uploads.IMAGE)) -> str:
    with pytest.raises(uploads.UploadError) as refused:
        uploads.save(uploads_file(data, name), accept=accept)
    return refused.value.message


def uploads_file(data: bytes, name: str) -> FileStorage:
    return FileStorage(io.BytesIO(data), filename=name)


def stored_files() -> int:
    db.session.commit()  # end this session's snapshot: the requests' and threads' commits are seen
    return db.session.scalar(select(func.count(StoredFile.id)))


def most_image_memory_held(work) -> int:
    """The most blocks of image memory Pillow held at once while `work()` ran (glibc keeps memory a thread freed, so
    the process's peak would count each thread's past images too)."""
    def held() -> int:
        stats = Image.core.get_stats()
        return stats["allocated_blocks"] - stats["freed_blocks"]
    before, most, done = held(), [0], threading.Event()

    def watch():
        while not done.is_set():
            most[0] = max(most[0], held() - before)
            time.sleep(0.0005)
    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        work()
    finally:
        done.set()
        watcher.join()
    return most[0]


# --- decoded memory is capped before decoding ----------------------------------------------------------------------

def test_a_190kb_png_of_7000_by_7000_rgba_pixels_is_refused_before_it_is_decoded(app):
    bomb = png_of_one_colour(7000, 7000, channels=4)
    assert len(bomb) < 200_000
    started = time.monotonic()
    assert refusal(bomb, "bomb.png").startswith("图片像素过大")
    assert time.monotonic() - started < 1  # decoding it took 4.5 s and 550 MB here (735 MB in the issue)


def test_an_image_with_alpha_is_refused_by_its_decoded_bytes_below_the_pixel_limit(app):
    """6000×6000 is 36 megapixels, under the limit, but 144 MB as RGBA and as much again premultiplied for scaling
    (it peaked at 470 MB when only the first copy was counted, at 4 bytes a pixel for RGB as well)."""
    message = refusal(png_of_one_colour(6000, 6000, channels=4), "透明.png")
    assert message == "图片像素过大（超过2000万像素），请缩小后再上传"


def png_with_a_palette(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("P", (width, height), 0).save(out, "PNG")
    return out.getvalue()


def test_an_image_with_a_palette_is_refused_by_its_converted_copy_below_the_pixel_limit(app):
    """A palette image is converted to RGB at full size before scaling: 36 megapixels would take 180 MB."""
    assert refusal(png_with_a_palette(6000, 6000), "调色板.png") == "图片像素过大（超过3200万像素），请缩小后再上传"


SCALING_BYTES = 4 * content.MAX_SIDE * (math.isqrt(content.MAX_PIXELS) + content.MAX_SIDE)  # see content.py


@pytest.mark.parametrize("largest", [lambda: png_of_one_colour(7300, 5470), lambda: png_of_one_colour(5470, 3650, 4),
                                     lambda: png_with_a_palette(6500, 4900)], ids=["colour", "alpha", "palette"])
def test_the_largest_image_of_each_kind_accepted_stays_within_the_stated_memory(app, largest):
    photo = largest()
    held = most_image_memory_held(lambda: uploads.save(uploads_file(photo, "最大.png"), accept=(uploads.IMAGE,)))
    assert held * Image.core.get_block_size() <= content.MAX_DECODED_BYTES + SCALING_BYTES


def test_a_40_megapixel_photo_of_an_invoice_is_accepted(app):
    stored = uploads.save(uploads_file(png_of_one_colour(7300, 5470), "发票.png"), accept=(uploads.IMAGE,))
    assert (stored.width, stored.height) == (content.MAX_SIDE, round(5470 * content.MAX_SIDE / 7300))


def test_six_parallel_uploads_of_large_images_hold_at_most_two_decoded_at_a_time(app):
    photo = png_of_one_colour(3000, 2000)  # 6 megapixels: 24 MB decoded

    def save_one():
        uploads.save(uploads_file(photo, "仪器.png"), accept=(uploads.IMAGE,), square=True)
        db.session.commit()
    one = most_image_memory_held(save_one)
    failures = []
    six = most_image_memory_held(lambda: failures.extend(run_at_once(app, save_one, 6)))
    assert failures == [] and stored_files() == 7
    assert one > 0 and six <= content.DECODES_AT_ONCE * one, f"one upload {one} blocks, six at once {six}"


# --- a PDF is read only so far ---------------------------------------------------------------------------------------

def test_a_pdf_of_more_than_500_pages_is_refused_without_reading_every_page(app):
    started = time.monotonic()
    assert refusal(pdf_of_many_objects(pages=100_000), "报告.pdf").startswith(PDF_TOO_LARGE)
    assert time.monotonic() - started < pdf_probe.PROBE_SECONDS + 3  # counting its pages took 13 s


def test_a_pdf_of_500_pages_is_accepted(app):
    assert uploads.save(uploads_file(pdf_of_many_objects(pages=500), "报告.pdf"), accept=(uploads.PDF,))


def test_a_pdf_that_keeps_pypdf_busy_is_refused_once_its_reading_time_is_up(app):
    crafted = pdf_of_padded_object_streams(pages=100)
    assert len(crafted) < 1.1 * MB
    started = time.monotonic()
    assert refusal(crafted, "发票.pdf").startswith(PDF_TOO_LARGE)
    assert time.monotonic() - started < pdf_probe.PROBE_SECONDS + 5  # counting its pages took 116 s and 1 GB


def test_the_pdf_reader_is_ready_again_after_a_refusal(app):
    assert refusal(pdf_of_padded_object_streams(pages=20), "发票.pdf").startswith(PDF_TOO_LARGE)
    assert uploads.save(uploads_file(pdf_of_many_objects(pages=3), "发票.pdf"), accept=(uploads.PDF,))


# --- uploads are checked before the request takes SQLite's write lock ------------------------------------------------

def slow_images(make, count: int = 3, side: int = 5000):
    images = [uploads_file(png_of_one_colour(side, side), f"仪器{n}.png") for n in range(count)]
    return service_form(make), {"display_image": images[:1], "images": images[1:]}


def service_images(make):
    images = [uploads_file(png_bytes(), f"仪器{n}.png") for n in range(3)]
    return service_form(make), {"display_image": images[:1], "images": images[1:]}


def claim_pdfs(make):
    return claim_materials(make), {"files": [a_pdf(f"报告{n}.pdf") for n in range(4)]}


def post_multipart(client, url: str, fields: dict, **kwargs):
    """Posted as a browser does; encoded here, as the test client leaves its temporary body file open."""
    body, length, boundary = stream_encode_multipart(fields)
    with body:
        return client.post(url, input_stream=body, content_length=length,
                           content_type=f'multipart/form-data; boundary="{boundary}"', **kwargs)


@pytest.mark.parametrize("uploading", [service_images, claim_pdfs], ids=["service-images", "claim-pdfs"])
def test_another_users_write_is_not_kept_waiting_while_uploads_are_checked(app, make, monkeypatch, uploading):
    """A service form's three images or a claim's four PDFs (six large images kept another user's /cart/add waiting
    17 s): the last one's examining waits until that /cart/add, posted meanwhile, has answered. So the order is
    certain, not a matter of how long checking takes: had examining held the write lock, the /cart/add would wait
    for it, the examining would give up waiting after EXAMINE_WAIT seconds, and the upload would finish first."""
    setup, files = uploading(make)
    uploaded = sum(len(parts) for parts in files.values())
    buyer, service = make.enterprise(), make.service(make.provider().provider)
    uploader, shopper = signed_in_client(app, setup.user), signed_in_client(app, buyer)
    stored_before, finished = stored_files(), {}
    checking_the_last, written, examined, real = threading.Event(), threading.Event(), [], storage.examine

    def examine_the_last_after_the_write(raw):
        examined.append(raw)
        if len(examined) == uploaded:
            checking_the_last.set()
            written.wait(EXAMINE_WAIT)
        return real(raw)
    monkeypatch.setattr(storage, "examine", examine_the_last_after_the_write)

    def upload():
        response = post_multipart(uploader, setup.url, {**setup.data, **files})
        finished["upload"] = (time.monotonic(), response.status_code)
    thread = threading.Thread(target=upload)
    thread.start()
    assert checking_the_last.wait(60), "the last upload was not examined"
    added = shopper.post("/cart/add", data={"service_id": service.id, "quantity": "1"})
    finished["write"] = time.monotonic()
    written.set()
    thread.join()
    assert added.status_code == 303 and finished["upload"][1] in (200, 303)
    assert stored_files() == stored_before + uploaded
    assert finished["write"] < finished["upload"][0], "the write waited for the upload to be checked"


# --- slow clients --------------------------------------------------------------------------------------------------

def procfile_web_command(port: int) -> list[str]:
    """The Procfile's web command, on a loopback port."""
    line = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:"))
    return ["sh", "-c", f"exec {line.removeprefix('web:').strip()} --bind 127.0.0.1:{port}"]


@pytest.fixture
def procfile_server(app, database_url, tmp_path):
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "UPLOAD_FOLDER": app.config["UPLOAD_FOLDER"],
           "SECRET_KEY": "stall-test-secret", "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    env.pop("APP_ENV", None)
    env.pop("WEB_CONCURRENCY", None)
    with (tmp_path / "gunicorn.log").open("w") as log:
        server = subprocess.Popen(procfile_web_command(port), cwd=ROOT, env=env, stdout=log,
                                  stderr=subprocess.STDOUT)
        try:
            wait_ready(server, port)
            yield port
        finally:
            server.terminate()
            server.wait(timeout=30)


def wait_ready(server: subprocess.Popen, port: int) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        assert server.poll() is None, "gunicorn exited; see its log"
        try:
            get(port, "/healthz", timeout=1)
            return
        except OSError:
            time.sleep(0.1)
    pytest.fail("the server did not come up")


def get(port: int, path: str, timeout: float) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
        connection.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode())
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


class TrickledUpload:
    """A 1 MB multipart upload whose headers arrive at once and whose body then comes a byte at a time."""

    def __init__(self, port: int):
        self.socket = socket.create_connection(("127.0.0.1", port))
        self.stopped = threading.Event()
        head = (f"POST /auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Length: {MB}\r\n"
                "Content-Type: multipart/form-data; boundary=x\r\n\r\n--x\r\n")
        self.socket.sendall(head.encode())
        self.thread = threading.Thread(target=self.trickle)
        self.thread.start()

    def trickle(self) -> None:
        while not self.stopped.wait(0.2):
            try:
                self.socket.sendall(b"a")
            except OSError:
                return

    def close(self) -> None:
        self.stopped.set()
        self.thread.join()
        self.socket.close()


def test_two_trickled_uploads_do_not_keep_a_page_from_answering(procfile_server):
    """With the Procfile's old 2 sync workers both were taken and the page waited for the upload (30 s)."""
    slow = [TrickledUpload(procfile_server) for _ in range(2)]
    try:
        time.sleep(1)  # both uploads are in the app, reading their bodies
        started = time.monotonic()
        answer = get(procfile_server, "/healthz", timeout=5)
        assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
        assert time.monotonic() - started < 5
    finally:
        for upload in slow:
            upload.close()


# --- only a signed-in user's files sent to a real route are examined, and all of them before the transaction --------

@pytest.fixture
def examined(monkeypatch) -> list[bool]:
    """For each upload a request examined, whether its database transaction had begun by then (on SQLite: whether
    the request held the write lock). The real examine() runs; this only watches it."""
    seen, real = [], storage.examine

    def watched(raw):
        if has_request_context():
            seen.append(db.session().in_transaction())
        return real(raw)
    monkeypatch.setattr(storage, "examine", watched)
    return seen


def a_pdf(name: str = "报告.pdf") -> FileStorage:
    return uploads_file(pdf_bytes(), name)


def test_a_session_cookie_saved_before_logout_gets_no_upload_examined(app, make, examined):
    setup = claim_materials(make)
    client = signed_in_client(app, setup.user)
    saved = client.get_cookie("session").value
    Auth(client).logout()
    replayed = app.test_client()
    replayed.set_cookie("session", saved)
    response = post_multipart(replayed, setup.url, {**setup.data, "files": [a_pdf()]})
    assert response.status_code == 302 and "/auth/login" in response.location
    assert examined == []


def test_a_remember_me_users_uploads_are_examined_before_the_transaction_begins(app, make, examined):
    """Signed in by the remember-me cookie alone (the browser dropped its session), as the first request."""
    setup = claim_materials(make)
    client = signed_in_client(app, None)
    assert Auth(client).login(setup.user, remember="y").status_code == 303
    remembered = app.test_client()
    remembered.set_cookie("remember_token", client.get_cookie("remember_token").value)
    response = post_multipart(remembered, setup.url, {**setup.data, "files": [a_pdf()]})
    assert response.status_code in (200, 303)
    assert examined == [False]


def test_a_post_to_an_unknown_address_gets_no_upload_examined(app, make, examined):
    """Flask-WTF checks no token where no route matched, so such a post must cost nothing."""
    client = signed_in_client(app, make.enterprise())
    response = post_multipart(client, "/no/such/page", {"files": [a_pdf()]}, csrf=False)
    assert response.status_code == 404
    assert examined == []


def test_more_files_than_any_form_takes_are_refused_before_any_is_examined(app, make, examined):
    """Twelve junk files first would have pushed the real ones into the transaction."""
    setup = claim_materials(make)
    client = signed_in_client(app, setup.user)
    junk = [uploads_file(png_bytes(), f"{n}.png") for n in range(early.MAX_FILES)]
    response = post_multipart(client, setup.url, {**setup.data, "files": junk + [a_pdf()]})
    assert response.status_code == 413
    assert f"一次最多上传{early.MAX_FILES}个文件" in response.get_data(as_text=True)
    assert examined == []


def test_a_signed_in_users_uploads_are_all_examined_before_the_transaction_begins(app, make, examined):
    setup = claim_materials(make)
    client = signed_in_client(app, setup.user)
    response = post_multipart(client, setup.url, {**setup.data, "files": [a_pdf(f"{n}.pdf") for n in range(3)]})
    assert response.status_code in (200, 303)
    assert examined == [False, False, False]


# --- a request waits only so long for a decoder or a PDF helper ------------------------------------------------------

BUSY = "系统繁忙，请稍后再试"


@pytest.fixture
def short_waits(monkeypatch):
    monkeypatch.setattr(content, "WAIT_SECONDS", 0.5)


@contextmanager
def all_taken(take, give_back, count: int, at_most: float = 15):
    """`count` of something (every decoder, every PDF helper) taken while the block runs, and given back after
    `at_most` seconds even if it still runs, so a request that would wait for ever ends (and fails the test)."""
    taken, lock = [take() for _ in range(count)], threading.Lock()

    def give_all_back():
        with lock:
            while taken:
                give_back(taken.pop())
    timer = threading.Timer(at_most, give_all_back)
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        give_all_back()


def test_an_image_that_waits_too_long_for_a_decoder_is_answered_busy(app, make, short_waits):
    setup = service_form(make)
    client = signed_in_client(app, setup.user)
    photo = uploads_file(png_bytes(), "仪器.png")
    with all_taken(content.decoding.acquire, lambda _: content.decoding.release(), content.DECODES_AT_ONCE):
        response = post_multipart(client, setup.url, {**setup.data, "display_image": [photo]})
    assert response.status_code == 503 and BUSY in response.get_data(as_text=True)


def test_a_pdf_that_waits_too_long_for_a_helper_is_answered_busy(app, make, short_waits):
    setup = claim_materials(make)
    client = signed_in_client(app, setup.user)
    helpers = pdf_probe._pool()
    with all_taken(helpers.get, helpers.put, pdf_probe.PROBES):
        response = post_multipart(client, setup.url, {**setup.data, "files": [a_pdf()]})
    assert response.status_code == 503 and BUSY in response.get_data(as_text=True)


def test_a_thumbnail_that_waits_too_long_for_a_decoder_is_answered_busy(app, make, short_waits):
    owner = make.enterprise()
    stored = make.stored_png(owner)
    db.session.commit()
    client = signed_in_client(app, owner)
    with all_taken(content.decoding.acquire, lambda _: content.decoding.release(), content.DECODES_AT_ONCE):
        response = client.get(f"/files/{stored.id}?thumb=200")
    assert response.status_code == 503 and BUSY in response.get_data(as_text=True)


# --- save() refuses cleanly what it cannot store -------------------------------------------------------------------

def test_a_file_received_past_a_smaller_limit_is_refused_cleanly_by_a_field_taking_more(app):
    upload = uploads_file(pdf_bytes(), "报告.pdf")
    storage.receive(upload, max_bytes=100)  # as early.py does with the default limit
    with pytest.raises(uploads.UploadError) as refused:
        uploads.save(upload, accept=(uploads.PDF,), max_bytes=10 * MB)
    assert refused.value.message == "文件超过100B"


def test_saving_the_same_upload_twice_stores_it_once(app):
    upload = uploads_file(pdf_bytes(), "报告.pdf")
    first = uploads.save(upload, accept=(uploads.PDF,))
    assert uploads.save(upload, accept=(uploads.PDF,)) is first
    assert stored_files() == 1


# --- the PDF helpers fail cleanly -------------------------------------------------------------------------------

def a_pdf_on_disk(tmp_path) -> Path:
    path = tmp_path / "报告.pdf"
    path.write_bytes(pdf_bytes())
    return path


def helper_running(script: str) -> list[str]:
    """A stand-in helper: `script` run by this Python after saying it is ready, as the real one does."""
    return [sys.executable, "-c", f"import json, sys; print(json.dumps({pdf_probe.READY!r}), flush=True)\n{script}"]


def test_a_helper_that_cannot_import_pypdf_says_why_instead_of_refusing_every_pdf(app):
    """Started as the real helper, with pypdf made unimportable (as a -I interpreter without the venv's path was)."""
    hidden = ("import runpy, sys; sys.modules['pypdf'] = None; "
              f"runpy.run_path({pdf_probe.__file__!r}, run_name='__main__')")
    with pytest.raises(pdf_probe.HelperFailed, match="pypdf"):
        pdf_probe._launch([sys.executable, "-c", hidden, str(content.MAX_PDF_PAGES)])


def test_a_helper_that_answers_garbage_counts_as_no_answer(tmp_path):
    helper = pdf_probe._launch(helper_running("sys.stdin.readline(); print('not json', flush=True); input()"))
    assert pdf_probe._ask(helper, a_pdf_on_disk(tmp_path)) is None
    pdf_probe._stop(helper, kill=True)


def test_a_helper_that_died_counts_as_no_answer_and_is_stopped_quietly(tmp_path):
    helper = pdf_probe._launch(helper_running("sys.exit()"))
    helper.wait()
    assert pdf_probe._ask(helper, a_pdf_on_disk(tmp_path)) is None  # its pipe is broken
    pdf_probe._stop(helper, kill=True)


def test_a_helper_is_heard_on_a_descriptor_past_1023(tmp_path):
    """A threaded worker with many connections and files open gets high descriptors; select() refused them."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if min(hard, 4096) < 1200:
        pytest.skip("this system allows too few open files")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4096)), hard))
    padding = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    try:
        helper = pdf_probe._start(content.MAX_PDF_PAGES)
        assert helper.stdout.fileno() > 1023
        assert pdf_probe._ask(helper, a_pdf_on_disk(tmp_path)) == {"pages": 1}
        pdf_probe._stop(helper)
    finally:
        for fd in padding:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.mark.skipif(not Path("/proc/self/limits").exists(), reason="reads /proc")
def test_a_helper_may_spend_only_so_much_cpu_on_a_file(tmp_path):
    """So one reading a hostile file when its web process died does not spin for ever."""
    helper = pdf_probe._start(content.MAX_PDF_PAGES)
    try:
        assert pdf_probe._ask(helper, a_pdf_on_disk(tmp_path)) == {"pages": 1}
        limits = Path(f"/proc/{helper.pid}/limits").read_text()
    finally:
        pdf_probe._stop(helper)
    cpu = next(line for line in limits.splitlines() if line.startswith("Max cpu time")).split()
    assert cpu[3].isdigit() and int(cpu[3]) <= pdf_probe.CPU_SECONDS + 5
