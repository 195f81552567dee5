"""The app as the benchmarks serve it with gunicorn: testing settings on BENCH_DATABASE_URL.

With BENCH_WRITE_BEFORE_DASHBOARD=1, each request for the organisers' dashboard first makes a write its figures
depend on (a no-change UPDATE of the summit row, in a transaction of its own, which the triggers count as a
change), so every view works the figures out again and stores them: the cost of a view after a change, the
write's own cost included."""

import os

from flask import request
from sqlalchemy import text

from app.core.db import db
from app.factory import create_app
from bench.harness import bench_config

app = create_app(bench_config(os.environ["BENCH_DATABASE_URL"]))

if os.environ.get("BENCH_WRITE_BEFORE_DASHBOARD") == "1":

    @app.before_request
    def _a_write_first() -> None:
        if request.path == "/organiser/":
            with db.writing_apart() as connection:
                connection.execute(text("UPDATE summit SET target = target"))
