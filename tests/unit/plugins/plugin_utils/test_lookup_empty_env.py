# -*- coding: utf-8 -*-
"""An environment variable that is set but empty is unset, for the lookups as for the modules: AWX sets every
environment variable a credential type injects, empty when the user left the field empty. The options are resolved
by ansible-core's own configuration manager here (the vault lookup's documented options, fragments merged), so the
test holds for whichever ansible-core runs it."""
import importlib
import os

import pytest
import yaml
from ansible import constants as C

from ansible_collections.agentarea.secrets.plugins.lookup import vault as vault_lookup
from ansible_collections.agentarea.secrets.plugins.module_utils.backends.aws._backend import AwsBackend
from ansible_collections.agentarea.secrets.plugins.module_utils.backends.vault._backend import VaultBackend
from ansible_collections.agentarea.secrets.plugins.plugin_utils import _lookup

PLUGIN = "agentarea.secrets.vault"
OWN = "ANSIBLE_AGENTAREA_SECRETS_"
CA = "/etc/ssl/certs/site-ca.pem"


def documented_options(module):
    """The lookup's options as Ansible sees them: its fragments, then its own DOCUMENTATION."""
    doc = yaml.safe_load(module.DOCUMENTATION)
    out = {}
    for fragment in doc.get("extends_documentation_fragment", []):
        name, _dot, part = fragment[len("agentarea.secrets."):].partition(".")
        cls = importlib.import_module("ansible_collections.agentarea.secrets.plugins.doc_fragments.%s" % name)
        text = getattr(cls.ModuleDocFragment, (part or "documentation").upper())
        for option, spec in (yaml.safe_load(text).get("options") or {}).items():
            out.setdefault(option, {}).update(spec or {})
    for option, spec in (doc.get("options") or {}).items():
        out.setdefault(option, {}).update(spec or {})
    return out


@pytest.fixture(scope="module", autouse=True)
def definitions():
    C.config.initialize_plugin_configuration_definitions("lookup", PLUGIN, documented_options(vault_lookup))


@pytest.fixture(autouse=True)
def environment(monkeypatch):
    """No option variable of the test process's environment, and a fresh option memo per test."""
    for name in list(os.environ):
        if name.startswith(OWN) or name.startswith("VAULT_"):
            monkeypatch.delenv(name)
    _lookup._OPTIONS.clear()
    _lookup._OPTION_ENV.clear()
    yield monkeypatch
    _lookup._OPTIONS.clear()
    _lookup._OPTION_ENV.clear()


def lookup():
    plugin = vault_lookup.LookupModule()
    plugin._load_name = PLUGIN
    plugin._cache = None
    plugin._backends = {}
    return plugin


def resolved(variables=None, **direct):
    plugin = lookup()
    plugin.resolve_options(variables or {}, direct)
    return plugin


def test_the_lookup_reads_its_environment_variables(environment):
    """The baseline: a variable that is set and not empty is the option's value."""
    environment.setenv(OWN + "VAULT_NAMESPACE", "team-a")
    environment.setenv(OWN + "VAULT_VALIDATE_CERTS", "true")
    environment.setenv(OWN + "TIMEOUT", "45")
    plugin = resolved()
    assert plugin.get_option("namespace") == "team-a"
    assert plugin.get_option("validate_certs") is True
    assert plugin.get_option("timeout") == 45


def test_an_empty_string_option_is_unset(environment):
    environment.setenv(OWN + "VAULT_NAMESPACE", "")
    environment.setenv(OWN + "VAULT_ROLE_ID", "")
    plugin = resolved()
    assert plugin.get_option("namespace") is None
    assert plugin.get_option("role_id") is None


def test_an_empty_bool_does_not_turn_tls_verification_off(environment):
    """ansible-core reads "" as False for a bool: a credential whose "validate certs" field is empty would have
    switched verification off."""
    environment.setenv(OWN + "VAULT_VALIDATE_CERTS", "")
    environment.setenv(OWN + "VAULT_KEEP_TOKEN", "")
    plugin = resolved()
    assert plugin.get_option("validate_certs") is None
    assert plugin.get_option("keep_token") is False  # its default


def test_an_empty_int_or_path_falls_back_to_the_default(environment):
    environment.setenv(OWN + "TIMEOUT", "")
    environment.setenv(OWN + "VAULT_KUBERNETES_TOKEN_PATH", "")
    environment.setenv(OWN + "VAULT_CA_CERT", "")
    plugin = resolved()
    assert plugin.get_option("timeout") == 30
    assert plugin.get_option("kubernetes_token_path") == "/var/run/secrets/kubernetes.io/serviceaccount/token"
    assert plugin.get_option("ca_cert") is None  # not "" resolved as a path (the working directory)


def test_an_empty_variable_does_not_hide_the_next_one(environment):
    """timeout reads ANSIBLE_AGENTAREA_SECRETS_TIMEOUT and ANSIBLE_AGENTAREA_SECRETS_VAULT_TIMEOUT: an empty one
    is skipped, whichever of the two it is."""
    environment.setenv(OWN + "TIMEOUT", "45")
    environment.setenv(OWN + "VAULT_TIMEOUT", "")
    assert resolved().get_option("timeout") == 45
    _lookup._OPTIONS.clear()
    environment.setenv(OWN + "TIMEOUT", "")
    environment.setenv(OWN + "VAULT_TIMEOUT", "50")
    assert resolved().get_option("timeout") == 50


def test_variables_and_arguments_still_win(environment):
    environment.setenv(OWN + "VAULT_NAMESPACE", "")
    plugin = resolved({"ansible_agentarea_secrets_vault_namespace": "team-b"})
    assert plugin.get_option("namespace") == "team-b"
    _lookup._OPTIONS.clear()
    assert resolved(namespace="team-c").get_option("namespace") == "team-c"


def test_the_environment_is_left_as_it_was(environment):
    environment.setenv(OWN + "VAULT_NAMESPACE", "")
    environment.setenv(OWN + "VAULT_URL", "https://vault.example:8200")
    resolved()
    assert os.environ[OWN + "VAULT_NAMESPACE"] == ""
    assert os.environ[OWN + "VAULT_URL"] == "https://vault.example:8200"


def test_the_environment_is_left_as_it_was_when_resolving_fails(environment, monkeypatch):
    environment.setenv(OWN + "VAULT_NAMESPACE", "")

    def broken(*_args, **_kwargs):
        raise RuntimeError("set_options failed")
    plugin = lookup()
    monkeypatch.setattr(plugin, "set_options", broken)
    with pytest.raises(RuntimeError):
        plugin.resolve_options({}, {})
    assert os.environ[OWN + "VAULT_NAMESPACE"] == ""


def test_the_lookup_backend_then_takes_the_native_variable(environment):
    """The option left unset, the backend reads its ENV where an empty variable is unset too: the empty
    ANSIBLE_AGENTAREA_SECRETS_VAULT_CA_CERT gives way to VAULT_CACERT (the execution environment's CA), as in a
    module."""
    environment.setenv(OWN + "VAULT_CA_CERT", "")
    environment.setenv("VAULT_CACERT", CA)
    environment.setenv(OWN + "VAULT_NAMESPACE", "")
    environment.setenv("VAULT_NAMESPACE", "team-a")
    environment.setenv(OWN + "VAULT_URL", "https://vault.example:8200")
    environment.setenv("VAULT_TOKEN", "canary-token-never-used")
    plugin = resolved()
    backend = plugin._backend("vault", "vault://secret/app#password")
    assert backend.options["ca_cert"] == CA
    assert backend.options["namespace"] == "team-a"
    assert backend.options["validate_certs"] is None
    module_side = VaultBackend({}, environ=dict(os.environ))
    for option in ("ca_cert", "namespace", "url", "validate_certs", "timeout"):
        assert module_side.options[option] == backend.options[option], option


@pytest.mark.parametrize("environ, expected", [
    ({OWN + "AWS_ENDPOINT_URL": "", "AWS_ENDPOINT_URL_SECRETSMANAGER": "http://sm.local"}, "http://sm.local"),
    ({OWN + "AWS_ENDPOINT_URL": "", "AWS_ENDPOINT_URL_SECRETSMANAGER": "", "AWS_ENDPOINT_URL": "http://all.local"},
     "http://all.local"),
    ({OWN + "AWS_ENDPOINT_URL": ""}, None),
])
def test_backends_read_their_env_tuples_skipping_empty_variables(environ, expected):
    assert AwsBackend({}, environ=environ).options["endpoint_url"] == expected


def test_backends_keep_an_option_given_as_an_argument():
    environ = {OWN + "AWS_REGION": "eu-west-1", "AWS_REGION": ""}
    assert AwsBackend({"region": "us-east-2"}, environ=environ).options["region"] == "us-east-2"
    assert AwsBackend({}, environ=environ).options["region"] == "eu-west-1"
    assert AwsBackend({}, environ={"AWS_REGION": "", "AWS_DEFAULT_REGION": "ap-south-1"}).options["region"] \
        == "ap-south-1"
