# -*- coding: utf-8 -*-
"""A missing Python SDK and a store that is down: one clear message naming the reference and the cause, for
lookups and modules, without a traceback and without the value."""
import socket

import pytest

CANARY = "canary-5e77a1-errors"


def closed_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def _play(expr_or_task):
    return """
    - hosts: localhost
      gather_facts: false
      tasks:
        - name: try
          %s
    """ % expr_or_task


@pytest.fixture
def no_hvac(tmp_path):
    shim = tmp_path / "shim" / "hvac"
    shim.mkdir(parents=True)
    (shim / "__init__.py").write_text("raise ImportError('No module named hvac (test shim)')\n")
    return {"PYTHONPATH": str(shim.parent)}


def test_missing_sdk_in_lookup(ansible, no_hvac):
    task = ("ansible.builtin.set_fact:\n            x: \"{{ lookup('agentarea.secrets.secret', "
            "'vault://secret/agentarea/database#url', url='http://127.0.0.1:8200', token='%s') }}\"" % CANARY)
    result = ansible.playbook(_play(task), env=no_hvac, expect_rc=2, canaries=[CANARY])
    assert "'vault://secret/agentarea/database#url'" in result.output
    assert "hvac" in result.output and "pip" in result.output
    assert "Traceback" not in result.output


def test_missing_sdk_in_module(ansible, no_hvac):
    task = """agentarea.secrets.secret:
            ref: vault://secret/agentarea/database#password
            value: "%s"
            url: http://127.0.0.1:8200
            token: "%s"
""" % (CANARY, CANARY)
    result = ansible.playbook(_play(task), env=no_hvac, expect_rc=2, canaries=[CANARY], verbosity=4)
    assert "hvac" in result.output and "vault://secret/agentarea/database#password" in result.output
    assert "Traceback" not in result.stdout.split("MODULE FAILURE")[0] if "MODULE FAILURE" in result.stdout else True
    assert "MODULE FAILURE" not in result.output


def test_store_down(ansible):
    port = closed_port()
    lookup = ("ansible.builtin.set_fact:\n            x: \"{{ lookup('agentarea.secrets.vault', 'agentarea/database', "
              "url='http://127.0.0.1:%d', token='%s', retries=0) }}\"" % (port, CANARY))
    result = ansible.playbook(_play(lookup), expect_rc=2, canaries=[CANARY])
    assert "vault" in result.output and "127.0.0.1:%d" % port in result.output
    assert "Traceback" not in result.output
    module = """agentarea.secrets.secret_info:
            ref: vault://secret/agentarea/database
            url: http://127.0.0.1:%d
            token: "%s"
            retries: 0
""" % (port, CANARY)
    result = ansible.playbook(_play(module), expect_rc=2, canaries=[CANARY])
    assert "vault 'vault://secret/agentarea/database': cannot reach Vault" in result.output
    assert "MODULE FAILURE" not in result.output and "Traceback" not in result.output
