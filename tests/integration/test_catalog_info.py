# -*- coding: utf-8 -*-
"""catalog_info: validation, scope, ages, due-ness and findings over local stores; the fingerprint filter agrees
with the modules' fingerprints."""
import os
import time

from tests.harness.leak import run_leak_suite

CANARY = "canary-41d0c3-catalog"


def test_catalog_info_reports_without_values(ansible, tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("JWT_SECRET=%s\nWEBHOOK_SECRET=%s-2\n" % (CANARY, CANARY))
    old = time.time() - 40 * 86400
    os.utime(env_file, (old, old))
    play = """
    - hosts: localhost
      gather_facts: false
      vars:
        catalog:
          - {name: jwt, owner: platform, purpose: signs API tokens, store: "dotenv://%(env)s#JWT_SECRET",
             kind: jwt, rotation: {every: 30d}, tags: [auth]}
          - {name: webhook, store: "dotenv://%(env)s#WEBHOOK_SECRET", kind: static, rotation: {every: 90d}}
          - {name: session, owner: platform, purpose: sessions, store: "dotenv://%(env)s#SESSION_KEY", kind: fernet}
      tasks:
        - name: info
          agentarea.secrets.catalog_info:
            catalog: "{{ catalog }}"
          register: info
        - name: fingerprint
          ansible.builtin.set_fact:
            jwt_fp: "{{ lookup('agentarea.secrets.dotenv', 'JWT_SECRET', file='%(env)s') | agentarea.secrets.fingerprint }}"
        - name: check
          ansible.builtin.assert:
            that:
              - info.names == ['jwt', 'webhook', 'session']
              - info.entries[0].due and info.entries[0].fingerprint == jwt_fp
              - info.entries[0].findings | map(attribute='check') | list == ['age']
              - not info.entries[1].due
              - info.entries[1].findings | map(attribute='check') | list == ['owner', 'purpose']
              - not info.entries[2].exists and info.entries[2].state == 'missing'
        - name: scoped
          agentarea.secrets.catalog_info:
            catalog: "{{ catalog }}"
            tags: [auth]
          register: scoped
        - name: check scope
          ansible.builtin.assert:
            that: scoped.names == ['jwt']
    """ % {"env": env_file}
    run_leak_suite(ansible, play, [CANARY])


def test_invalid_catalog_names_every_problem(ansible):
    play = """
    - hosts: localhost
      gather_facts: false
      tasks:
        - name: info
          agentarea.secrets.catalog_info:
            catalog:
              - {name: a, store: "vault:/nope"}
              - {name: b, store: "dotenv://.env#A", rotation: {every: monthly}}
    """
    result = ansible.playbook(play, expect_rc=2)
    assert "catalog entry 'a': 'store'" in result.output
    assert "catalog entry 'b': rotation.every" in result.output
