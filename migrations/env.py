"""Alembic environment: runs against the app's engine (`flask --app wsgi db upgrade`)."""

from alembic import context

import app.models  # noqa: F401  (every table)
from app.core.db import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        from app.core.db import make_engine
        from config import config_from_env

        engine = make_engine(config_from_env().DATABASE_URL)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
