"""The organisers' summit settings form as a test posts it, an app whose database has no tables yet, and whether a
client is signed in as an organiser."""

from __future__ import annotations

from sqlalchemy import create_engine
from sqlalchemy import text as sql

from app.factory import create_app
from config import TestingConfig, settings_of
from tests.support.apps import database_url


def summit_form(**overrides) -> dict:
    data = {
        "name": "The Lives we Lead: New Horizons",
        "tagline": "Shaping Suffolk's innovation strategy.",
        "venue": "Adastral Park",
        "address": "Martlesham Heath, Ipswich IP5 3RE",
        "starts_at": "2027-10-14T09:30",
        "ends_at": "2027-10-14T16:30",
        "registration_opens_at": "",
        "registration_closes_at": "2027-10-07T17:00",
        "capacity": "200",
        "target": "180",
        "offer_hold_hours": "24",
    }
    data.update(overrides)
    return data


def bare_app(kind: str, tmp_path):
    """An app whose database has no tables yet (make_app would create them)."""
    config = settings_of(TestingConfig)
    url = f"sqlite:///{tmp_path / 'fresh' / 'upgrade.sqlite3'}" if kind == "sqlite" else database_url(kind, tmp_path)
    config.update(DATABASE_URL=url, MAIL_FILE_DIR=str(tmp_path / "outbox"))
    if kind == "postgres":
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(sql("DROP SCHEMA public CASCADE"))
            connection.execute(sql("CREATE SCHEMA public"))
        engine.dispose()
    return create_app(config)


def signed_in(client) -> bool:
    """Whether the client's session belongs to a signed-in organiser (the dashboard answers 200)."""
    return client.get("/organiser/").status_code == 200
