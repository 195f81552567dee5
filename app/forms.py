"""Forms shared by every part of the app (the kernel's): one-button actions."""
from __future__ import annotations

from flask_wtf import FlaskForm


class ConfirmForm(FlaskForm):
    """A form with only its CSRF token: for one-button actions."""
