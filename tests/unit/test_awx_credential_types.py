# -*- coding: utf-8 -*-
"""The AWX credential types under awx/credential_types/, rendered by AWX's rules (tests/harness/awx.py): no field
id that an empty field would turn into a Jinja global, templates that name only their own fields, and nothing
harmful injected when the optional fields are left empty."""
import keyword
import os

import pytest
import yaml
from jinja2 import meta
from jinja2.sandbox import ImmutableSandboxedEnvironment

from tests.harness import awx

TYPES = awx.credential_type_names()
# Jinja's own literals and operators cannot be field names in a template either
JINJA_WORDS = {"true", "false", "none", "True", "False", "None", "and", "or", "not", "in", "is", "if", "else"}


def fields(ctype):
    return ctype["inputs"]["fields"]


def templates(ctype):
    injectors = ctype.get("injectors") or {}
    for kind in ("file", "env", "extra_vars"):
        for name, template in (injectors.get(kind) or {}).items():
            yield "%s %s" % (kind, name), template


def only_required(ctype, value="x"):
    """A credential as a user leaves it: the required fields filled, every other field empty."""
    inputs = awx.ui_inputs(ctype)
    for field in fields(ctype):
        if field["id"] in ctype["inputs"].get("required", []):
            inputs[field["id"]] = inputs.get(field["id"]) or value
        elif "default" not in field:
            inputs[field["id"]] = ""
    return inputs


def test_every_type_is_configured():
    plays = yaml.safe_load((awx.AWX_DIR / "configure.yml").read_text())
    assert sorted(plays[0]["vars"]["awx_credential_types"]) == TYPES


@pytest.mark.parametrize("name", TYPES)
def test_no_field_id_is_a_jinja_global(name):
    ids = [f["id"] for f in fields(awx.credential_type(name))]
    clash = sorted(set(ids) & awx.RESERVED_FIELD_IDS)
    assert not clash, "%s: field id(s) %s render as Jinja globals (or AWX's tower) when left empty" % (name, clash)
    for field_id in ids:
        assert field_id.isidentifier() and not keyword.iskeyword(field_id) and field_id not in JINJA_WORDS, field_id


def test_jinja_globals_are_what_the_check_uses():
    # the list the check relies on is the one Jinja renders with: a new global in a Jinja release is caught
    assert awx.JINJA_GLOBALS == set(ImmutableSandboxedEnvironment().globals)
    assert {"namespace", "range", "dict", "lipsum", "cycler", "joiner"} <= awx.JINJA_GLOBALS


@pytest.mark.parametrize("name", TYPES)
def test_templates_name_only_their_fields(name):
    ctype = awx.credential_type(name)
    ids = {f["id"] for f in fields(ctype)} | {"tower"}
    env = ImmutableSandboxedEnvironment()
    for where, template in templates(ctype):
        names = meta.find_undeclared_variables(env.parse(template))
        assert names <= ids, "%s %s names %s, which is no field" % (name, where, sorted(names - ids))
    assert set(ctype["inputs"].get("required", [])) <= ids


@pytest.mark.parametrize("name", TYPES)
def test_empty_optional_fields_inject_nothing_harmful(name, tmp_path):
    ctype = awx.credential_type(name)
    env, args = awx.inject_credential(ctype, only_required(ctype), tmp_path)
    assert set(env) == set(ctype["injectors"].get("env", {})), "AWX sets every env injector"
    for var, value in env.items():
        assert "<" not in value and "object at 0x" not in value, "%s=%r" % (var, value)
        if value.startswith(str(tmp_path)):
            # a file injector's path is passed only when the file holds something
            assert os.path.getsize(value) > 0, "%s names an empty file" % var
    assert args == []


def test_vault_namespace_left_empty_is_empty(tmp_path):
    """The reported bug: VAULT_NAMESPACE=<class 'jinja2.utils.Namespace'> from a credential without a namespace."""
    ctype = awx.credential_type("vault")
    env = awx.inject_credential(ctype, awx.ui_inputs(ctype, url="https://vault.example:8200", token="t"),
                                tmp_path)[0]
    assert env["VAULT_NAMESPACE"] == "" and env["VAULT_CACERT"] == ""
    assert env["ANSIBLE_AGENTAREA_SECRETS_VAULT_AUTH_METHOD"] == "token"
    # created through the API without the defaulted field, the method still says token
    env = awx.inject_credential(ctype, {"url": "https://vault.example:8200", "token": "t"}, tmp_path)[0]
    assert env["ANSIBLE_AGENTAREA_SECRETS_VAULT_AUTH_METHOD"] == "token"
    env = awx.inject_credential(ctype, awx.ui_inputs(ctype, url="u", vault_namespace="team1", ca_cert="PEM"),
                                tmp_path)[0]
    assert env["VAULT_NAMESPACE"] == "team1"
    with open(env["VAULT_CACERT"]) as f:
        assert f.read() == "PEM"


def test_harness_renders_like_awx(tmp_path):
    """The rules the harness follows, on a type made to show each of them."""
    ctype = {"inputs": {"fields": [{"id": "namespace", "type": "string"}, {"id": "flag", "type": "boolean"},
                                   {"id": "key", "type": "string", "format": "ssh_private_key"},
                                   {"id": "blank", "type": "string"}]},
             "injectors": {"file": {"template.one": "{{ key }}", "template.other": "x{{ blank }}"},
                           "env": {"NS": "{{ namespace }}", "FLAG": "{{ flag }}", "BLANK": "{{ blank }}",
                                   "ONE": "{{ tower.filename.one }}", "OTHER": "{{ tower.filename.other }}"},
                           "extra_vars": {"ev": "{{ blank }}-{{ flag }}"}}}
    env, args = awx.inject_credential(ctype, {"namespace": "", "key": "KEY", "blank": ""}, tmp_path)
    assert env["NS"] == "<class 'jinja2.utils.Namespace'>"  # what AWX injects for an empty `namespace` field
    assert env["FLAG"] == "False" and env["BLANK"] == ""
    assert open(env["ONE"]).read() == "KEY\n" and open(env["OTHER"]).read() == "x"
    assert os.path.dirname(env["ONE"]) == str(tmp_path / "env")
    assert args[0] == "-e" and yaml.safe_load(open(args[1][1:])) == {"ev": "-False"}
    single = {"inputs": {"fields": [{"id": "k", "type": "string"}]},
              "injectors": {"file": {"template": "{{ k }}"}, "env": {"F": "{{ tower.filename }}"}}}
    env = awx.inject_credential(single, {"k": "v"}, tmp_path)[0]
    assert open(env["F"]).read() == "v"


def test_survey_matches_the_emergency_role():
    survey = awx.emergency_survey()
    defaults = yaml.safe_load((awx.REPO / "roles" / "emergency" / "defaults" / "main.yml").read_text())
    variables = [q["variable"] for q in survey["spec"]]
    assert set(variables) <= set(defaults)
    extra = awx.survey_extra_vars(survey, {"emergency_confirm": "YES"})
    assert extra["emergency_names"] == "" and extra["emergency_confirm"] == "YES"
