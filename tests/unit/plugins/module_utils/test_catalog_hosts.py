# -*- coding: utf-8 -*-
"""Consumers on managed hosts (``hosts:``) in the catalog."""
import pytest

from ansible_collections.agentarea.secrets.plugins.module_utils import _catalog
from ansible_collections.agentarea.secrets.plugins.module_utils.distribution._distribute import Distributor

BASE = {"name": "app-token", "owner": "platform", "purpose": "app", "store": "vault://secret/app#token"}


def problems(*consumers):
    return _catalog.validate_catalog([dict(BASE, consumers=list(consumers))])


@pytest.mark.parametrize("consumer", [
    {"env_file": {"path": "/srv/app/.env", "key": "TOKEN"}, "hosts": "app"},
    {"env_file": {"path": "/srv/app/.env", "key": "TOKEN"}, "hosts": "web:&prod"},
    {"file": {"path": "/srv/app/token", "owner": "app", "group": "app", "mode": "0640", "follow": True},
     "hosts": ["app", "worker"]},
])
def test_host_consumers_are_valid(consumer):
    assert problems(consumer) == []
    assert _catalog.host_patterns(consumer) == ([consumer["hosts"]] if isinstance(consumer["hosts"], str)
                                                else consumer["hosts"])


@pytest.mark.parametrize("consumer,message", [
    ({"k8s": {"namespace": "a", "secret": "b"}, "hosts": "app"}, "only env_file and file consumers"),
    ({"docker": {"secret": "b"}, "hosts": "app"}, "not docker"),
    ({"env_file": {"path": "/x", "key": "K"}, "hosts": ""}, "hosts must be an Ansible host pattern"),
    ({"env_file": {"path": "/x", "key": "K"}, "hosts": []}, "hosts must be an Ansible host pattern"),
    ({"env_file": {"path": "/x", "key": "K"}, "hosts": ["app", 3]}, "hosts must be an Ansible host pattern"),
    ({"env_file": {"path": "/x", "key": "K"}, "hosts": {"app": 1}}, "hosts must be an Ansible host pattern"),
    ({"file": {"path": "/x"}, "hosts": "app", "restart": ["deployment/api"]}, "restart"),
    ({"file": {"path": "/x", "owner": "app"}}, "file.owner is applied only by the hosts"),
])
def test_bad_host_consumers_name_entry_and_consumer(consumer, message):
    found = problems({"file": {"path": "/ok"}}, consumer)
    assert len(found) == 1 and found[0].startswith("catalog entry 'app-token': consumers[1].") and message in found[0]


def test_distribute_leaves_host_consumers_to_the_hosts():
    writes = []

    class Backend:
        def read(self, ref):
            raise AssertionError("a consumer on hosts was read on the controller")

        def write(self, ref, value, **kw):
            writes.append(ref)

    dist = Distributor(lambda scheme: Backend(), lambda v: "fp")
    results, restarts = dist.run("app-token", "v", [{"file": {"path": "/srv/app/token"}, "hosts": "app"}])
    assert writes == [] and restarts == []
    assert results == [{"type": "file", "target": "file /srv/app/token", "changed": False, "state": "on_hosts",
                        "hosts": ["app"]}]
