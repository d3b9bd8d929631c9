# -*- coding: utf-8 -*-
"""The action plugins of the modules that talk to stores: the variables they read are the ones the lookups
document, they fill only what the task and module_defaults left unset, templated, and each module takes every
option its action plugin may fill."""
import importlib
import os

import pytest
import yaml

from ansible_collections.agentarea.secrets.plugins.module_utils.core._registry import backend_class, union_argspec
from ansible_collections.agentarea.secrets.plugins.plugin_utils import _action

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
CANARY = "canary-0e57c3aa-action"
SHARED_LOOKUP_ONLY = ("cache", "on_missing", "on_denied", "on_deleted")


def lookup_vars(plugin="secret"):
    """``{option: [variable, ...]}`` as the lookup's documentation (with its fragments) declares them."""
    module = importlib.import_module("ansible_collections.agentarea.secrets.plugins.lookup.%s" % plugin)
    doc = yaml.safe_load(module.DOCUMENTATION)
    out = {}
    for option, spec in (doc.get("options") or {}).items():  # the lookup's own (retries, shared by Vault and AWS)
        for var in (spec or {}).get("vars") or ():
            out.setdefault(option, []).append(var["name"])
    for fragment in doc.get("extends_documentation_fragment", []):
        name, _dot, part = fragment[len("agentarea.secrets."):].partition(".")
        cls = importlib.import_module("ansible_collections.agentarea.secrets.plugins.doc_fragments.%s" % name)
        text = getattr(cls.ModuleDocFragment, (part or "documentation").upper())
        for option, spec in (yaml.safe_load(text).get("options") or {}).items():
            for var in (spec or {}).get("vars") or ():
                out.setdefault(option, []).append(var["name"])
    return out


def test_modules_read_the_variables_the_lookups_document():
    documented = dict((k, v) for k, v in lookup_vars().items() if k not in SHARED_LOOKUP_ONLY)
    table = _action.option_vars()
    per_store = dict(("%s_%s" % (b, o), (b, o)) for b, opts in _action.PER_STORE_VARS.items() for o in opts)
    assert dict((k, [v]) for k, v in table.items() if k not in per_store) == documented
    for option, (store, name) in per_store.items():  # declared by the store's own lookup
        assert lookup_vars(store)[name] == [table[option]], option


def test_every_backend_option_has_its_variable_where_the_lookup_has_one():
    table = _action.option_vars()
    assert set(table) - {"audit_log"} <= set(union_argspec())
    for backend, options in _action.OPTION_VARS.items():
        if backend:
            assert set(options) <= set(backend_class(backend).ARGSPEC), backend


class Task:
    def __init__(self, args):
        self.args = args


class Templar:
    def template(self, value):
        if isinstance(value, str) and value.startswith("{{ ") and value.endswith(" }}"):
            return self.variables[value[3:-3]]
        return value


def action(cls, args, variables):
    plugin = cls.__new__(cls)
    plugin._task = Task(args)
    plugin._templar = Templar()
    plugin._templar.variables = variables
    return plugin


def test_only_unset_options_are_filled_templated():
    variables = {"ansible_agentarea_secrets_vault_url": "{{ url }}", "url": "https://vault.example:8200",
                 "ansible_agentarea_secrets_vault_secret_id": "{{ sid }}", "sid": CANARY,
                 "ansible_agentarea_secrets_vault_namespace": "team-a",
                 "ansible_agentarea_secrets_timeout": 7,
                 "ansible_agentarea_secrets_aws_region": None}
    # module_defaults are merged into the task's arguments by Ansible before the action plugin runs
    args = {"ref": "vault://secret/app", "namespace": "from-the-task", "timeout": None}
    got = action(_action.SecretActionBase, args, variables).module_args(variables)
    assert got == {"ref": "vault://secret/app", "namespace": "from-the-task", "url": "https://vault.example:8200",
                   "secret_id": CANARY, "timeout": 7}
    assert args == {"ref": "vault://secret/app", "namespace": "from-the-task", "timeout": None}  # not modified


def test_a_template_that_fails_names_the_variable_only():
    from ansible.errors import AnsibleActionFail
    variables = {"ansible_agentarea_secrets_vault_secret_id": "{{ missing }}"}
    with pytest.raises(AnsibleActionFail) as info:
        action(_action.SecretActionBase, {}, variables).module_args(variables)
    assert "ansible_agentarea_secrets_vault_secret_id" in str(info.value)
    assert info.value.__cause__ is None


@pytest.mark.parametrize("module", ["secret", "secret_info", "catalog_info", "distribute", "rotate", "revoke",
                                    "k8s_secret", "docker_secret", "rollout", "access_policy", "vault_audit"])
def test_each_module_takes_what_its_action_plugin_fills(module, monkeypatch):
    """Run the module's main() far enough to build its AnsibleModule: every option that may be filled is one it
    accepts (an unknown option would fail the task)."""
    plugin = importlib.import_module("ansible_collections.agentarea.secrets.plugins.action.%s" % module).ActionModule
    options = set(_action.option_vars(plugin.BACKENDS)) - set(plugin.SKIP)
    from ansible.module_utils import basic
    seen = {}

    class Stop(Exception):
        pass

    def capture(self, *args, **kwargs):
        seen.update(kwargs.get("argument_spec") or args[0])
        raise Stop()
    monkeypatch.setattr(basic.AnsibleModule, "__init__", capture)
    mod = importlib.import_module("ansible_collections.agentarea.secrets.plugins.modules.%s" % module)
    with pytest.raises(Stop):
        mod.main()
    assert options <= set(seen), sorted(options - set(seen))
    assert os.path.exists(os.path.join(ROOT, "plugins", "action", module + ".py"))


def test_per_store_variables_reach_modules_of_those_stores_only():
    assert _action.option_vars(("vault",))["vault_ca_cert"] == "ansible_agentarea_secrets_vault_ca_cert"
    assert "azure_ca_cert" not in _action.option_vars(("vault",))
    assert not any(name.startswith("vault_") for name in _action.option_vars(("k8s",)))


def test_the_heap_is_frozen_in_a_task_worker_only():
    """gc.freeze in the forked worker of a task; never in the process that loaded the plugin (here: pytest)."""
    import gc
    import multiprocessing

    before = gc.get_freeze_count()
    _action.settle_worker_heap()
    assert gc.get_freeze_count() == before

    def child(queue):
        _action.settle_worker_heap()
        queue.put(gc.get_freeze_count())

    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=child, args=(queue,))
    proc.start()
    frozen = queue.get(timeout=30)
    proc.join(30)
    assert frozen > 0
