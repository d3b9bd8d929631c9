# -*- coding: utf-8 -*-
"""k8s_secret, docker_secret, rollout and external_secret: every argspec option is documented (with the same type
and default) and nothing else is; secret-looking names say no_log; and none of them is in the `secrets` action
group, whose module_defaults carry every backend's options (these modules take only their own backends')."""
import ast
import importlib
import pathlib

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[4]
MODULES = ("k8s_secret", "docker_secret", "rollout", "external_secret")


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
    options.update(doc.get("options") or {})  # the module's own text wins, as in ansible-doc
    return options


def argspec(name):
    module = importlib.import_module("ansible_collections.agentarea.secrets.plugins.modules." + name)
    return module.argument_spec()


@pytest.mark.parametrize("name", MODULES)
def test_docs_match_the_argspec(name):
    spec, docs = argspec(name), documented(name)
    assert sorted(spec) == sorted(docs), name
    for option, opt in spec.items():
        doc = docs[option]
        assert opt.get("type", "str") == doc.get("type", "str"), (name, option)
        assert opt.get("default") == doc.get("default"), (name, option)
        assert sorted(opt.get("choices") or []) == sorted(doc.get("choices") or []), (name, option)
        if opt.get("elements"):
            assert opt["elements"] == doc.get("elements"), (name, option)


@pytest.mark.parametrize("name", MODULES)
def test_secret_looking_options_say_no_log(name):
    for option, opt in argspec(name).items():
        if any(word in option for word in ("password", "token", "secret", "key", "data")) and option != "data_from":
            assert "no_log" in opt, (name, option)


def test_not_in_the_shared_action_group():
    runtime = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())
    for name in MODULES:
        assert name not in runtime["action_groups"]["secrets"]
        assert "ref_argument_spec" not in (ROOT / "plugins" / "modules" / (name + ".py")).read_text()
