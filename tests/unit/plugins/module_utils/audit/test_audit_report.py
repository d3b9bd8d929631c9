# -*- coding: utf-8 -*-
"""Secret access monitoring: reads per secret, actor and day, and unusual readers, from audit events."""
import json

import pytest

from ansible_collections.agentarea.secrets.plugins.module_utils.audit._report import in_hours, summarise
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import InvalidOption


def ev(day, hour, actor, ref="vault://secret/app/db#password", outcome="ok", action="read"):
    return {"time": "2026-03-%02dT%02d:00:00Z" % (day, hour), "actor": actor, "action": action, "ref": ref,
            "outcome": outcome, "fingerprint": "hmac-sha256:00"}


def test_summary_and_unusual_readers():
    events = [ev(d, 9, "alice@ci") for d in range(1, 10)] + [
        ev(9, 10, "alice@ci", "vault://secret/app/jwt"), ev(10, 2, "bob@ci"), ev(10, 11, "alice@ci"),
        ev(10, 11, "alice@ci", "vault://secret/app/api?version=2"), ev(10, 12, "eve@x", outcome="denied"),
        ev(10, 12, "alice@ci", action="write"), {"time": "garbage"}, ev(20, 9, "late@x")]
    report = summarise(events, until="2026-03-11T00:00:00Z", days=30, recent_days=1, usual_hours=[7, 19],
                       catalog=[{"name": "database", "store": "vault://secret/app/db"}])
    assert report["reads"] == 13 and report["denied"] == 1
    per_secret = dict((s["secret"], s) for s in report["per_secret"])
    assert per_secret["database"]["reads"] == 11
    assert per_secret["database"]["actors"] == ["alice@ci", "bob@ci", "eve@x"]
    assert "vault://secret/app/api" in per_secret  # #key and ?version are dropped
    assert [(u["actor"], u["secret"], u["reasons"]) for u in report["unusual"]] == [
        ("bob@ci", "database", ["new_actor", "off_hours"]),
        ("alice@ci", "vault://secret/app/api", ["new_reader"]),
        ("eve@x", "database", ["new_actor", "denied"])]
    assert "hmac" not in json.dumps(report)
    assert report["per_day"][-1]["day"] == "2026-03-10" and len(report["daily"]) == 14


def test_hours_wrap_and_options():
    assert in_hours(23, [22, 6]) and in_hours(3, [22, 6]) and not in_hours(12, [22, 6])
    assert in_hours(3, [])
    with pytest.raises(InvalidOption):
        summarise([], days=1, recent_days=2)
    with pytest.raises(InvalidOption):
        summarise([], usual_hours=[7])
