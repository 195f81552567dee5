"""Every staff route names the roles that may use it."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort
from flask_login import current_user

from app.core.auth.models import Role
from app.core.extensions import login_manager


def mark(view: Callable, **marks: object) -> None:
    """Set attributes on a view that tests and hooks read (allowed_roles, keeps_cache_control)."""
    view.__dict__.update(marks)


def roles_required(*roles: Role):
    def decorator(view):
        view.allowed_roles = frozenset(roles)

        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


organiser_required = roles_required(Role.ORGANISER)
