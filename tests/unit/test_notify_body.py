"""The plain-text message as GOV.UK Notify's markdown: what each line becomes, and what stays as it was."""

from __future__ import annotations

from app.core.mail.notify import notify_body

TEXT = """You're registered

Dear Ada,

Thank you for registering.

WHEN AND WHERE

When: Thursday 14 October 2027, 9:30am–4:30pm
Where: Adastral Park

IF YOU CAN'T COME

Tell us here:
https://newhorizons.example.org/i/TOKEN/decline

Here is what changed:
- When: now 10am (was 9:30am)
- Where: now Endeavour House (was Adastral Park)

Not a HEADING because it has words in lower case
--\x20
The organisers of The Lives we Lead: New Horizons
Suffolk's public-sector partners
"""


def test_the_title_and_sections_become_headings_in_sentence_case_and_the_signature_sits_below_a_line():
    body = notify_body(TEXT)
    assert body.split("\n") == [
        "# You're registered",
        "",
        "Dear Ada,",
        "",
        "Thank you for registering.",
        "",
        "## When and where",
        "",
        "When: Thursday 14 October 2027, 9:30am–4:30pm",
        "Where: Adastral Park",
        "",
        "## If you can't come",
        "",
        "Tell us here:",
        "https://newhorizons.example.org/i/TOKEN/decline",
        "",
        "Here is what changed:",
        "",  # Notify draws a list only after an empty line
        "- When: now 10am (was 9:30am)",
        "- Where: now Endeavour House (was Adastral Park)",
        "",
        "Not a HEADING because it has words in lower case",
        "",
        "---",
        "The organisers of The Lives we Lead: New Horizons",
        "Suffolk's public-sector partners",
    ]


def test_a_message_whose_replies_go_elsewhere_says_where_before_the_signature():
    body = notify_body("Hello\n\nA word from your leader.\n\n-- \nThe organisers", reply_to="lena@staff.example.org")
    assert body.endswith(
        "A word from your leader.\n\nTo reply, write to: lena@staff.example.org\n\n---\nThe organisers"
    )
    unsigned = notify_body("Hello\n\nA word.", reply_to="lena@staff.example.org")
    assert unsigned.endswith("A word.\n\nTo reply, write to: lena@staff.example.org")


def test_a_capitalised_line_inside_a_paragraph_stays_as_it_is():
    assert notify_body("Title\n\nDear Ada,\nRSVP\nThanks") == "# Title\n\nDear Ada,\nRSVP\nThanks"
