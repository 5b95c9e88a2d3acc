from __future__ import annotations

import pytest

from pressrun import CampaignError, RowError
from pressrun.rules import Rules
from pressrun.templating import make_environment

COLORWAYS = ["midnight", "sunrise"]


def rules(colorway=None, computed=None):
    return Rules(make_environment(), computed or {}, colorway, COLORWAYS)


def test_rule_selects_one_colorway_per_recipient():
    rule = rules("'sunrise' if r.growth >= 50 else 'midnight'")
    assert rule.apply({"growth": 50})[1] == ["sunrise"]
    assert rule.apply({"growth": 49.9})[1] == ["midnight"]


def test_all_literal_and_all_result_and_lists():
    assert rules(None).apply({})[1] == COLORWAYS
    assert rules("all").apply({})[1] == COLORWAYS
    assert rules("'all' if r.vip else 'midnight'").apply({"vip": True})[1] == COLORWAYS
    assert rules("['sunrise', 'sunrise']").apply({})[1] == ["sunrise"]


def test_computed_fields_feed_later_rules_and_the_record():
    rule = rules("'sunrise' if r.tier == 'gold' else 'midnight'", {"tier": "'gold' if r.points > 10 else 'std'"})
    record, colorways = rule.apply({"points": 11})
    assert record.tier == "gold" and colorways == ["sunrise"]


def test_syntax_error_is_a_campaign_error():
    with pytest.raises(CampaignError, match="rule 'colorway': syntax error"):
        rules("'a' if")


@pytest.mark.parametrize(
    ("source", "values", "reason"),
    [
        ("'neon'", {}, "the colorway rule gave 'neon'; colorways: midnight, sunrise"),
        ("42", {}, "the colorway rule gave 42, not a colorway name"),
        ("'sunrise' if r.growth > 1 else 'midnight'", {"growth": None}, "rule 'colorway' failed"),
        ("r.nope", {}, "has no attribute 'nope'"),
    ],
)
def test_rule_failures_reject_the_recipient(source, values, reason):
    with pytest.raises(RowError) as caught:
        rules(source).apply(values)
    assert caught.value.field == "colorway"
    assert reason in caught.value.reason
