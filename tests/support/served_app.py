"""The testing app as gunicorn serves it for tests that need real worker processes (run via tests/support/servers.py).

Settings come as JSON in SERVED_APP_CONFIG, over TestingConfig. Every answer names the worker process that
gave it (X-Worker-Pid), and /_test/hold keeps a worker busy for a moment, so a test can see its requests
spread over every worker.
"""

import json
import os
import time

from flask import request
from jinja2 import FileSystemBytecodeCache
from sqlalchemy.orm import configure_mappers

from app.factory import create_app
from config import TestingConfig, settings_of

_config = settings_of(TestingConfig)
_config.update(json.loads(os.environ["SERVED_APP_CONFIG"]))
app = create_app(_config)
# What each worker would otherwise do again on its first requests, done once (gunicorn --preload makes the app
# before forking): the mappers configured here, and the templates compiled once for every worker of every test
# server, kept by Jinja's own cache in the temporary folder (a first page cost a worker 170 ms, the next 6 ms).
configure_mappers()
app.jinja_env.bytecode_cache = FileSystemBytecodeCache()


@app.after_request
def name_the_worker(response):
    response.headers["X-Worker-Pid"] = str(os.getpid())
    return response


@app.get("/_test/hold")
def hold():
    time.sleep(min(float(request.args.get("seconds", "0.3")), 5.0))
    return str(os.getpid())
