"""How many messages one mail worker delivers per second to a SendGrid stand-in on 127.0.0.1.

    .venv/bin/python -m bench.mail_throughput [--messages 500] [--database-url URL]

Prints one JSON object. The stand-in answers at once, so this measures our side: claiming, building the
payload with SendGrid's library, the HTTP round trip on loopback, and recording the outcome.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from sqlalchemy import text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file")
    args = parser.parse_args()

    import app.models  # noqa: F401  (every table)
    from app.core.db import Base, db
    from app.core.mail import delivery
    from app.factory import create_app
    from config import TestingConfig, normalise_database_url, settings_of
    from invitations import mailing, people, summit_changes
    from tests.support.sendgrid_standin import API_KEY, StandIn

    standin = StandIn().start()
    folder = Path(tempfile.mkdtemp())
    url = normalise_database_url(args.database_url) if args.database_url else f"sqlite:///{folder / 'bench.sqlite3'}"
    config = settings_of(TestingConfig)
    config.update(DATABASE_URL=url, MAIL_BACKEND="sendgrid", SENDGRID_HOST=standin.url, SENDGRID_API_KEY=API_KEY)
    application = create_app(config)
    with application.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        Base.metadata.create_all(db.engine)
        summit_changes.configure_summit()
        for n in range(args.messages):
            mailing.send_invitation(
                people.create_invitation(
                    people.InviteeData(email=f"bench{n}@example.org", name=f"Bench {n}", organisation="Suffolk")
                )
            )
        db.session.commit()
        started = time.perf_counter()
        outcome = delivery.send_pending()
        elapsed = time.perf_counter() - started
        result = {
            "benchmark": "mail worker throughput",
            "database": db.engine.dialect.name,
            "messages": args.messages,
            "sent": outcome.sent,
            "seconds": round(elapsed, 3),
            "messages_per_second": round(outcome.sent / elapsed, 1),
            "distinct_received": len(standin.outbox_ids()),
        }
        db.engine.dispose()
    standin.stop()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
