"""Shared markers for tests."""
import pytest

# Run a test against SQLite and PostgreSQL (the `app` fixture takes the database kind as its param).
both_databases = pytest.mark.parametrize("app", ["sqlite", "postgres"], indirect=True)
