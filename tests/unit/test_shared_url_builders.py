"""The URL builders the tests' apps share (tests/support/apps.py) are, rule by rule, the code Werkzeug compiles afresh."""

from tests.support.apps import compile_url_builder_afresh


def test_every_rule_builds_with_the_code_werkzeug_would_compile_for_it(app):
    rules = list(app.url_map.iter_rules())
    assert len(rules) > 50
    for rule in rules:
        for append_unknown, bound in ((False, rule._build), (True, rule._build_unknown)):
            assert bound.__self__ is rule
            assert bound.__func__.__code__ == compile_url_builder_afresh(rule, append_unknown).__code__, rule.rule
