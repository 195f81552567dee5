"""Organiser and leader views: the leader's page, the organisers' dashboard, champions and exports."""
