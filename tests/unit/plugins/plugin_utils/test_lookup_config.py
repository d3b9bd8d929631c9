# -*- coding: utf-8 -*-
"""plugin_utils/_lookup_config.py is what scripts/gen-lookup-config.py makes of the lookups' documentation, and
with it Ansible's plugin loader knows every lookup's options without parsing its documentation (issue 17: the
parse cost a worker 60-90 ms per task), with exactly the definitions the parse gives."""
import json
import pathlib
import subprocess
import sys
import textwrap

from tests.harness.scripts import load_script

ROOT = pathlib.Path(__file__).resolve().parents[4]
REGENERATE = ".venv/bin/python scripts/gen-lookup-config.py"


def generator():
    return load_script("gen-lookup-config")


def test_the_generated_definitions_are_up_to_date():
    expected = generator().render()
    current = (ROOT / "plugins" / "plugin_utils" / "_lookup_config.py").read_text()
    assert current == expected, (
        "plugins/plugin_utils/_lookup_config.py is not what scripts/gen-lookup-config.py makes of the lookups' "
        "documentation (a DOCUMENTATION or a fragment changed, or the file was edited by hand): regenerate it with "
        "`%s` from the collection root" % REGENERATE)


# Run in a fresh interpreter: the plugin loader and the configuration manager are process-wide.
PROBE = textwrap.dedent("""
    import glob, json, os, sys
    import yaml
    from ansible.plugins import loader
    from ansible.plugins.loader import init_plugin_loader, lookup_loader, fragment_loader
    from ansible.parsing.yaml.loader import AnsibleLoader
    from ansible.utils.plugin_docs import add_fragments
    import ansible.constants as C

    init_plugin_loader()
    parsed = []
    real_add_fragments = loader.add_fragments

    def recording(doc, path, *args, **kwargs):
        parsed.append(path)
        return real_add_fragments(doc, path, *args, **kwargs)

    loader.add_fragments = recording
    out = {"parsed": [], "differ": [], "names": []}
    for path in sorted(glob.glob(os.path.join(sys.argv[1], "plugins", "lookup", "*.py"))):
        name = os.path.basename(path)[:-3]
        if name == "__init__":
            continue
        plugin = lookup_loader.get("agentarea.secrets." + name)
        out["names"].append(name)
        registered = C.config.get_configuration_definitions("lookup", plugin._load_name)
        doc = yaml.load(sys.modules[type(plugin).__module__].DOCUMENTATION, Loader=AnsibleLoader)
        real_add_fragments(doc, path, fragment_loader=fragment_loader, is_module=False)
        expected = {option: {k: v for k, v in spec.items()
                             if k not in ("description", "version_added", "version_added_collection")}
                    for option, spec in doc["options"].items()}
        if json.dumps(registered, sort_keys=True, default=str) != json.dumps(expected, sort_keys=True, default=str):
            out["differ"].append(name)
    out["parsed"] = [os.path.basename(p) for p in parsed]
    print(json.dumps(out))
""")


def check_loader_skips_the_parse(tmp_path, python=sys.executable):
    """Every lookup loaded by ``python``'s ansible-core: its documentation not parsed, its options the same as
    the parse gives (tests/integration/test_matrix.py runs this under every claimed ansible-core)."""
    tree = tmp_path / "ansible_collections" / "agentarea"
    tree.mkdir(parents=True)
    (tree / "secrets").symlink_to(ROOT)
    env = {"ANSIBLE_COLLECTIONS_PATH": str(tmp_path), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin",
           "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp")}
    proc = subprocess.run([python, "-c", PROBE, str(ROOT)], env=env, capture_output=True, text=True,
                          check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert len(out["names"]) >= 13
    assert out["parsed"] == [], "the plugin loader parsed the documentation of %s" % out["parsed"]
    assert out["differ"] == [], "registered definitions differ from the documentation's for %s" % out["differ"]


def test_the_loader_skips_the_parse_and_gets_the_same_definitions(tmp_path):
    check_loader_skips_the_parse(tmp_path)
