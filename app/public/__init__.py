"""The public pages: landing, privacy notice, accessibility statement, health, and the staff home page."""
