"""The ceiling for `make loadtest`: a Flask app with one route returning a short HTML page and nothing else (no
database, templates, sessions or extensions), served by gunicorn with the same settings as the marketplace."""
from flask import Flask

app = Flask(__name__)

PAGE = ("<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>bare</title></head>"
        "<body><p>科技创新券</p></body></html>")


@app.get("/")
def bare_page():
    return PAGE
