"""Absolute URLs for emails and the CLI, built from BASE_URL so they never depend on who asked."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app


def external_url(endpoint: str, **values) -> str:
    parts = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme or "http")
    return adapter.build(endpoint, values, force_external=True)
