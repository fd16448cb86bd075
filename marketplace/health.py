"""Liveness and database reachability for load balancers and deploy scripts."""
from flask import Blueprint, jsonify
from sqlalchemy import text

from .db import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
        database = "ok"
    except Exception as exc:  # any driver error means "not reachable"; report it, don't crash
        database = f"error: {type(exc).__name__}"
    ok = database == "ok"
    return jsonify(status="ok" if ok else "degraded", database=database,
                   dialect=db.engine.dialect.name), 200 if ok else 503
