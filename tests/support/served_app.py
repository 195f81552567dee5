"""The testing app as gunicorn serves it for tests that need real worker processes (run via tests/support/servers.py).

Settings come as JSON in SERVED_APP_CONFIG, over TestingConfig. Every answer names the worker process that
gave it (X-Worker-Pid), and /_test/hold keeps a worker busy for a moment, so a test can see its requests
spread over every worker.
"""

import json
import os
import time

from flask import request

from app.factory import create_app
from config import TestingConfig, settings_of

_config = settings_of(TestingConfig)
_config.update(json.loads(os.environ["SERVED_APP_CONFIG"]))
app = create_app(_config)


@app.after_request
def name_the_worker(response):
    response.headers["X-Worker-Pid"] = str(os.getpid())
    return response


@app.get("/_test/hold")
def hold():
    time.sleep(min(float(request.args.get("seconds", "0.3")), 5.0))
    return str(os.getpid())
