"""Rules kept in the one place the README names: the people domain's email goes through `tell`, and a leader's
actions share one ownership guard."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def calls(path: Path, name: str) -> list[int]:
    """The lines of `path` that call `name` (as a bare name or an attribute)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call):
            func = node.func
            called = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if called == name:
                found.append(node.lineno)
    return found


def test_every_email_about_a_person_is_queued_through_tell():
    queued_by_hand = {
        str(path.relative_to(ROOT)): lines
        for path in sorted((ROOT / "invitations").rglob("*.py"))
        if path.name != "mailing.py" and (lines := calls(path, "enqueue"))
    }
    assert queued_by_hand == {}


def test_a_leaders_actions_check_ownership_with_one_guard():
    source = (ROOT / "invitations" / "chasing.py").read_text()
    assert source.count("champion_id != leader.id") == 1
    for action in ("nudge", "add_note", "set_dont_chase", "invitee_for_leader"):
        body = next(
            node for node in ast.parse(source).body if isinstance(node, ast.FunctionDef) and node.name == action
        )
        assert "ensure_their_invitee" in ast.unparse(body), action


ONE_BUTTON_POSTS = {
    "invitations/organiser_routes.py": ("revoke_invitation", "send_invitation", "reissue_link"),
    "app/badges/routes.py": ("set_role",),
    "app/dashboards/routes.py": ("assign_champion", "champions"),
    "app/dashboards/wording_routes.py": ("reset",),
}


def test_organisers_one_button_posts_commit_through_run_action():
    for path, views in ONE_BUTTON_POSTS.items():
        functions = {
            node.name: node for node in ast.parse((ROOT / path).read_text()).body if isinstance(node, ast.FunctionDef)
        }
        for view in views:
            body = ast.unparse(functions[view])
            assert "run_action(" in body and ".commit()" not in body, f"{path} {view}"
