"""Invitees, personal links, registration, the waiting list and substitution."""
