"""Every message the product sends, as organisers may word it: its placeholders and its default wording.

A kind's default subject and body are today's wording written in the organisers' markup (Markdown and
`((placeholders))`, see app.core.mail.wording); while nobody has edited a kind, its message is still
written from its templates in app/templates/emails/, which say the same.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Placeholder:
    name: str
    help: str
    link: bool = False  # a working address: never in a subject, and a button when it stands alone


@dataclass(frozen=True)
class MessageKind:
    name: str
    label: str
    when: str  # when it is sent, for the organisers' list
    placeholders: tuple[str, ...]
    required: tuple[str, ...]
    subject: str
    body: str


PLACEHOLDERS: dict[str, Placeholder] = {
    p.name: p
    for p in (
        Placeholder("first_name", "The person's first name (the first word of their name)."),
        Placeholder("name", "The person's full name."),
        Placeholder("summit_name", "The summit's name, as set on the Summit page."),
        Placeholder("summit_date", "The summit's day and times, such as “Wednesday 14 October, 9:30am–4:30pm”."),
        Placeholder("venue", "Where the summit is: the venue and its address."),
        Placeholder("venue_name", "The venue's name alone, such as “Adastral Park”."),
        Placeholder("summit_tagline", "The summit's line about why it matters, from the Summit page."),
        Placeholder("personal_link", "The person's own link to their invitation page.", link=True),
        Placeholder("decline_link", "The link that opens the “I can't come” page.", link=True),
        Placeholder("sign_in_link", "The one-time link that signs the leader or steward in.", link=True),
        Placeholder("minutes", "How many minutes the sign-in link works for."),
        Placeholder("offer_expires", "When the offered place stops being held, such as “Friday 2 October, 5:00pm”."),
        Placeholder("position", "The person's number in the waiting list's queue."),
        Placeholder("original_name", "The name of the person who passed their invitation on."),
        Placeholder("colleague_name", "The name of the colleague the invitation was passed to."),
        Placeholder("organisation", "The person's organisation, as we have it."),
        Placeholder("job_title", "The person's job title, as we have it."),
        Placeholder("changes", "What changed, one line each: “When: now … (was …)”."),
        Placeholder("leader_name", "The leader's name."),
        Placeholder("leader_organisation", "The leader's organisation."),
        Placeholder("leader_message", "The leader's own message (empty if they wrote none)."),
        Placeholder("event_title", "The fringe event's title."),
        Placeholder("event_date", "The fringe event's day and times."),
        Placeholder("event_place", "Where the fringe event is: its venue and address."),
        Placeholder("event_link", "The person's own link to the fringe event's page.", link=True),
        Placeholder("reason", "The reason the organisers gave for cancelling (may be empty)."),
    )
}

PERSON = ("first_name", "name", "summit_name", "summit_date", "venue", "venue_name")
EVENT = ("event_title", "event_date", "event_place", "event_link")

_KINDS = (
    MessageKind(
        "invitation",
        "Invitation",
        "when the organisers send the invitations",
        (*PERSON, "summit_tagline", "personal_link", "decline_link"),
        ("personal_link",),
        "Your invitation to ((summit_name))",
        """Dear ((first_name)),

We would like to invite you to ((summit_name)), an invitation-only innovation summit at ((venue_name)).

((summit_tagline))

We are inviting people by name because we think you can help shape what happens next in Suffolk, and we would value your being there.

**When and where**
When: ((summit_date))
Where: ((venue))

**Your reply**

Your invitation page lets you register for your place and tell us about any dietary or access needs.

[Reply to your invitation](((personal_link)))

**If you can't come**

[Can't come? Tell us here](((decline_link)))

This link opens a page with a button. Nothing changes until you press that button, so it is safe to open. From the same page you can send a colleague instead, and we will invite them in your place.

**This link is just for you**

The links in this email are personal to you, so please don't forward this email. If someone else should come instead, use "Send a colleague instead" and we will send them a link of their own.

If you have a question, reply to this email and the organisers will get back to you.
""",
    ),
    MessageKind(
        "reminder",
        "Reminder",
        "when the organisers remind people who haven't answered",
        (*PERSON, "summit_tagline", "personal_link"),
        ("personal_link",),
        "A reminder: your invitation to ((summit_name))",
        """Dear ((first_name)),

We haven't heard from you yet, so here is a gentle reminder of your invitation to ((summit_name)).

((summit_tagline))

When: ((summit_date))
Where: ((venue))

[Reply to your invitation](((personal_link)))

Can't come? You can tell us, or send a colleague in your place, from the same page.
This link is personal to you, so please don't forward it.
""",
    ),
    MessageKind(
        "registration_confirmed",
        "Registration confirmed",
        "when someone registers (with the summit's calendar file)",
        (*PERSON, "personal_link"),
        ("personal_link",),
        "You're registered for ((summit_name))",
        """Dear ((first_name)),

Thank you for registering. Your place at ((summit_name)) is confirmed, and we look forward to seeing you.

**When and where**
When: ((summit_date))
Where: ((venue))

**Your page**

Your personal page has your badge, to show at the door, and a calendar file to add the day to your diary.

[Open my page](((personal_link)))

**If your plans change**

To change your details, or your dietary or access needs, use "Change my details" on your page.

If you can no longer come, use "Cancel my place" on the same page, so that we can offer your place to someone on the waiting list. You can also send a colleague instead.

The link to your page is personal to you, so please keep this email and don't forward it.
""",
    ),
    MessageKind(
        "registration_cancelled",
        "Place cancelled",
        "when someone cancels their place",
        (*PERSON, "personal_link"),
        ("personal_link",),
        "Your place at ((summit_name)) is cancelled",
        """Dear ((first_name)),

We've cancelled your place at ((summit_name)) on ((summit_date)). Thank you for letting us know: your place is free again for someone else to take.

**If you change your mind**

If places free up, you can still register again from your invitation page:
((personal_link))

If you didn't cancel your place, please reply to this email straight away and the organisers will look into it.
""",
    ),
    MessageKind(
        "waitlist_joined",
        "Joined the waiting list",
        "when someone joins the waiting list",
        (*PERSON, "position", "personal_link"),
        ("personal_link",),
        "You're on the waiting list for ((summit_name))",
        """Dear ((first_name)),

((summit_name)) is full at the moment, so we've added you to the waiting list.

You are number ((position)) in the queue.

**What happens next**

You don't need to do anything now. If a place frees up, we'll email you.

We'll hold that place for you for a limited time, and the email will say until when. If you don't accept it by then, it passes to the next person waiting.

If you no longer want a place, or would like to send a colleague instead, you can do that from your invitation page:
((personal_link))
""",
    ),
    MessageKind(
        "place_offered",
        "Waiting list: a place offered",
        "when a place frees up for the next person on the waiting list",
        (*PERSON, "offer_expires", "personal_link"),
        ("personal_link",),
        "A place at ((summit_name)) is yours if you want it",
        """Dear ((first_name)),

A place has become free at ((summit_name)), and we're holding it for you until ((offer_expires)).

**When and where**
When: ((summit_date))
Where: ((venue))

**Accepting your place**

To take the place, accept it on your invitation page and tell us about any dietary or access needs.

[Accept my place](((personal_link)))

If you don't accept by ((offer_expires)), the place will pass to the next person on the waiting list. If you know you can't come, you can say so on the same page, so that it passes on sooner.

The link is personal to you, so please don't forward this email.
""",
    ),
    MessageKind(
        "offer_expired",
        "Waiting list: offer passed on",
        "when an offered place wasn't accepted in time",
        (*PERSON, "personal_link"),
        ("personal_link",),
        "The place we offered you has passed on",
        """Dear ((first_name)),

We held a place at ((summit_name)) for you, but it wasn't accepted in time, so it is no longer held for you.

**If you'd still like to come**

From your invitation page you can register if a place is free, or, while the summit is full, rejoin the waiting list: you'll join at the back of the queue, and we'll email you again if a place frees up:
((personal_link))
""",
    ),
    MessageKind(
        "colleague_invited",
        "Colleague invited instead",
        "to the colleague someone sends in their place",
        (*PERSON, "summit_tagline", "original_name", "personal_link"),
        ("personal_link",),
        "A colleague has passed their invitation to ((summit_name)) to you",
        """Dear ((first_name)),

((original_name)) can't come to ((summit_name)), and has asked us to invite you in their place.

((summit_tagline))

**When and where**
When: ((summit_date))
Where: ((venue))

**Your reply**

You can register from your personal invitation page. If the summit is full, the page will show you where you stand on the waiting list.

[Open my invitation](((personal_link)))

The link is personal to you, so please don't forward this email. If you can't come either, you can say so on the same page.

If you have a question, reply to this email and the organisers will get back to you.
""",
    ),
    MessageKind(
        "handed_on",
        "Invitation handed on",
        "to the person who sent a colleague in their place",
        (*PERSON, "colleague_name", "personal_link"),
        (),
        "You've sent a colleague to ((summit_name)) in your place",
        """Dear ((first_name)),

Thank you for letting us know. ((colleague_name)) now has their own link to ((summit_name)), and we've emailed it to them.

There's nothing more for you to do. Your own link now only shows that your invitation was handed on:
((personal_link))

If you didn't mean to hand on your invitation, please reply to this email and the organisers will help.
""",
    ),
    MessageKind(
        "details_changed",
        "Details changed",
        "when someone changes their details",
        (*PERSON, "organisation", "job_title", "personal_link"),
        ("personal_link",),
        "Your details for ((summit_name)) have been updated",
        """Dear ((first_name)),

We've updated the details you gave us for ((summit_name)). We now have:

Name: ((name))
Organisation: ((organisation))
Job title: ((job_title))

You can see all your details, including dietary and access needs, on your page:
((personal_link))

**Didn't make this change?**

If you didn't change your details, please reply to this email straight away and the organisers will look into it.
""",
    ),
    MessageKind(
        "your_link",
        "Lost link re-sent",
        "when someone asks for their link again",
        (*PERSON, "personal_link"),
        ("personal_link",),
        "Your personal link for ((summit_name))",
        """Dear ((first_name)),

You asked us for your link to ((summit_name)). Here it is:
((personal_link))

From it you can register, change your details, see your badge or tell us you can't come. It is personal to you, so please don't forward this email.

If you didn't ask for it, you can ignore this email: the link is only ever sent to you.
""",
    ),
    MessageKind(
        "summit_changed",
        "The summit changed",
        "to registered delegates when the summit's time or place changes",
        (*PERSON, "changes", "personal_link"),
        ("personal_link",),
        "A change to ((summit_name)): please update your diary",
        """Dear ((first_name)),

We've had to change ((summit_name)). Your place is still confirmed. Here is what changed:

((changes))

**When and where**
When: ((summit_date))
Where: ((venue))

Open the calendar file attached and your calendar will update the entry you already have, rather than add a second one.

If you can no longer come, please use "Cancel my place" on your page, so that we can offer your place to someone on the waiting list, or send a colleague instead:
((personal_link))

We're sorry for any trouble this causes.
""",
    ),
    MessageKind(
        "leader_nudge",
        "A leader's nudge",
        "when a leader nudges one of their invitees",
        (*PERSON, "leader_name", "leader_organisation", "leader_message", "personal_link"),
        ("personal_link",),
        "A message from ((leader_name)) about ((summit_name))",
        """((leader_name)) has sent you this message about your invitation to ((summit_name)):

((leader_message))

((leader_name))
((leader_organisation))

[Reply to your invitation](((personal_link)))

**When and where**
When: ((summit_date))
Where: ((venue))

The link is personal to you, so please don't forward this email.
""",
    ),
    MessageKind(
        "sign_in_link",
        "Sign-in link for staff",
        "when a leader or steward asks for a sign-in link",
        ("first_name", "name", "summit_name", "minutes", "sign_in_link"),
        ("sign_in_link",),
        "Your sign-in link for ((summit_name))",
        """Dear ((first_name)),

Here is your link to sign in to the registration service for ((summit_name)) and see your invitees:

[Sign in](((sign_in_link)))

It works once, within ((minutes)) minutes, and keeps you signed in on the phone or computer you open it on.

If you didn't ask for this link, you can ignore this email: nobody can sign in without it.
""",
    ),
    MessageKind(
        "fringe_signed_up",
        "Fringe event: signed up",
        "when someone signs up for a fringe event (with its calendar file)",
        (*PERSON, *EVENT, "personal_link"),
        ("event_link",),
        "You're signed up: ((event_title))",
        """Dear ((first_name)),

Thank you for signing up for ((event_title)), one of the fringe events that warm us up for the summit. We look forward to seeing you there.

**When and where**
When: ((event_date))
Where: ((event_place))

The calendar file attached adds it to your diary. If the time or place changes, we'll email you an update that moves it for you.

[See the event](((event_link)))

**If you can't make it**

Use "Cancel my sign-up" on the event's page, so that someone else can have your place.

The link is personal to you, so please don't forward this email.
""",
    ),
    MessageKind(
        "fringe_signup_cancelled",
        "Fringe event: sign-up cancelled",
        "when someone cancels their fringe sign-up",
        (*PERSON, *EVENT, "personal_link"),
        ("personal_link",),
        "Sign-up cancelled: ((event_title))",
        """Dear ((first_name)),

You're no longer signed up for ((event_title)) (((event_date))). Thank you for letting us know: your place has gone back for someone else.

The calendar file attached takes it out of your diary.

If your plans change, you can sign up again while places remain, and there are other fringe events to choose from:
((personal_link))
""",
    ),
    MessageKind(
        "fringe_changed",
        "Fringe event: changed",
        "to everyone signed up when a fringe event's time or place changes, or it is back on",
        (*PERSON, *EVENT, "changes", "personal_link"),
        ("event_link",),
        "Changed: ((event_title))",
        """Dear ((first_name)),

We've had to change ((event_title)), which you're signed up for. Here is what changed:

((changes))

**When and where**
When: ((event_date))
Where: ((event_place))

Open the calendar file attached and your calendar will update the entry you already have, rather than add a second one.

If you can no longer come, please cancel your sign-up on the event's page, so that someone else can have your place:
((event_link))

We're sorry for any trouble this causes.
""",
    ),
    MessageKind(
        "fringe_cancelled",
        "Fringe event: cancelled",
        "to everyone signed up when a fringe event is cancelled",
        (*PERSON, *EVENT, "reason", "personal_link"),
        ("personal_link",),
        "Cancelled: ((event_title))",
        """Dear ((first_name)),

We're sorry to tell you that ((event_title)), planned for ((event_date)) at ((event_place)), is cancelled.

((reason))

The calendar file attached takes it out of your diary.

Other fringe events still have places, and you can sign up for them from your page:
((personal_link))
""",
    ),
)

KINDS: dict[str, MessageKind] = {kind.name: kind for kind in _KINDS}
