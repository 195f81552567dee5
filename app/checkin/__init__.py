"""The scanner page, the check-in API and the scan log."""
