"""gunicorn's settings, read by every `gunicorn app:app` started in this folder: the Procfile, the README's
deployment, `make loadtest` and the tests that start a server (command-line options override them).

Threaded workers: a client that sends its request slowly — a phone uploading a 50 MB scan over a weak line, or
someone trickling bytes on purpose — holds one thread while the app reads the body, not a whole worker. With the
former two sync workers, two uploads sent at 1 byte/s kept every other request waiting until gunicorn killed the
workers 30 s later. gunicorn reads a body only as the app asks for it, so against many slow clients at once put a
proxy that buffers whole requests in front (nginx does by default); see the README."""
import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", 2))
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", 8))  # per worker; within the database pool (db.py: 20 per process)
timeout = 60  # seconds a worker may stop answering gunicorn's heartbeat before it is replaced
