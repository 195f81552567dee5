"""The people domain's services in one place, for views, commands and tests: each lives in the module
of its purpose (links, people, journey, waitlist, handing_on, summit_changes, mailing) and is named here.

Services flush but never commit; the caller commits once. Every change of a person's state begins with
invitations.transitions (one transition at a time per person).
"""

from __future__ import annotations

from invitations.handing_on import HANDABLE, Colleague, hand_on  # noqa: F401
from invitations.journey import (  # noqa: F401
    REGISTERABLE,
    Declined,
    RegistrationDetails,
    accept_offer,
    cancel_registration,
    decline,
    join_waitlist,
    register,
    update_details,
)
from invitations.links import (  # noqa: F401
    invitation_for_link,
    invitation_for_token,
    mark_opened,
    personal_url,
    reissue_link,
    token_for,
)
from invitations.mailing import (  # noqa: F401
    REMINDER_GROUPS,
    mail_context,
    reminder_counts,
    reminder_query,
    send_all_unsent,
    send_confirmation,
    send_invitation,
    send_reminders,
    unsent_invitations,
)
from invitations.people import (  # noqa: F401
    ImportOutcome,
    InviteeData,
    create_invitation,
    find_by_email,
    get_invitation,
    import_invitees,
    normalise_email,
    revoke_invitation,
    update_invitation,
)
from invitations.summit_changes import SummitChange, SummitSetUp, change_summit, configure_summit, set_up_summit  # noqa: F401
from invitations.waitlist import (  # noqa: F401
    PlaceGivenUp,
    expire_offers,
    fill_from_waitlist,
    give_up_place,
    waitlist_length,
    waitlist_position,
)
