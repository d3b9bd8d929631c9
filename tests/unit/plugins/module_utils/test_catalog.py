# -*- coding: utf-8 -*-
import pytest

from ansible_collections.agentarea.secrets.plugins.module_utils import _catalog

GOOD = {
    "name": "database", "owner": "platform-team", "purpose": "API database access",
    "store": "vault://secret/agentarea/database", "kind": "postgres",
    "rotation": {"every": "30d", "strategy": "alternating"},
    "consumers": [{"k8s": {"namespace": "agentarea", "secret": "agentarea-secrets", "key": "database-url"},
                   "restart": ["deployment/agentarea-api"]},
                  {"docker": {"secret": "db_password", "services": ["agentarea-api"]}}],
    "tags": ["prod", "database"],
}


def test_valid_entry_has_no_problems():
    assert _catalog.validate_catalog([GOOD]) == []


@pytest.mark.parametrize("change,message", [
    ({"name": ""}, "'name' is required"),
    ({"store": "vault:/x"}, "'store'"),
    ({"kind": "oracle"}, "'kind' must be one of"),
    ({"rotation": {"every": "monthly"}}, "rotation.every"),
    ({"rotation": {"strategy": "yolo"}}, "rotation.strategy"),
    ({"consumers": [{"k8s": {}, "docker": {}}]}, "consumers[0] must name exactly one"),
    ({"consumers": [{"k8s": {}, "restart": ["pod/x"]}]}, "restart 'pod/x'"),
])
def test_problems_name_entry_and_field(change, message):
    entry = dict(GOOD, **change)
    problems = _catalog.validate_catalog([entry])
    assert problems and message in problems[0]


def test_duplicate_names():
    assert "used twice" in _catalog.validate_catalog([GOOD, GOOD])[0]


def test_durations():
    assert _catalog.parse_duration("30d") == 30 * 86400
    assert _catalog.parse_duration("2w") == 14 * 86400
    assert _catalog.parse_duration(90) == 90
    with pytest.raises(ValueError):
        _catalog.parse_duration("30 days")


def test_select():
    other = dict(GOOD, name="jwt", tags=["prod", "auth"])
    assert [e["name"] for e in _catalog.select([GOOD, other], tags=["auth"])] == ["jwt"]
    assert [e["name"] for e in _catalog.select([GOOD, other], names=["database"])] == ["database"]
    assert len(_catalog.select([GOOD, other])) == 2
    with pytest.raises(ValueError):
        _catalog.select([GOOD], names=["nope"])


def test_templates_are_not_jinja_and_url_encode():
    fields = {"username": "app", "password": "p@ss/w:rd{{ x }}"}
    out = _catalog.render_template("postgresql://{username}:{password:url}@db/app", fields)
    assert out == "postgresql://app:p%40ss%2Fw%3Ard%7B%7B%20x%20%7D%7D@db/app"
    with pytest.raises(KeyError):
        _catalog.render_template("{missing}", fields)


def test_compliance_and_due():
    assert _catalog.compliance(dict(GOOD, owner=None), None)[0]["check"] == "owner"
    old = _catalog.compliance(GOOD, {"exists": True, "age_days": 45})
    assert old[0]["check"] == "age" and old[0]["severity"] == "violation"
    assert _catalog.compliance(GOOD, {"exists": True, "age_days": None})[0]["severity"] == "warning"
    assert _catalog.is_due(GOOD, 31) and not _catalog.is_due(GOOD, 29)
