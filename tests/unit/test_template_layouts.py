"""The shared page parts are written once: the personal pages' layout, the confirm row and the pager."""

import re
from pathlib import Path

from flask import render_template_string

TEMPLATES = Path(__file__).resolve().parents[2] / "app" / "templates"
LAYOUT = "invitations/_personal_layout.html"

PERSONAL_PAGES = [
    *(
        f"invitations/{name}.html"
        for name in (
            "cancel",
            "colleague",
            "decline",
            "details",
            "erase",
            "erased",
            "full",
            "handed_on",
            "personal",
            "register",
            "welcome",
        )
    ),
    "fringe_events/event.html",
    "fringe_events/full.html",
    "fringe_events/programme.html",
]

CONFIRM_PAGES = [
    "invitations/cancel.html",
    "invitations/erase.html",
    "auth/team_confirm.html",
    "core/confirm.html",
    "invitations/organiser_group_confirm.html",
    "fringe_events/organiser_cancel.html",
    "fringe_events/organiser_confirm_early.html",
]


def sources() -> dict[str, str]:
    return {
        path.relative_to(TEMPLATES).as_posix(): path.read_text(encoding="utf-8") for path in TEMPLATES.rglob("*.html")
    }


def test_every_personal_page_extends_the_one_layout_and_only_it_places_the_band():
    every = sources()
    for name in PERSONAL_PAGES:
        assert every[name].startswith('{% extends "invitations/_personal_layout.html" %}'), name
        assert "{% block header %}" not in every[name], name
    with_band = {name for name, text in every.items() if "invitations/_band.html" in text}
    # The home page shows the band under the site's own header; every other page with the band is personal.
    assert with_band == {LAYOUT, "public/index.html"}


def test_no_page_writes_its_own_confirm_row_or_pager():
    every = sources()
    for name in CONFIRM_PAGES:
        assert '{% from "_macros/confirm.html" import confirm_buttons %}' in every[name], name
        assert "confirm_buttons(" in every[name], name
    for name, text in every.items():
        if name.startswith("_macros/"):
            continue
        assert 'aria-label="Pages"' not in text, name
        # A "Yes, …" button or a "No, …" way back written by hand is a confirm row outside the macro.
        assert not re.search(r'type="submit">Yes, |>No, [^<]*</a>', text), name


def test_the_personal_layout_has_the_band_and_no_site_header(app):
    with app.test_request_context():
        html = render_template_string(
            '{% extends "invitations/_personal_layout.html" %}{% block content %}<h1>Hello</h1>{% endblock %}',
            summit=None,
        )
    assert html.lower().startswith("<!doctype html>")  # nothing before the page, as when it extended base.html
    assert '<div class="band">' in html
    assert 'class="site-header"' not in html
    assert "<h1>Hello</h1>" in html


def test_confirm_buttons_escapes_its_words_and_marks_a_step_that_cant_be_undone(app):
    with app.test_request_context():
        html = render_template_string(
            '{% from "_macros/confirm.html" import confirm_buttons %}'
            "{{ confirm_buttons('Yes, mark ' ~ name ~ ' as attended', 'No, go back', '/back', danger=True) }}",
            name="<b>Ann</b>",
        )
    assert 'class="button button--danger" type="submit">Yes, mark &lt;b&gt;Ann&lt;/b&gt; as attended</button>' in html
    assert '<a class="button button--secondary" href="/back">No, go back</a>' in html


def test_the_pager_counts_pages_when_it_knows_them_and_reads_newer_older_when_it_doesnt(app):
    macro = '{% from "_macros/pager.html" import pager %}'
    with app.test_request_context():
        counted = render_template_string(macro + "{{ pager(2, 3, 'organiser.invitations', {'state': 'invited'}) }}")
        first_of_more = render_template_string(macro + "{{ pager(1, None, 'mail.outbox', {}, has_more=True) }}")
        last_of_more = render_template_string(macro + "{{ pager(2, None, 'mail.outbox', {}, has_more=False) }}")
        single = render_template_string(macro + "{{ pager(1, None, 'mail.outbox', {}, has_more=False) }}")
    assert ">Previous</a>" in counted and "Page 2 of 3" in counted and ">Next</a>" in counted
    assert "state=invited" in counted and "page=3" in counted
    assert ">Newer</a>" not in first_of_more and ">Older</a>" in first_of_more and "Page " not in first_of_more
    assert ">Newer</a>" in last_of_more and ">Older</a>" not in last_of_more
    assert "<nav" not in single


# Where a page's template lives says which package renders it: a package renders from its own folder.
# The kernel's packages render from folders named after them (auth/, mail/, and emails/ for the messages the
# mail package composes); the kernel's own modules from core/ and errors/.
OWN_FOLDERS = {
    "app/core/auth": {"auth"},
    "app/core/mail": {"mail", "emails"},
    "app/core": {"core", "errors"},
    "app/badges": {"badges"},
    "app/checkin": {"checkin"},
    "app/dashboards": {"dashboards"},
    "app/public": {"public"},
    "app/texts": {"texts"},
    "invitations": {"invitations"},
    "fringe_events": {"fringe_events"},
    "app/factory.py": {"errors"},
}
# One page shared on purpose: "check your email", after a staff sign-in link or a delegate's lost link.
SHARED_PAGES = {("invitations/recovery_routes.py", "auth")}


def test_each_package_renders_pages_from_the_folder_named_after_it():
    root = TEMPLATES.parents[1]
    named = re.compile(r"[\"']([a-z_]+)/[a-z_]+\.(?:html|txt)[\"']")
    wrong = []
    rendered = 0
    for source in root.glob("**/*.py"):
        relative = source.relative_to(root).as_posix()
        if relative.startswith((".venv", "tests", "bench", "migrations", "node_modules")):
            continue
        owner = max((p for p in OWN_FOLDERS if relative == p or relative.startswith(p + "/")), key=len, default=None)
        for folder in named.findall(source.read_text(encoding="utf-8")):
            if not (TEMPLATES / folder).is_dir():
                continue
            rendered += 1
            if (relative, folder) in SHARED_PAGES:
                continue
            if owner is None or folder not in OWN_FOLDERS[owner]:
                wrong.append(f"{relative} renders from {folder}/")
    assert rendered > 60
    assert not wrong, wrong
    folders = {p.name for p in TEMPLATES.iterdir() if p.is_dir() and not p.name.startswith("_")}
    assert folders == set().union(*OWN_FOLDERS.values())
