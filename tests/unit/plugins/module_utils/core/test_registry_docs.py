# -*- coding: utf-8 -*-
"""Each option is declared once: backends that share an option name declare it the same way, and every backend
option is documented in the lookups and modules that take any reference."""
import pathlib

import yaml

from ansible_collections.agentarea.secrets.plugins.module_utils.core import _registry

ROOT = pathlib.Path(__file__).resolve().parents[5]


def _doc_options(path):
    import ast
    tree = ast.parse(path.read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "DOCUMENTATION":
            doc = yaml.safe_load(node.value.value)
            return doc
    raise AssertionError("no DOCUMENTATION in %s" % path)


def _fragment_options(name, part="DOCUMENTATION"):
    import importlib
    module = importlib.import_module("ansible_collections.agentarea.secrets.plugins.doc_fragments.%s" % name)
    return yaml.safe_load(getattr(module.ModuleDocFragment, part))["options"]


def _all_options(doc):
    options = dict(doc.get("options") or {})
    for frag in doc.get("extends_documentation_fragment") or []:
        parts = frag.split(".")
        if parts[:2] != ["agentarea", "secrets"]:
            continue
        options.update(_fragment_options(parts[2], parts[3].upper() if len(parts) > 3 else "DOCUMENTATION"))
    return options


def test_shared_option_names_are_declared_identically():
    seen = {}
    for cls in _registry.all_backend_classes():
        for name, spec in cls.ARGSPEC.items():
            if name in seen:
                assert seen[name][1] == spec, "option %r differs between %s and %s" % (name, seen[name][0], cls.NAME)
            else:
                seen[name] = (cls.NAME, spec)


def test_any_reference_plugins_document_every_backend_option():
    union = _registry.union_argspec()
    users = ["plugins/lookup/secret.py"] + sorted(
        str(p.relative_to(ROOT)) for p in (ROOT / "plugins/modules").glob("*.py") if "STORES = True" in p.read_text())
    assert "plugins/modules/secret.py" in users
    per_store = set(_registry.store_option(owner, name) for name, owners in _registry.shared_options().items()
                    for owner in owners)
    for rel in users:
        documented = _all_options(_doc_options(ROOT / rel))
        # the per-store forms (k8s_validate_certs) are module options; a lookup reads one store's variables
        wanted = set(union) - per_store if rel.startswith("plugins/lookup/") else set(union)
        missing = sorted(wanted - set(documented))
        assert not missing, "%s does not document %s" % (rel, missing)


def test_secret_options_are_no_log():
    words = ("token", "password", "secret", "key", "jwt")
    for cls in _registry.all_backend_classes():
        for name, spec in cls.ARGSPEC.items():
            if any(w in name for w in words):
                assert "no_log" in spec, "%s.%s must say no_log True or False explicitly" % (cls.NAME, name)


def test_action_group_is_exactly_the_modules_sharing_the_argspec():
    """As kubernetes.core does: a module is in the action group iff it uses the group's (union) argspec."""
    runtime = yaml.safe_load((ROOT / "meta/runtime.yml").read_text())
    users = sorted(p.stem for p in (ROOT / "plugins/modules").glob("*.py") if "STORES = True" in p.read_text())
    assert sorted(runtime["action_groups"]["secrets"]) == users


def test_native_environment_ranks_last():
    """Lookups document only the collection's own variables as `env:` sources (Ansible ranks those above ini);
    each store's native variables (VAULT_ADDR, AWS_REGION, KUBECONFIG ...) are read by the backend itself when
    nothing else set the option - so they rank below ansible.cfg, as DESIGN.md orders them."""
    import importlib
    backends = dict((cls.NAME, cls) for cls in _registry.all_backend_classes())
    fragments = {"vault": "vault", "aws": "aws", "azure": "azure", "docker": "docker", "gcp": "gcp", "k8s": "k8s",
                 "pass_store": "pass"}
    for fragment, backend in fragments.items():
        module = importlib.import_module("ansible_collections.agentarea.secrets.plugins.doc_fragments." + fragment)
        for part in ("PLUGINS", "LOOKUP_SHARED"):
            text = getattr(module.ModuleDocFragment, part, None)
            for name, spec in ((yaml.safe_load(text) or {}).get("options") or {}).items() if text else ():
                for env in spec.get("env") or []:
                    assert env["name"].startswith("ANSIBLE_AGENTAREA_SECRETS_"), (fragment, name, env)
        assert backends[backend].ENV is not None
