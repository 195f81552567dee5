"""Texts on the day: organisers text the summit's delegates, or one fringe event's, through GOV.UK Notify."""
