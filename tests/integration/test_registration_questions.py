"""Registration questions: asked on the register and change-details pages, required or optional, a limited
option's places taken and given back like the summit's, answers in the export, the CSV, the dashboard and
erasure, and the organisers' pages (validation, reorder, hide, delete only while unanswered)."""

from __future__ import annotations

import csv
import io

from sqlalchemy import func, select, update

from app.core.db import db
from invitations import answers, journey, people
from invitations.models import InvitationState
from invitations.question_models import Answer, Question, QuestionKind, QuestionOption
from tests.support import both_databases
from tests.support import factories as f
from tests.support import question_factories as qf
from tests.support.checks import assert_summit_check_clean
from tests.support.factories import fresh, link

S = InvitationState
FORM = {"name": "Ada Lovelace", "organisation": "Analytical Engines", "job_title": "", "consent": "y"}


def option(question: Question, label: str) -> QuestionOption:
    return next(o for o in question.options if o.label == label)


def taken(option_id: int) -> int:
    db.session.expire_all()
    return db.session.get(QuestionOption, option_id).taken


def answers_of(invitation) -> dict[str, str]:
    _, by_person = answers.answers_by_person()
    questions = {q.id: q.label for q in db.session.scalars(select(Question))}
    return {questions[qid]: words for qid, words in by_person.get(invitation.id, {}).items()}


def everyone_asked():
    text = qf.question("What do you hope to take away?", QuestionKind.LONG_TEXT, help_text="A sentence or two.")
    team = qf.question("Your team", QuestionKind.SHORT_TEXT, required=True)
    lunch = qf.question("Staying for lunch?", QuestionKind.YES_NO)
    topics = qf.question("Topics you'd like covered", QuestionKind.MANY_CHOICES, options=["Data", "Housing", "Travel"])
    return text, team, lunch, qf.workshops(places=2), topics


@both_databases
def test_the_register_page_asks_each_question_accessibly_and_saves_the_answers(app, client):
    f.summit()
    text, team, lunch, workshops, topics = everyone_asked()
    inv = f.invitation()
    page = client.get(link(inv, "register")).get_data(as_text=True)
    # Each question is on the form, with its help text tied to it and "(optional)" where it is.
    assert (
        f'<label class="field__label" for="{text.field_name}">What do you hope to take away? <span class="muted">(optional)</span>'
        in page
    )
    assert f'aria-describedby="{text.field_name}-hint"' in page and "A sentence or two." in page
    assert (
        f'<fieldset class="field choices" id="{workshops.field_name}" aria-describedby="{workshops.field_name}-hint">'
        in page
    )
    assert '<legend class="field__label">Which theme&#39;s workshop would you like to join?</legend>' in page
    assert "Health and care (2 places left)" in page and 'type="checkbox"' in page

    health, data, travel = option(workshops, "Health and care"), option(topics, "Data"), option(topics, "Travel")
    response = client.post(
        link(inv, "register"),
        data={
            **FORM,
            text.field_name: "Ideas",
            team.field_name: "Policy",
            lunch.field_name: "yes",
            workshops.field_name: str(health.id),
            topics.field_name: [str(data.id), str(travel.id)],
        },
    )
    assert response.status_code == 302
    assert fresh(inv).state == S.REGISTERED
    assert answers_of(inv) == {
        "What do you hope to take away?": "Ideas",
        "Your team": "Policy",
        "Staying for lunch?": "yes",
        "Which theme's workshop would you like to join?": "Health and care",
        "Topics you'd like covered": "Data; Travel",
    }
    assert taken(health.id) == 1 and taken(data.id) == 1 and taken(travel.id) == 1
    # The change-details page shows them again, chosen.
    page = client.get(link(inv, "details")).get_data(as_text=True)
    assert (
        f'<input checked id="{workshops.field_name}-0" name="{workshops.field_name}" required type="radio" value="{health.id}">'
        in page
    )
    assert (
        f'<input checked id="{topics.field_name}-2" name="{topics.field_name}" type="checkbox" value="{travel.id}">'
        in page
    )
    assert 'value="Policy"' in page and "\nIdeas</textarea>" in page
    assert_summit_check_clean(app)


@both_databases
def test_a_required_question_left_blank_is_named_and_nothing_is_saved(app, client):
    f.summit()
    text, team, lunch, workshops, topics = everyone_asked()
    inv = f.invitation()
    response = client.post(link(inv, "register"), data={**FORM, text.field_name: ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Answer “Your team”: it&#39;s required." in page
    assert "Choose an answer to “Which theme&#39;s workshop would you like to join?”: it&#39;s required." in page
    assert f'<p class="field__error" id="{team.field_name}-error">' in page
    assert "Staying for lunch?" in page and "Staying for lunch?”" not in page  # optional: no error
    assert fresh(inv).state == S.INVITED
    assert db.session.scalar(select(func.count()).select_from(Answer)) == 0
    # The optional ones may stay blank.
    response = client.post(
        link(inv, "register"),
        data={**FORM, team.field_name: "Policy", workshops.field_name: str(option(workshops, "Net zero").id)},
    )
    assert response.status_code == 302 and fresh(inv).state == S.REGISTERED
    assert answers_of(inv) == {"Your team": "Policy", "Which theme's workshop would you like to join?": "Net zero"}


@both_databases
def test_a_full_option_is_shown_full_and_choosing_it_anyway_is_refused_with_a_sentence(app, client):
    f.summit()
    workshops = qf.workshops(places=1)
    health = option(workshops, "Health and care")
    first = f.invitation()
    journey.register(first, f.details(answers={workshops.id: [health.id]}))
    db.session.commit()

    second = f.invitation()
    page = client.get(link(second, "register")).get_data(as_text=True)
    assert f'disabled id="{workshops.field_name}-0"' in page or (
        f'id="{workshops.field_name}-0"' in page and "disabled" in page
    )
    assert "Health and care (full)" in page
    response = client.post(link(second, "register"), data={**FORM, workshops.field_name: str(health.id)})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "“Health and care” is full: all 1 places have been taken." in page
    assert fresh(second).state == S.INVITED  # the summit place went back with the rollback
    assert taken(health.id) == 1
    assert db.session.scalar(select(func.count()).select_from(Answer)) == 1
    # The one who holds it still sees it as theirs, not disabled, on their details page.
    page = client.get(link(first, "details")).get_data(as_text=True)
    assert "Health and care (full)" in page and "disabled" not in page.split("Health and care (full)")[0][-400:]
    assert_summit_check_clean(app)


@both_databases
def test_changing_the_answer_cancelling_handing_on_and_erasure_give_the_place_back(app, client):
    f.summit()
    workshops = qf.workshops(places=5)
    health, net_zero = option(workshops, "Health and care"), option(workshops, "Net zero")
    inv = f.invitation()
    journey.register(inv, f.details(answers={workshops.id: [health.id]}))
    db.session.commit()
    assert taken(health.id) == 1

    response = client.post(link(inv, "details"), data={**FORM, workshops.field_name: str(net_zero.id)})
    assert response.status_code == 302
    assert (taken(health.id), taken(net_zero.id)) == (0, 1)

    client.post(link(inv, "cancel"))
    assert fresh(inv).state == S.CANCELLED and taken(net_zero.id) == 0
    assert_summit_check_clean(app)

    # Registering again takes a place again; handing on gives it back (the colleague chooses their own).
    response = client.post(link(inv, "register"), data={**FORM, workshops.field_name: str(net_zero.id)})
    assert response.status_code == 302 and taken(net_zero.id) == 1
    client.post(link(inv, "colleague"), data={"name": "Sam Colleague", "email": "sam@example.org", "organisation": "X"})
    assert fresh(inv).state == S.HANDED_ON and taken(net_zero.id) == 0
    assert_summit_check_clean(app)

    other = f.invitation()
    journey.register(other, f.details(answers={workshops.id: [health.id]}))
    db.session.commit()
    assert taken(health.id) == 1
    client.post(link(other, "erase"))
    assert fresh(other).erased_at is not None and taken(health.id) == 0
    assert db.session.scalar(select(func.count()).select_from(Answer).where(Answer.invitation_id == other.id)) == 0
    assert_summit_check_clean(app)


@both_databases
def test_summit_check_reports_a_tampered_option_counter(app, runner):
    f.summit()
    workshops = qf.workshops(places=5)
    health = option(workshops, "Health and care")
    journey.register(f.invitation(), f.details(answers={workshops.id: [health.id]}))
    db.session.commit()
    assert runner.invoke(args=["summit", "check"]).exit_code == 0
    db.session.execute(update(QuestionOption).where(QuestionOption.id == health.id).values(taken=3))
    db.session.commit()
    result = runner.invoke(args=["summit", "check"])
    assert result.exit_code == 1
    assert "places counter of “Health and care”" in result.output and "1 (answers choosing it)" in result.output
    repaired = runner.invoke(args=["summit", "check", "--repair"])
    assert repaired.exit_code == 0 and "Repaired 1 question option counter(s)." in repaired.output
    db.session.expire_all()
    assert db.session.get(QuestionOption, health.id).taken == 1


@both_databases
def test_answers_are_in_the_delegates_own_export_and_gone_after_erasure(app, client):
    f.summit()
    text, team, lunch, workshops, topics = everyone_asked()
    inv = f.invitation()
    client.post(
        link(inv, "register"),
        data={
            **FORM,
            text.field_name: "Meet the housing team",
            team.field_name: "Strategy unit",
            workshops.field_name: str(option(workshops, "Communities").id),
        },
    )
    token_page = link(inv, "my-data.json")
    exported = client.get(token_page).get_json()
    assert {"question": "Your team", "answer": "Strategy unit"} in [
        {k: a[k] for k in ("question", "answer")} for a in exported["answers"]
    ]
    assert {a["answer"] for a in exported["answers"]} == {"Meet the housing team", "Strategy unit", "Communities"}

    client.post(link(inv, "erase"))
    assert db.session.scalar(select(func.count()).select_from(Answer).where(Answer.invitation_id == inv.id)) == 0


@both_databases
def test_answers_are_in_the_organisers_csv_and_summarised_on_the_dashboard(app, client):
    f.summit()
    text, team, lunch, workshops, topics = everyone_asked()
    for name, theme, wrote in (
        ("Ann Able", "Net zero", "Data"),
        ("Bob Best", "Net zero", ""),
        ("Cy Cole", "Communities", ""),
    ):
        inv = f.invitation(name=name)
        journey.register(
            inv,
            f.details(
                name=name,
                answers={
                    workshops.id: [option(workshops, theme).id],
                    team.id: f"Team of {name}",
                    text.id: wrote,
                    topics.id: [option(topics, "Housing").id],
                },
            ),
        )
    db.session.commit()
    f.sign_in(client, f.user())
    body = client.get("/organiser/exports/delegates.csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    header = rows[0]
    for q in (text, team, lunch, workshops, topics):
        assert q.label in header
    ann = next(r for r in rows if r[0] == "Ann Able")
    assert ann[header.index(workshops.label)] == "Net zero"
    assert ann[header.index(team.label)] == "Team of Ann Able"
    assert ann[header.index(text.label)] == "Data" and ann[header.index(lunch.label)] == ""

    page = client.get("/organiser/").get_data(as_text=True)
    section = page.split('id="questions-heading"')[1].split("</section>")[0]
    assert "What do you hope to take away?: 1 registered delegate answered" in section
    assert "Your team: 3 registered delegates answered" in section
    net_zero_row = section.split('<th scope="row">Net zero</th>')[1].split("</tr>")[0]
    assert '<td class="num">2</td><td class="num">2 (full)</td>' in net_zero_row
    assert '<th scope="row">Housing</th><td class="num">3</td>' in section


def _question_form(**overrides) -> dict:
    data = {"label": "Which workshop?", "kind": "one_choice", "help_text": "Pick one", "required": "y"}
    data.update(overrides)
    return data


@both_databases
def test_organisers_add_edit_reorder_hide_and_delete_questions_and_each_is_audited(app, client):
    f.summit()
    f.sign_in(client, f.user(name="Olive Organiser"))
    response = client.post(
        "/organiser/questions/new",
        data=_question_form(
            option_1_label="Health", option_1_places="90", option_2_label="Net zero", option_2_places="90"
        ),
    )
    assert response.status_code == 302
    workshops = db.session.scalars(select(Question)).one()
    assert [(o.label, o.places) for o in workshops.options] == [("Health", 90), ("Net zero", 90)]
    assert workshops.required and workshops.help_text == "Pick one"
    client.post("/organiser/questions/new", data={"label": "Your team", "kind": "short_text"})
    team = db.session.scalars(select(Question).where(Question.label == "Your team")).one()
    assert [q.label for q in db.session.scalars(select(Question).order_by(Question.position))] == [
        "Which workshop?",
        "Your team",
    ]
    assert client.post(f"/organiser/questions/{team.id}/move", data={"direction": "up"}).status_code == 302
    db.session.expire_all()
    assert [q.label for q in db.session.scalars(select(Question).order_by(Question.position))] == [
        "Your team",
        "Which workshop?",
    ]
    # Edit: rename an option, add a third, raise a limit.
    response = client.post(
        f"/organiser/questions/{workshops.id}",
        data=_question_form(
            option_1_label="Health and care",
            option_1_places="100",
            option_2_label="Net zero",
            option_2_places="90",
            option_3_label="Communities",
        ),
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert [(o.label, o.places) for o in db.session.get(Question, workshops.id).options] == [
        ("Health and care", 100),
        ("Net zero", 90),
        ("Communities", None),
    ]
    listing = client.get("/organiser/questions").get_data(as_text=True)
    assert "Health and care: 0 chosen of 100 places" in listing and "Move up" in listing and "Delete" in listing

    # Answered: it can be hidden (off the forms, answers kept) but not deleted.
    inv = f.invitation()
    journey.register(inv, f.details(answers={workshops.id: [db.session.get(Question, workshops.id).options[0].id]}))
    db.session.commit()
    response = client.post(f"/organiser/questions/{workshops.id}/delete")
    assert response.status_code == 302
    assert db.session.get(Question, workshops.id) is not None
    assert "has 1 answer, so it can&#39;t be deleted: hide it instead" in client.get("/organiser/questions").get_data(
        as_text=True
    )
    client.post(f"/organiser/questions/{workshops.id}/hide")
    assert db.session.get(Question, workshops.id).hidden
    assert "Which workshop?" not in client.get(link(f.invitation(), "register")).get_data(as_text=True)
    assert answers_of(inv) == {"Which workshop?": "Health and care"}
    client.post(f"/organiser/questions/{workshops.id}/show")
    assert not db.session.get(Question, workshops.id).hidden
    # Unanswered: deleted.
    assert client.post(f"/organiser/questions/{team.id}/delete").status_code == 302
    assert db.session.get(Question, team.id) is None

    audit = client.get("/organiser/audit/").get_data(as_text=True)
    for sentence in (
        "Olive Organiser added the registration question “Which workshop?”.",
        "Olive Organiser moved up the registration question “Your team”.",
        "Olive Organiser edited the registration question “Which workshop?”.",
        "Olive Organiser hid the registration question “Which workshop?”.",
        "Olive Organiser showed the registration question “Which workshop?”.",
        "Olive Organiser deleted the registration question “Your team”.",
    ):
        assert sentence in audit


@both_databases
def test_bad_questions_are_refused_with_422_and_the_field_named(app, client):
    f.summit()
    f.sign_in(client, f.user())
    cases = [
        (_question_form(option_1_label="Only one"), "option_2_label", "A choice question needs at least two options"),
        (
            _question_form(option_1_label="A", option_2_label="B", option_2_places="0"),
            "option_2_places",
            "Enter a number of places from 1 to 100,000",
        ),
        (
            _question_form(kind="many_choices", option_1_label="A", option_2_label="B", option_1_places="5"),
            "option_1_places",
            "Only a one-choice question can limit an option&#39;s places",
        ),
        (_question_form(label="", option_1_label="A", option_2_label="B"), "label", "Enter the question."),
        (_question_form(option_1_label="A", option_2_label="a"), "option_2_label", "is listed twice"),
    ]
    for data, field, sentence in cases:
        response = client.post("/organiser/questions/new", data=data)
        page = response.get_data(as_text=True)
        assert response.status_code == 422, data
        assert f'<p class="field__error" id="{field}-error">' in page and sentence in page, (field, page[:0])
    assert db.session.scalar(select(func.count()).select_from(Question)) == 0

    # A limit below the places already taken is refused, naming the option's places.
    workshops = qf.workshops(places=3)
    health = option(workshops, "Health and care")
    for _ in range(2):
        journey.register(f.invitation(), f.details(answers={workshops.id: [health.id]}))
    db.session.commit()
    rows = {f"option_{n}_label": theme for n, theme in enumerate(qf.THEMES, start=1)}
    response = client.post(
        f"/organiser/questions/{workshops.id}", data=_question_form(label=workshops.label, **rows, option_1_places="1")
    )
    assert response.status_code == 422
    assert "2 places of “Health and care” are taken already" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(QuestionOption, health.id).places == 3
    # An option somebody chose can't be removed; the kind of an answered question can't change.
    response = client.post(
        f"/organiser/questions/{workshops.id}",
        data=_question_form(label=workshops.label, **{**rows, "option_1_label": ""}),
    )
    assert response.status_code == 422 and "has been chosen by 2 people" in response.get_data(as_text=True)
    response = client.post(
        f"/organiser/questions/{workshops.id}", data=_question_form(label=workshops.label, kind="many_choices", **rows)
    )
    assert response.status_code == 422 and "its kind can&#39;t change" in response.get_data(as_text=True)
    assert client.get("/organiser/questions/9999").status_code == 404


def test_a_person_created_by_import_registers_with_answers_left_alone_when_none_are_given(app):
    """Callers that don't pass answers (the CLI, the offer path's details) leave a person's answers as they are."""
    f.summit()
    workshops = qf.workshops(places=2)
    inv = people.create_invitation(people.InviteeData(email="x@example.org", name="X Y", organisation="Z"))
    db.session.commit()
    journey.register(inv, f.details())
    db.session.commit()
    journey.update_details(inv, f.details(answers={workshops.id: [option(workshops, "Net zero").id]}))
    db.session.commit()
    journey.update_details(inv, f.details(name="X Z"))
    db.session.commit()
    assert answers_of(inv) == {workshops.label: "Net zero"} and taken(option(workshops, "Net zero").id) == 1


@both_databases
def test_a_registered_persons_page_shows_their_answers_in_their_details(app, client):
    f.summit()
    text, team, lunch, workshops, topics = everyone_asked()
    hidden = qf.question("Old question", QuestionKind.SHORT_TEXT)
    data, travel = option(topics, "Data"), option(topics, "Travel")
    ada = f.invitation(name="Ada Lovelace")
    chosen = {
        team.id: "Policy <& planning>",
        lunch.id: "yes",
        topics.id: [travel.id, data.id],
        hidden.id: "kept, not shown",
    }
    journey.register(ada, f.details(answers=chosen))  # the long-text question and the workshop left unanswered
    hidden.hidden = True
    db.session.commit()

    page = client.get(link(ada)).get_data(as_text=True)
    details = page[page.index('id="details-heading"') : page.index("</section>", page.index('id="details-heading"'))]
    # In the organisers' order, as words; escaped like every other value on the page.
    assert (
        "<dt>Your team</dt><dd>Policy &lt;&amp; planning&gt;</dd>"
        "<dt>Staying for lunch?</dt><dd>Yes</dd>"
        "<dt>Topics you&#39;d like covered</dt><dd>Data; Travel</dd>"
    ) in details
    assert "What do you hope to take away?" not in details and "workshop" not in details  # unanswered
    assert "Old question" not in details and "kept, not shown" not in page  # hidden from the forms, so from here
