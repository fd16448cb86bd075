"""Entry point: `flask --app app run`, `gunicorn app:app`."""
from marketplace import create_app

app = create_app()
