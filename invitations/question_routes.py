"""The organisers' registration questions: list, add, edit, reorder, hide or show, delete."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user

from app.core.actions import run_action
from app.core.auth.decorators import mark, organiser_required
from app.core.errors import NotFound
from app.core.forms import ConfirmForm
from invitations import questions
from invitations.forms import OPTION_ROWS, QuestionForm
from invitations.question_models import Question, QuestionKind

bp = Blueprint("questions", __name__, url_prefix="/organiser/questions")


def _question_or_404(question_id: int) -> Question:
    try:
        return questions.get_question(question_id)
    except NotFound:
        abort(404)


def _data(form: QuestionForm) -> questions.QuestionData:
    return questions.QuestionData(
        label=form.label.data or "",
        kind=QuestionKind(form.kind.data),
        help_text=form.help_text.data or "",
        required=bool(form.required.data),
        options=[
            (form[f"option_{n}_label"].data or "", form[f"option_{n}_places"].data) for n in range(1, OPTION_ROWS + 1)
        ],
    )


def _page(form: QuestionForm, question: Question | None):
    status = 422 if form.is_submitted() else 200
    rows = [(form[f"option_{n}_label"], form[f"option_{n}_places"]) for n in range(1, OPTION_ROWS + 1)]
    return render_template("invitations/organiser_question_form.html", form=form, question=question, rows=rows), status


@bp.get("")
@organiser_required
def index():
    return render_template(
        "invitations/organiser_questions.html",
        summaries=questions.summaries(),
        answered={q.id: questions.answer_count(q.id) for q in questions.all_questions()},
        form=ConfirmForm(),
    )


@bp.route("/new", methods=["GET", "POST"])
@organiser_required
def new():
    form = QuestionForm()
    if form.validate_on_submit():
        done = run_action(
            lambda: questions.add_question(_data(form), actor=current_user),
            form=form,
            success=lambda q: f"“{q.label}” is added. Delegates see it when they register or change their details.",
        )
        if done.ok:
            return redirect(url_for(".index"))
    return _page(form, None)


@bp.route("/<int:question_id>", methods=["GET", "POST"])
@organiser_required
def edit(question_id: int):
    question = _question_or_404(question_id)
    form = QuestionForm(obj=question)
    if not form.is_submitted():
        form.kind.data = question.kind.value
        for n, option in enumerate(question.options, start=1):
            form[f"option_{n}_label"].data = option.label
            form[f"option_{n}_places"].data = option.places
    if form.validate_on_submit():
        done = run_action(
            lambda: questions.edit_question(question, _data(form), actor=current_user),
            form=form,
            success=lambda q: f"“{q.label}” is saved.",
        )
        if done.ok:
            return redirect(url_for(".index"))
    return _page(form, question)


def _one_button(question_id: int, action, success: str | None = None):
    question = _question_or_404(question_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    run_action(lambda: action(question), success=success)
    return redirect(url_for(".index"))


@bp.post("/<int:question_id>/move")
@organiser_required
def move(question_id: int):
    direction = request.form.get("direction", "")
    if direction not in ("up", "down"):
        abort(400)
    return _one_button(question_id, lambda q: questions.move_question(q, direction, actor=current_user))


@bp.post("/<int:question_id>/hide")
@organiser_required
def hide(question_id: int):
    return _one_button(
        question_id,
        lambda q: questions.set_hidden(q, True, actor=current_user),
        "The question is hidden: the forms no longer ask it, and its answers are kept.",
    )


@bp.post("/<int:question_id>/show")
@organiser_required
def show(question_id: int):
    return _one_button(
        question_id,
        lambda q: questions.set_hidden(q, False, actor=current_user),
        "The question is shown on the forms again.",
    )


@bp.post("/<int:question_id>/delete")
@organiser_required
def delete(question_id: int):
    return _one_button(
        question_id, lambda q: questions.delete_question(q, actor=current_user), "The question is deleted."
    )


for _view in (new, edit):
    mark(_view, rerenders_stale_form=True)
