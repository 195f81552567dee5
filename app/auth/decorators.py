"""Every staff route names the roles that may use it."""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user

from app.auth.models import Role
from app.extensions import login_manager


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
