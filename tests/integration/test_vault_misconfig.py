# -*- coding: utf-8 -*-
"""A Vault namespace or mount that does not exist is a configuration error, never a missing secret (issues 13 and
14): ``on_missing: skip`` must not turn it into an empty result, and ``rotate`` must not take it for a first
credential. Against the harness's OpenBao, through ansible-playbook; set-up and checks with hvac."""
import pytest

pytest_plugins = ["tests.harness.vault_fixtures"]  # vault, root, prefix
pytestmark = pytest.mark.integration

CANARY = "misconfig-canary-3f9b2d"


def play(tasks):
    return [{"hosts": "localhost", "gather_facts": False, "tasks": tasks}]


def env_for(vault, **extra):
    return dict({"VAULT_ADDR": vault["url"], "VAULT_TOKEN": vault["token"]}, **extra)


def lookup_task(term, **kwargs):
    args = "".join(", %s='%s'" % (k, v) for k, v in sorted(kwargs.items()))
    return {"name": "read", "ansible.builtin.set_fact": {
        "found": "{{ query('agentarea.secrets.vault', '%s'%s) }}" % (term, args)}}


def test_on_missing_skip_does_not_hide_a_missing_namespace_or_mount(ansible, vault, root, prefix):
    root.secrets.kv.v2.create_or_update_secret(prefix + "/here", {"v": CANARY})
    try:
        # control: a missing secret under a real mount is skipped
        ok = ansible.playbook(play([lookup_task(prefix + "/gone", key="v", on_missing="skip"),
                                    {"name": "count", "ansible.builtin.assert": {"that": ["found == []"]}}]),
                              env=env_for(vault), canaries=[CANARY])
        assert ok.rc == 0
        mount = "nomount-" + prefix[-8:]
        bad_mount = ansible.playbook(play([lookup_task("app", key="v", mount=mount, on_missing="skip")]),
                                     env=env_for(vault), canaries=[CANARY], expect_rc=2)
        out = bad_mount.output
        assert "the mount does not exist" in out and "mount '%s'" % mount in out and vault["url"] in out, out
        assert "%s/app" % mount in out
        namespace = "nons-" + prefix[-8:]
        bad_ns = ansible.playbook(play([lookup_task(prefix + "/here", key="v", on_missing="skip")]),
                                  env=env_for(vault, VAULT_NAMESPACE=namespace), canaries=[CANARY], expect_rc=2)
        out = bad_ns.output
        assert "the namespace does not exist" in out and "namespace '%s'" % namespace in out, out
        # the same through the generic lookup and the secret_info module
        via_ref = ansible.playbook(play([{"name": "read", "ansible.builtin.set_fact": {
            "found": "{{ query('agentarea.secrets.secret', 'vault://%s/app#v', on_missing='skip') }}" % mount}}]),
            env=env_for(vault), canaries=[CANARY], expect_rc=2)
        assert "the mount does not exist" in via_ref.output
    finally:
        root.secrets.kv.v2.delete_metadata_and_all_versions(prefix + "/here")


def test_rotate_on_a_missing_mount_fails_instead_of_creating(ansible, vault, prefix):
    mount = "nomount-" + prefix[-8:]
    res = ansible.playbook(play([{"name": "rotate", "agentarea.secrets.rotate": {
        "store": "vault://%s/app#token" % mount, "kind": "static"}}]), env=env_for(vault), expect_rc=2)
    r = res.task("rotate")
    assert "the mount does not exist" in r["msg"] and r["changed"] is False, r
