# -*- coding: utf-8 -*-
"""The four playbook shapes the benchmark measures, for every implementation; our lookups run in two
configurations: "callback" (the ``agentarea.secrets.run_cache`` callback enabled) and "no config" (no
``ansible.cfg`` change at all, as most first runs and many AWX jobs are)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

PATTERNS = ("one call, N terms", "loop", "N tasks", "held variable")
# short names for --only-patterns
PATTERN_KEYS = {"call": "one call, N terms", "loop": "loop", "tasks": "N tasks", "held": "held variable"}
CONFIGS = ("callback", "no config")
CALLBACK_ENV = {"ANSIBLE_CALLBACKS_ENABLED": "agentarea.secrets.run_cache"}

EMPTY = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: nothing
      ansible.builtin.meta: noop
"""


class Impl:
    """How one implementation reads secret number ``i`` (``expr(i)``) and several at once (``query(indexes)``);
    ``held`` is the expression a play variable holds (Vault implementations log in with AppRole there, so that
    the audit log shows how many logins a run makes). ``config`` ("callback", "no config" or None for the anchors
    and the control) is part of the label that rows are reported under."""

    def __init__(self, name, expr, query=None, env=None, counts_vault=False, held=None, ours=False, config=None):
        self.name, self.expr, self.query = name, expr, query
        self.env = env or {}
        self.counts_vault = counts_vault
        self.held = held
        self.ours = ours
        self.config = config

    @property
    def label(self):
        return "%s (%s)" % (self.name, self.config) if self.config else self.name

    def playbook(self, pattern, count):
        head = "- hosts: localhost\n  gather_facts: false\n"
        if pattern == "one call, N terms":
            if self.query is None:
                return None
            return head + "  tasks:\n    - name: all\n      ansible.builtin.set_fact:\n        x: \"{{ %s }}\"\n" % (
                self.query(range(count)))
        if pattern == "loop":
            return head + ("  tasks:\n    - name: loop\n      ansible.builtin.set_fact:\n        x: \"{{ %s }}\"\n"
                           "      loop: \"{{ range(%d) | list }}\"\n" % (self.expr("item"), count))
        if pattern == "N tasks":
            tasks = "".join("    - name: t%d\n      ansible.builtin.set_fact:\n        x: \"{{ %s }}\"\n"
                            % (i, self.expr(i)) for i in range(count))
            return head + "  tasks:\n" + tasks
        held = self.held() if self.held else self.expr(0)
        tasks = "".join("    - name: use%d\n      ansible.builtin.set_fact:\n        x%d: \"{{ held | length }}\"\n"
                        % (i, i) for i in range(3))
        return head + "  vars:\n    held: \"{{ %s }}\"\n  tasks:\n" % held + tasks


def _name(i):
    return "'bench/s%03d'" % i if isinstance(i, int) else "'bench/s%03d' % " + i


def approle_login(approle):
    """The lookup keywords that log in with the bench AppRole (so that OpenBao's audit log counts the logins)."""
    if not approle:
        return ""
    return ", auth_method='approle', role_id='%s', secret_id='%s'" % (approle["role_id"], approle["secret_id"])


def lookup_expr(kind, i, aws=None, login=""):
    """One lookup of secret ``i`` (an int or a Jinja expression) by our lookup ``kind`` (vault, secret, aws)."""
    if kind == "vault":
        return "lookup('agentarea.secrets.vault', %s, key='value'%s)" % (_name(i), login)
    if kind == "secret":
        return "lookup('agentarea.secrets.secret', 'vault://secret/' ~ (%s) ~ '#value'%s)" % (_name(i), login)
    return "lookup('agentarea.secrets.aws', %s, key='value', endpoint_url='%s', region='%s')" % (
        _name(i), aws["url"], aws["region"])


OURS = (("vault", "agentarea.secrets.vault"), ("secret", "agentarea.secrets.secret (vault://)"),
        ("aws", "agentarea.secrets.aws"))


def implementations(vault, aws, approle=None, configs=CONFIGS):
    """``approle``: {role_id, secret_id} of an AppRole that may read the bench secrets (for the held pattern);
    ``configs``: the configurations our lookups run in (``CONFIGS``)."""
    aws_kw = "endpoint_url='%s', region='%s'" % (aws["url"], aws["region"])
    login = approle_login(approle)
    impls = [Impl("no lookup", lambda i: "'constant'", lambda idx: "['constant'] * %d" % len(idx))]
    for config in configs:
        impls += _ours(aws_kw, login, CALLBACK_ENV if config == "callback" else {}, config)
    impls += [
        Impl("community.hashi_vault.vault_kv2_get",
             lambda i: "lookup('community.hashi_vault.vault_kv2_get', %s, engine_mount_point='secret').secret.value"
             % _name(i),
             lambda idx: "query('community.hashi_vault.vault_kv2_get', %s, engine_mount_point='secret')" % ", ".join(
                 _name(i) for i in idx),
             counts_vault=True,
             held=lambda: "lookup('community.hashi_vault.vault_kv2_get', %s, engine_mount_point='secret'%s)"
             ".secret.value" % (_name(0), login)),
        Impl("amazon.aws.secretsmanager_secret",
             lambda i: "lookup('amazon.aws.secretsmanager_secret', %s, endpoint_url='%s', region='%s')" % (
                 _name(i), aws["url"], aws["region"]),
             lambda idx: "query('amazon.aws.secretsmanager_secret', %s, endpoint_url='%s', region='%s')" % (
                 ", ".join(_name(i) for i in idx), aws["url"], aws["region"])),
    ]
    return impls


def _ours(aws_kw, login, env, config):
    """Our three lookups in one configuration (``env``: what it adds to the environment)."""
    return [
        Impl("agentarea.secrets.vault",
             lambda i: "lookup('agentarea.secrets.vault', %s, key='value')" % _name(i),
             lambda idx: "query('agentarea.secrets.vault', %s, key='value')" % ", ".join(_name(i) for i in idx),
             env=env, counts_vault=True, ours=True, config=config,
             held=lambda: "lookup('agentarea.secrets.vault', %s, key='value'%s)" % (_name(0), login)),
        Impl("agentarea.secrets.secret (vault://)",
             lambda i: "lookup('agentarea.secrets.secret', 'vault://secret/' ~ (%s) ~ '#value')" % _name(i),
             lambda idx: "query('agentarea.secrets.secret', %s)" % ", ".join(
                 "'vault://secret/bench/s%03d#value'" % i for i in idx),
             env=env, counts_vault=True, ours=True, config=config,
             held=lambda: "lookup('agentarea.secrets.secret', 'vault://secret/bench/s000#value'%s)" % login),
        Impl("agentarea.secrets.aws",
             lambda i: "lookup('agentarea.secrets.aws', %s, key='value', %s)" % (_name(i), aws_kw),
             lambda idx: "query('agentarea.secrets.aws', %s, key='value', %s)" % (
                 ", ".join(_name(i) for i in idx), aws_kw),
             env=env, ours=True, config=config),
    ]


def environment(root: Path, vault, aws, workdir: Path):
    coll = workdir / "collections" / "ansible_collections" / "agentarea"
    coll.mkdir(parents=True, exist_ok=True)
    link = coll / "secrets"
    if not link.exists():
        link.symlink_to(root)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "VAULT_", "AWS_"))}
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": str(workdir / "collections"),
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "ANSIBLE_DISPLAY_OK_HOSTS": "false",
        "ANSIBLE_DISPLAY_SKIPPED_HOSTS": "false",
        "ANSIBLE_LOCALHOST_WARNING": "false",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
        "PATH": "%s:%s" % (Path(sys.executable).parent, os.environ.get("PATH", "")),
        "HOME": str(workdir),
        "VAULT_ADDR": vault["url"], "VAULT_TOKEN": vault["token"],
        "AWS_ACCESS_KEY_ID": aws["access_key"], "AWS_SECRET_ACCESS_KEY": aws["secret_key"],
        "AWS_REGION": aws["region"], "AWS_DEFAULT_REGION": aws["region"], "AWS_ENDPOINT_URL": aws["url"],
    })
    return env
