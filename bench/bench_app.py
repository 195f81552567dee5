"""The app as the benchmarks serve it with gunicorn: testing settings on BENCH_DATABASE_URL."""

import os

from app.factory import create_app
from bench.harness import bench_config

app = create_app(bench_config(os.environ["BENCH_DATABASE_URL"]))
