# -*- coding: utf-8 -*-
"""The Vault doc fragment documents the backend's ARGSPEC exactly, and its plugin sources never feed another
backend through agentarea.secrets.secret."""
import yaml

from ansible_collections.agentarea.secrets.plugins.doc_fragments.vault import ModuleDocFragment
from ansible_collections.agentarea.secrets.plugins.module_utils.core import _registry
from ansible_collections.agentarea.secrets.plugins.module_utils.backends.vault._backend import VaultBackend
from ansible_collections.agentarea.secrets.plugins.module_utils.backends.vault._auth import METHODS


def _options(part):
    return yaml.safe_load(getattr(ModuleDocFragment, part))["options"]


def test_every_option_is_documented_as_declared():
    documented = dict(_options("DOCUMENTATION"), **dict(_options("READ"), **_options("MODULES")))
    assert set(documented) == set(VaultBackend.ARGSPEC)
    for name, spec in VaultBackend.ARGSPEC.items():
        doc = documented[name]
        assert doc["type"] == spec["type"], name
        assert doc.get("default") == spec.get("default"), name
        assert doc.get("choices") == spec.get("choices"), name
        assert doc.get("elements") == spec.get("elements"), name
    assert documented["auth_method"]["choices"] == sorted(METHODS)
    assert VaultBackend.ARGSPEC["timeout"] == {"type": "int", "default": 30}
    for name in ("token", "secret_id", "password", "jwt", "client_key"):
        assert VaultBackend.ARGSPEC[name]["no_log"] is True, name


def test_plugin_sources_collection_env_then_ini_then_native():
    """Lookups document only ANSIBLE_AGENTAREA_SECRETS_VAULT_* as environment sources (ranked above ansible.cfg);
    VAULT_ADDR, VAULT_TOKEN, VAULT_NAMESPACE and VAULT_CACERT are read by the backend when nothing else set the
    option, so they rank below ansible.cfg (DESIGN.md's order)."""
    for part in ("PLUGINS", "LOOKUP_SHARED"):
        for name, sources in _options(part).items():
            envs = [e["name"] for e in sources.get("env", [])]
            assert envs and all(e.startswith("ANSIBLE_AGENTAREA_SECRETS_") for e in envs), name
            assert all(v["name"].startswith("ansible_agentarea_secrets_") for v in sources.get("vars", [])), name
            assert all(i["section"] == "agentarea_secrets_vault" for i in sources.get("ini", [])), name
    for name, native in (("url", "VAULT_ADDR"), ("token", "VAULT_TOKEN"), ("namespace", "VAULT_NAMESPACE")):
        assert VaultBackend.ENV[name] == ("ANSIBLE_AGENTAREA_SECRETS_VAULT_" + name.upper(), native)
    assert "VAULT_CACERT" in VaultBackend.ENV["ca_cert"]


def test_plugins_sources_are_only_for_options_no_other_backend_has():
    """agentarea.secrets.secret passes each option to every backend: VAULT_CACERT must not reach Kubernetes."""
    others = set()
    for cls in _registry.all_backend_classes():
        if cls is not VaultBackend:
            others.update(cls.ARGSPEC)
    shared = sorted(set(_options("PLUGINS")) & others)
    assert not shared, "sources for shared options belong in LOOKUP_SHARED: %s" % shared
    for name in ("token", "secret_id", "password", "jwt"):
        assert "ini" not in _options("PLUGINS")[name], "credentials are not read from ansible.cfg: %s" % name
