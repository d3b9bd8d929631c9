# -*- coding: utf-8 -*-
"""plugins/doc_fragments/stores.py is what scripts/gen-doc-fragments.py makes of the backend fragments, merged as
ansible-doc merges fragments; the plugins that take any reference extend it instead of the parts; and the
connection options of each backend fragment are the backend's CONNECTION, which access_policy and vault_audit take."""
import ast
import importlib
import pathlib

import pytest
import yaml

from ansible_collections.agentarea.secrets.plugins.module_utils.core import _registry
from tests.harness.scripts import load_script

ROOT = pathlib.Path(__file__).resolve().parents[4]
REGENERATE = ".venv/bin/python scripts/gen-doc-fragments.py"


def generator():
    return load_script("gen-doc-fragments")


def fragment(name):
    return importlib.import_module("ansible_collections.agentarea.secrets.plugins.doc_fragments." + name).ModuleDocFragment


def documentation(rel):
    tree = ast.parse((ROOT / rel).read_text())
    return next(yaml.safe_load(n.value.value) for n in tree.body
                if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", None) == "DOCUMENTATION")


def test_the_generated_fragment_is_up_to_date():
    expected = generator().render()
    current = (ROOT / "plugins" / "doc_fragments" / "stores.py").read_text()
    assert current == expected, (
        "plugins/doc_fragments/stores.py is not what scripts/gen-doc-fragments.py makes of its parts (a part changed, "
        "or stores.py was edited by hand): regenerate it with `%s` from the collection root" % REGENERATE)


@pytest.mark.parametrize("attr,parts", [(attr, parts) for attr, _target, parts in generator().RECIPES])
def test_it_is_what_ansible_doc_makes_of_the_parts(attr, parts):
    """ansible's own add_fragments over the parts, one after another, gives exactly the combined fragment."""
    from ansible.utils.plugin_docs import add_fragments

    class Loader:
        def get(self, name):
            short = name.split(".", 2)[2]
            if "." in short:
                return None  # as ansible's loader does; add_fragments then takes the last part as the attribute
            return type("Fragment", (fragment(short),), {"ansible_name": name})

    split = {"options": {}}
    split["extends_documentation_fragment"] = ["agentarea.secrets." + part for part in parts]
    add_fragments(split, "/test", Loader())
    whole = {"options": {}, "extends_documentation_fragment": ["agentarea.secrets.stores." + attr.lower()]}
    add_fragments(whole, "/test", Loader())
    assert whole == split
    assert yaml.safe_load(getattr(fragment("stores"), attr)) == split


def test_the_generator_fails_on_what_it_cannot_merge(monkeypatch):
    gen = generator()
    monkeypatch.setattr(gen, "load_part", lambda slug: {"options": {"x": {"type": "str"}}, "short_description": slug})
    with pytest.raises(gen.GeneratorError):
        gen.combine(("a", "b"))


def test_plugins_that_take_any_reference_extend_the_combined_fragment():
    parts = set(generator().RECIPES[0][2]) | set(generator().RECIPES[1][2])
    users = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "plugins/modules").glob("*.py")
                   if "STORES = True" in p.read_text())  # a SecretModule that takes every store
    assert "plugins/modules/secret.py" in users
    for rel in users + ["plugins/lookup/secret.py"]:
        listed = documentation(rel)["extends_documentation_fragment"]
        wanted = "agentarea.secrets.stores.secret_lookup" if rel.startswith("plugins/lookup/") else "agentarea.secrets.stores"
        assert wanted in listed, rel
        again = sorted(slug for slug in listed if slug.split(".", 2)[2] in parts)
        assert not again, "%s lists parts of %s again: %s" % (rel, wanted, again)


@pytest.mark.parametrize("scheme,name", [("vault", "vault"), ("aws", "aws"), ("k8s", "k8s")])
def test_a_backend_fragment_documents_its_connection_options(scheme, name):
    """access_policy and vault_audit take connection_argspec(): each backend's CONNECTION options, documented by
    the backend fragment's DOCUMENTATION (what the store is asked for lives in READ and MODULES)."""
    cls = _registry.backend_class(scheme)
    documented = yaml.safe_load(fragment(name).DOCUMENTATION)["options"]
    assert set(documented) == set(getattr(cls, "CONNECTION", cls.ARGSPEC))
