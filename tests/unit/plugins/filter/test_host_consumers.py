# -*- coding: utf-8 -*-
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.agentarea.secrets.plugins.filter.host_consumers import (
    consumer_value, host_consumer_summary, host_consumers)

GROUPS = {"all": ["web1", "web2", "db1", "localhost"], "ungrouped": ["localhost"], "web": ["web1", "web2"],
          "prod": ["web1", "db1"], "db": ["db1"]}
ENTRIES = [
    {"name": "db", "store": "vault://secret/db", "target": {"admin_password": "inline-secret"}, "consumers": [
        {"k8s": {"namespace": "a", "secret": "b"}},
        {"env_file": {"path": "/srv/app/.env", "key": "DATABASE_URL",
                      "template": "postgresql://{username}:{password:url}@db/app"}, "hosts": "web:&prod"},
        {"file": {"path": "/srv/db/password", "field": "password", "owner": "postgres", "mode": "0400"},
         "hosts": ["db", "web2"]},
    ]},
    {"name": "token", "store": "env://TOKEN", "consumers": [{"file": {"path": "/x"}, "hosts": "nowhere*"}]},
]


def test_one_host_gets_only_its_consumers_without_the_entry():
    items = host_consumers(ENTRIES, GROUPS, "web1")
    assert [(i["name"], i["index"], i["path"], i["key"]) for i in items] == [
        ("db", 1, "/srv/app/.env", "DATABASE_URL")]
    assert items[0]["label"] == "db: env_file /srv/app/.env#DATABASE_URL"
    assert "inline-secret" not in repr(items)
    web2 = host_consumers(ENTRIES, GROUPS, "web2")
    assert [(i["path"], i["owner"], i["mode"]) for i in web2] == [("/srv/db/password", "postgres", "0400")]
    assert host_consumers(ENTRIES, GROUPS, "localhost") == []


def test_all_consumers_with_the_hosts_they_match():
    items = host_consumers(ENTRIES, GROUPS, play_hosts=["web1", "web2"])
    assert [(i["matched"], i["in_play"]) for i in items] == [
        (["web1"], ["web1"]), (["db1", "web2"], ["web2"]), ([], [])]


def test_consumer_value_template_field_and_errors():
    value = {"username": "app", "password": "p@ss"}
    web1 = host_consumers(ENTRIES, GROUPS, "web1")[0]
    assert consumer_value(value, web1) == "postgresql://app:p%40ss@db/app"
    assert consumer_value(value, host_consumers(ENTRIES, GROUPS, "db1")[0]) == "p@ss"
    with pytest.raises(AnsibleFilterError) as err:
        consumer_value({"user": "app", "pw": "p@ss"}, web1)
    assert "catalog entry 'db' consumers[1]" in str(err.value) and "p@ss" not in str(err.value)


def test_summary_counts_by_host():
    def reg(*results):
        return {"results": list(results), "changed": any(r.get("changed") for r in results)}
    item = host_consumers(ENTRIES, GROUPS, "web1")[0]
    hostvars = {"web1": {"r": reg({"changed": True, "item": item})},
                "web2": {"r": reg({"changed": False, "item": item}, {"msg": "permission denied", "item": item})},
                "db1": {"r": {"unreachable": True, "msg": "ssh"}}, "localhost": {}}
    summary = host_consumer_summary(["web1", "web2", "db1", "localhost"], hostvars, "r")
    assert (summary["consumers"], summary["changed"], summary["in_sync"], summary["failed"], summary["hosts"]) == (
        3, 1, 1, 2, 2)
    assert summary["changed_on"] == ["web1: db: env_file /srv/app/.env#DATABASE_URL"]
    assert summary["failed_on"] == ["web2: db: env_file /srv/app/.env#DATABASE_URL: permission denied",
                                    "db1: unreachable"]
    assert summary["entries_changed"] == ["db"]
