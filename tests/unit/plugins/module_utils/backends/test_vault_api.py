# -*- coding: utf-8 -*-
"""Any Vault path (vault_read / vault_list lookups, vault_read / vault_write modules), without a server: path
normalisation, the response fields a caller names and nothing else, Vault's error text without the request's
values, the api engines of the backend (no KV mount prefix, their own cache identity, no versions), the lookups'
injected options, and the modules' documented argument specs and action plugins."""
import ast
import importlib
import os
import pathlib

import pytest
import yaml

from ansible_collections.agentarea.secrets.plugins.module_utils.backends.vault import _api
from ansible_collections.agentarea.secrets.plugins.module_utils.backends.vault._backend import VaultBackend
from ansible_collections.agentarea.secrets.plugins.module_utils.core._backend import Secret
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import (
    InvalidOption,
    InvalidReference,
    SecretNotFound,
)

ROOT = pathlib.Path(__file__).resolve().parents[5]
CANARY = "canary-71c2e0aa-vault-api"
MODULES = ("vault_write", "vault_read")


def backend(engine="kv", **options):
    opts = {"url": "http://127.0.0.1:8200", "token": "t", "engine": engine}
    opts.update(options)
    b = VaultBackend(opts, environ={})
    b.validate()
    return b


@pytest.mark.parametrize("given,path", [("sys/mounts", "sys/mounts"), ("/v1/sys/mounts/", "sys/mounts"),
                                        ("vault://transit/keys/app", "transit/keys/app"),
                                        ("auth/approle/role/x/role-id", "auth/approle/role/x/role-id")])
def test_api_path_normalises(given, path):
    assert _api.api_path(given) == path


@pytest.mark.parametrize("given", ["", "/", "sys/mounts?list=true", "secret/x#key", "a/../sys", "a b"])
def test_api_path_refuses_what_is_not_a_path(given):
    with pytest.raises(InvalidReference) as info:
        _api.api_path(given)
    assert "vault" in str(info.value)


def test_pick_fields_returns_only_what_is_named():
    response = {"data": {"ciphertext": "vault:v1:abc", "key_version": 1, "auth": "in data"},
                "auth": {"client_token": "s.tok", "accessor": "acc"}, "lease_id": "", "warnings": ["w"],
                "wrap_info": None}
    picked, missing = _api.pick_fields(response, ["ciphertext"])
    assert picked == {"ciphertext": "vault:v1:abc"} and missing == []
    picked, missing = _api.pick_fields(response, ["auth.client_token", "warnings", "auth", "nope", "wrap_info.token"])
    assert picked == {"auth.client_token": "s.tok", "warnings": ["w"], "auth": "in data"}
    assert missing == ["nope", "wrap_info.token"]
    assert _api.pick_fields(response, []) == ({}, [])
    assert _api.pick_fields(None, ["x"]) == ({}, ["x"])  # 204 No Content


def test_field_names_are_names_only():
    names = _api.field_names({"data": {"b": CANARY, "a": 1}, "auth": {"client_token": CANARY}, "lease_id": "l",
                              "renewable": False})
    assert names == ["a", "b", "lease_id", "auth.client_token"]
    assert CANARY not in repr(names)


class FakeVaultError(Exception):
    def __init__(self, errors):
        super(FakeVaultError, self).__init__(errors)
        self.errors = errors


def test_vault_text_cuts_every_request_value_out():
    data = {"type": CANARY, "nested": {"list": ["also-" + CANARY, 7]}, "flag": True, "ab": "ab"}
    exc = FakeVaultError(["plugin not found in the catalog: %s\n(also-%s)" % (CANARY, CANARY)])
    text = _api.vault_text(exc, _api.leaf_values(data))
    assert CANARY not in text and "plugin not found in the catalog: <value>" in text and "\n" not in text
    assert _api.vault_text(FakeVaultError(["x" * 1000]), []).endswith("...")
    assert _api.vault_text(Exception("no errors"), []) == ""
    # values shorter than 3 characters are not cut (they would cut ordinary words)
    assert _api.vault_text(FakeVaultError(["ab cd"]), ["ab"]) == "ab cd"


def test_api_engines_are_accepted_internally_only():
    for engine in _api.API_ENGINES:
        backend(engine)
    with pytest.raises(InvalidOption):
        backend("graphql")
    assert "api" not in VaultBackend.ARGSPEC["engine"]["choices"]  # not an option users set


def test_api_terms_are_full_paths_and_have_their_own_cache_identity():
    kv, api, listing = backend("kv"), backend(_api.API_READ), backend(_api.API_LIST)
    assert kv.ref_from_term("app/db").location == "secret/app/db"
    assert api.ref_from_term("sys/mounts").location == "sys/mounts"
    assert listing.ref_from_term("transit/keys").location == "transit/keys"
    assert api.ref_from_term("auth/approle/role/x/role-id#role_id").key == "role_id"
    assert len({kv.identity(), api.identity(), listing.identity()}) == 3


def test_read_returns_the_data_and_list_the_keys(monkeypatch):
    api = backend(_api.API_READ)
    monkeypatch.setattr(api, "api_read", lambda path, ref=None: {"data": {"latest_version": 2, "path": path}})
    secret = api.read(api.ref_from_term("transit/keys/app"))
    assert isinstance(secret, Secret) and secret.value == {"latest_version": 2, "path": "transit/keys/app"}
    assert api.select(secret, api.ref_from_term("transit/keys/app#latest_version")) == 2
    assert Secret.from_dict(secret.to_dict()).value == secret.value  # what the run cache keeps
    listing = backend(_api.API_LIST)
    monkeypatch.setattr(listing, "api_list", lambda path, ref=None: ["a", "b/"])
    assert listing.read(listing.ref_from_term("transit/keys")).value == ["a", "b/"]
    with pytest.raises(InvalidReference):
        api.read(api.ref_from_term("sys/mounts?version=2"))


def test_a_lease_in_a_generic_read_is_revoked_at_the_end_of_the_run(monkeypatch):
    from tests.unit.plugins.module_utils.backends.fakes import FakeCache

    class Cache(FakeCache):
        enabled = True
        finish = {}

        def on_finish(self, ident, record):
            self.finish[ident] = record
    api = backend(_api.API_READ)
    api.cache = Cache()
    monkeypatch.setattr(api, "api_read", lambda path, ref=None: {"data": {"username": "u"}, "lease_id": "db/creds/x/1",
                                                                 "lease_duration": 60})
    monkeypatch.setattr(api, "client", type("Client", (), {"token": "t"}))  # called: an object with a token
    secret = api.read(api.ref_from_term("db/creds/x"))
    assert secret.value == {"username": "u"} and secret.metadata["lease_id"] == "db/creds/x/1"
    assert [r["lease_id"] for r in api.cache.finish.values()] == ["db/creds/x/1"]


def test_empty_answers_are_missing(monkeypatch):
    api = backend(_api.API_READ)
    monkeypatch.setattr(api, "_api_call", lambda *a, **k: {})
    with pytest.raises(SecretNotFound) as info:
        api.api_read("sys/nothing")
    assert "sys/nothing" in str(info.value) and str(info.value).startswith("vault 'vault://sys/nothing'")
    with pytest.raises(SecretNotFound):
        api.api_list("transit/keys")
    with pytest.raises(InvalidOption):
        api.api_write("transit/encrypt/x", ["not", "a", "dict"])


@pytest.mark.parametrize("name,engine,key", [("vault_read", _api.API_READ, "field"),
                                             ("vault_list", _api.API_LIST, None)])
def test_lookups_pin_their_engine(monkeypatch, name, engine, key):
    from ansible.plugins import AnsiblePlugin
    monkeypatch.setattr(AnsiblePlugin, "get_options",
                        lambda self, hostvars=None: {"engine": "kv", "key": "field", "url": "u"})
    mod = importlib.import_module("ansible_collections.agentarea.secrets.plugins.lookup.%s" % name)
    options = mod.LookupModule.get_options(object.__new__(mod.LookupModule))
    assert options == {"engine": engine, "key": key, "url": "u"}


def documented(name):
    tree = ast.parse((ROOT / "plugins" / "modules" / (name + ".py")).read_text())
    doc = next(yaml.safe_load(n.value.value) for n in tree.body
               if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", None) == "DOCUMENTATION")
    options = {}
    for frag in doc.get("extends_documentation_fragment") or []:
        parts = frag.split(".")
        module = importlib.import_module("ansible_collections.agentarea.secrets.plugins.doc_fragments." + parts[2])
        part = parts[3].upper() if len(parts) > 3 else "DOCUMENTATION"
        options.update(yaml.safe_load(getattr(module.ModuleDocFragment, part))["options"])
    options.update(doc.get("options") or {})
    return options


@pytest.mark.parametrize("name", MODULES)
def test_module_docs_match_the_argspec(name):
    spec = importlib.import_module("ansible_collections.agentarea.secrets.plugins.modules." + name).argument_spec()
    docs = documented(name)
    assert sorted(spec) == sorted(docs), name
    for option, opt in spec.items():
        doc = docs[option]
        assert opt.get("type", "str") == doc.get("type", "str"), (name, option)
        assert opt.get("default") == doc.get("default"), (name, option)
        assert sorted(opt.get("choices") or []) == sorted(doc.get("choices") or []), (name, option)
        assert opt.get("elements") == doc.get("elements"), (name, option)
    assert "engine" not in spec and "mount" not in spec  # connection options only
    if name == "vault_write":
        assert spec["data"]["no_log"] is True


@pytest.mark.parametrize("name", MODULES)
def test_module_takes_what_its_action_plugin_fills(name, monkeypatch):
    from ansible.module_utils import basic

    from ansible_collections.agentarea.secrets.plugins.plugin_utils import _action
    plugin = importlib.import_module("ansible_collections.agentarea.secrets.plugins.action.%s" % name).ActionModule
    options = set(_action.option_vars(plugin.BACKENDS)) - set(plugin.SKIP)
    seen = {}

    class Stop(Exception):
        pass

    def capture(self, *args, **kwargs):
        seen.update(kwargs.get("argument_spec") or args[0])
        raise Stop()
    monkeypatch.setattr(basic.AnsibleModule, "__init__", capture)
    mod = importlib.import_module("ansible_collections.agentarea.secrets.plugins.modules.%s" % name)
    with pytest.raises(Stop):
        mod.main()
    assert options <= set(seen), sorted(options - set(seen))
    assert "secret_id" in options and "mount" not in options
    assert os.path.exists(os.path.join(ROOT, "plugins", "action", name + ".py"))


def test_the_vault_action_group():
    runtime = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())
    assert runtime["action_groups"]["vault"] == ["vault_read", "vault_write", "vault_audit", "vault_database"]
    for name in MODULES:
        assert name not in runtime["action_groups"]["secrets"]
