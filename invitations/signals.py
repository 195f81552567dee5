"""What the people domain tells the layers above it without naming them (blinker signals, as Flask's own).

Each is sent inside the transaction that made the change, so a receiver's writes commit or roll back with it.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# A person stopped being on the list (revoked, or erased on request): free whatever they hold elsewhere.
# sender: the Invitation; keyword `now`.
person_left = _signals.signal("person-left")

# A person sent a colleague in their place: what they hold elsewhere moves across.
# sender: the original Invitation; keywords `to` (the colleague's Invitation) and `now`.
person_handed_on = _signals.signal("person-handed-on")

# A person gave up a confirmed summit place (cancelled it, or was revoked or erased while holding it); handing on
# is person_handed_on. sender: the Invitation, its registration just cancelled and its code still the one it had;
# keyword `now`.
summit_place_given_up = _signals.signal("summit-place-given-up")

# A person's data was erased (on request, or by the anonymiser after the event): remove whatever else names them.
# sender: the Invitation, already stripped; keywords `words` (every name, address and need they were known by,
# longest first) and `now`.
person_erased = _signals.signal("person-erased")

# A person asked for a copy of their data: each receiver returns a dict of sections to add.
# sender: the Invitation.
personal_data_requested = _signals.signal("personal-data-requested")

# A person's own page is about to be shown: each receiver returns a dict of what it adds to the page, read once in
# the view so that the templates never query. Receivers only read (the page writes nothing once it has been opened).
# sender: the Invitation, with its registration and waiting-list entry loaded; keywords `summit` and `now`.
personal_page_shown = _signals.signal("personal-page-shown")
