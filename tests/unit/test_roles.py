# -*- coding: utf-8 -*-
"""Every role documents exactly its defaults in meta/argument_specs.yml, with the same default values, and has a
README; role variables carry the role's name as prefix."""
import pathlib

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
ROLES = sorted(p.name for p in (ROOT / "roles").iterdir() if p.is_dir()) if (ROOT / "roles").is_dir() else []


@pytest.mark.parametrize("role", ROLES)
def test_argument_specs_mirror_defaults(role):
    base = ROOT / "roles" / role
    defaults = yaml.safe_load((base / "defaults" / "main.yml").read_text()) or {}
    spec = yaml.safe_load((base / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]["options"]
    assert set(defaults) == set(spec), "defaults and argument_specs differ: %s" % (set(defaults) ^ set(spec))
    for name, value in defaults.items():
        assert spec[name].get("default") == value, "%s: default differs" % name
        assert name.startswith(role + "_"), "%s must start with %s_" % (name, role)
    assert (base / "README.md").exists()
