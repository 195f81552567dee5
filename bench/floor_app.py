"""The floor: the least a check-in can cost on this stack, served by the same gunicorn as the product.

`GET /ping` answers a constant JSON body (no database: the ceiling). `POST /floor/checkin` reads the same
JSON a scanner sends and does one `INSERT … ON CONFLICT DO NOTHING` through the database driver, in
autocommit, on one connection per worker process: what a check-in would cost if it were nothing else.
Served with BENCH_DATABASE_URL (sqlite:///… or postgresql+psycopg://…), like bench/bench_app.py.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime

from flask import Flask, jsonify, request

DATABASE_URL = os.environ["BENCH_DATABASE_URL"]
TABLE = "CREATE TABLE IF NOT EXISTS floor_scan (code VARCHAR(80) PRIMARY KEY, at TIMESTAMP NOT NULL)"

app = Flask(__name__)
_connection = None


def connection():
    """One connection per worker process (gunicorn's sync workers serve one request at a time)."""
    global _connection
    if _connection is None:
        if DATABASE_URL.startswith("sqlite"):
            _connection = sqlite3.connect(DATABASE_URL.split(":///", 1)[1], isolation_level=None, timeout=30)
            _connection.execute("PRAGMA journal_mode=WAL")
            _connection.execute("PRAGMA synchronous=NORMAL")
            _connection.execute(TABLE)
        else:
            import psycopg

            _connection = psycopg.connect(DATABASE_URL.replace("postgresql+psycopg://", "postgresql://"))
            _connection.autocommit = True
            try:
                _connection.execute(TABLE)
            except psycopg.errors.UniqueViolation:
                # Both workers' first insert came at once: PostgreSQL's IF NOT EXISTS doesn't cover two sessions
                # making the table at the same moment, and the other one made it.
                pass
    return _connection


def placeholder() -> str:
    return "?" if DATABASE_URL.startswith("sqlite") else "%s"


@app.get("/ping")
def ping():
    return jsonify({"status": "ok"})


@app.post("/floor/checkin")
def checkin():
    body = request.get_json(force=True, silent=True) or {}
    p = placeholder()
    connection().execute(
        f"INSERT INTO floor_scan (code, at) VALUES ({p}, {p}) ON CONFLICT DO NOTHING",
        (str(body.get("code", ""))[:80], datetime.now(UTC).replace(tzinfo=None)),
    )
    return jsonify({"status": "ok"})
