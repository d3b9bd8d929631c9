# -*- coding: utf-8 -*-
"""The AWS, Azure and GCP doc fragments document their backend's ARGSPEC exactly; their plugin sources match the
backend's own environment variables and never feed another backend through agentarea.secrets.secret; and the SDKs
are imported only when a backend talks to its store."""
import importlib
import pathlib
import subprocess
import sys

import pytest
import yaml

from ansible_collections.agentarea.secrets.plugins.module_utils.core import _registry
from tests.harness.scripts import load_script

CLOUDS = ("aws", "ssm", "azure", "gcp")
#: a store whose connection options are another fragment's (ssm shares aws's: one AWS identity)
CONNECTION_FROM = {"ssm": "aws"}
SHARED_ENV = {"timeout": ("ANSIBLE_AGENTAREA_SECRETS_TIMEOUT",), "retries": ("ANSIBLE_AGENTAREA_SECRETS_RETRIES",)}


def fragment(name):
    return importlib.import_module("ansible_collections.agentarea.secrets.plugins.doc_fragments.%s"
                                   % name).ModuleDocFragment


def options(name, part):
    text = getattr(fragment(name), part, None)
    return yaml.safe_load(text)["options"] if text else {}


def documented_options(name):
    documented = dict(options(CONNECTION_FROM[name], "DOCUMENTATION")) if name in CONNECTION_FROM else {}
    documented.update(options(name, "DOCUMENTATION"))
    documented.update(options(name, "READ"))
    documented.update(options(name, "MODULES"))
    return documented


@pytest.mark.parametrize("name", CLOUDS)
def test_every_option_is_documented_as_declared(name):
    cls = _registry.backend_class(name)
    documented = documented_options(name)
    assert set(documented) == set(cls.ARGSPEC)
    for opt, spec in cls.ARGSPEC.items():
        doc = documented[opt]
        assert doc["type"] == spec["type"], opt
        assert doc.get("default") == spec.get("default"), opt
        assert doc.get("choices") == spec.get("choices"), opt
    assert cls.ARGSPEC["timeout"] == {"type": "int", "default": 30}
    if "ca_cert" in cls.ARGSPEC:
        assert cls.ARGSPEC["ca_cert"] == {"type": "path"} and cls.ARGSPEC["validate_certs"] == {"type": "bool"}


@pytest.mark.parametrize("name", CLOUDS)
def test_plugin_sources_match_the_backend_environment(name):
    cls = _registry.backend_class(name)
    others = set()
    family = getattr(cls, "FAMILY", None) or cls.NAME
    for other in _registry.all_backend_classes():
        if (getattr(other, "FAMILY", None) or other.NAME) != family:  # one family's sources feed all of it
            others.update(other.ARGSPEC)
    plugins, shared = options(name, "PLUGINS"), options(name, "LOOKUP_SHARED")
    assert not set(plugins) & others, "sources of shared options belong in LOOKUP_SHARED"
    assert set(shared) <= others
    documented = documented_options(name)
    for opt, sources in dict(plugins, **shared).items():
        envs = [e["name"] for e in sources.get("env", [])]
        # lookups list only the collection's variables; the native ones rank last and the backend reads them itself
        assert envs and all(v.startswith("ANSIBLE_AGENTAREA_SECRETS_") for v in envs), opt
        own = [v for v in envs if v not in SHARED_ENV.get(opt, ())]
        if opt in cls.ENV:
            assert own == [v for v in cls.ENV[opt] if v.startswith("ANSIBLE_AGENTAREA_SECRETS_")], opt
        assert all(v["name"].startswith("ansible_agentarea_secrets_") for v in sources.get("vars", [])), opt
        assert all(i["section"] == "agentarea_secrets_" + name for i in sources.get("ini", [])), opt
    for opt, variables in cls.ENV.items():
        described = " ".join(documented[opt]["description"])
        for var in variables:
            assert "E(%s)" % var in described, (opt, var)  # every variable the backend reads is documented
    for opt, spec in cls.ARGSPEC.items():
        if spec.get("no_log"):
            assert "ini" not in dict(plugins, **shared).get(opt, {}), "credentials are not read from ansible.cfg"


def _generator():
    return load_script("gen-doc-fragments")


def test_lookups_and_modules_extend_the_fragments():
    root = pathlib.Path(__file__).resolve().parents[5]
    for name in CLOUDS:
        lookup = (root / ("plugins/lookup/%s.py" % name)).read_text()
        for part in ("", ".plugins", ".lookup_shared"):
            owner = CONNECTION_FROM.get(name, name) if part == ".lookup_shared" else name
            assert "agentarea.secrets.%s%s\n" % (owner, part) in lookup
        if name in CONNECTION_FROM:  # and the connection options of the store it shares them with
            for part in ("", ".plugins"):
                assert "agentarea.secrets.%s%s\n" % (CONNECTION_FROM[name], part) in lookup
    # the plugins that take any reference extend the combined fragment generated from these
    # (tests/unit/plugins/doc_fragments/test_stores_fragment.py holds it to its parts)
    for rel, combined in (("plugins/modules/secret.py", "stores"), ("plugins/modules/secret_info.py", "stores"),
                          ("plugins/lookup/secret.py", "stores.secret_lookup")):
        assert "  - agentarea.secrets.%s\n" % combined in (root / rel).read_text(), rel
    recipes = dict((attr, parts) for attr, _target, parts in _generator().RECIPES)
    for name in CLOUDS:
        assert name in recipes["DOCUMENTATION"] and name in recipes["SECRET_LOOKUP"]


def test_sdks_are_imported_only_when_a_backend_talks_to_its_store():
    """Building every backend, validating, naming identities and parsing terms imports no SDK; only connecting does."""
    code = r"""
import sys
from ansible_collections.agentarea.secrets.plugins.module_utils.core import _registry
for cls in _registry.all_backend_classes():
    pass
aws = _registry.backend_class('aws')({'region': 'us-east-1'}, environ={})
aws.validate(); aws.identity(); aws.ref_from_term('agentarea/prod/database', key='password')
az = _registry.backend_class('azure')({'vault_url': 'https://v.vault.azure.net'}, environ={})
az.validate(); az.identity(); az.ref_from_term('database-url')
gcp = _registry.backend_class('gcp')({'project': 'p'}, environ={})
gcp.validate(); gcp.identity(); gcp.ref_from_term('database-url')
heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore', 'azure', 'google', 'grpc'))
assert not heavy, heavy
aws.client()
assert 'boto3' in sys.modules and 'azure' not in sys.modules and 'google' not in sys.modules
print('ok')
"""
    env = {"PYTHONPATH": str(pathlib.Path(_registry.__file__).parents[6])}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr
