"""Fringe events, sign-ups and attendance (at fringe events and the summit)."""
