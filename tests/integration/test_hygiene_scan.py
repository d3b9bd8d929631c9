# -*- coding: utf-8 -*-
"""Hygiene through ansible-playbook: the secret scan of a git repository built here (a secret committed and then
deleted, still found in history), an .env file that is not ignored (fixed with fix_gitignore), a catalog value
pasted into a config file (a confirmed leak by fingerprint), the hygiene role, and the leak suite."""
import json
import os
import secrets
import subprocess

import pytest

from tests.harness.leak import run_leak_suite

CANARY = "canary-%s-scan" % secrets.token_hex(8)


def git(repo, *args):
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.invalid", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@example.invalid", GIT_CONFIG_GLOBAL="/dev/null", GIT_CONFIG_NOSYSTEM="1")
    return subprocess.run(["git", "-C", str(repo)] + list(args), check=True, capture_output=True, text=True,
                          env=env).stdout.strip()


@pytest.fixture
def leaky_repo(tmp_path):
    """A repository with a secret committed then deleted, a catalog value in a committed config file, an .env
    file that is not ignored, and a catalog whose values live in file stores outside the repository."""
    secret = {"aws": "AKIA" + "".join(secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _i in range(16)),
              "history": "hist-" + secrets.token_urlsafe(18),
              "env": "env-" + secrets.token_hex(16),
              "catalog": "cat-" + secrets.token_urlsafe(18)}
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / ".gitignore").write_text("__pycache__/\n")
    (repo / "app").mkdir()
    (repo / "app" / "settings.py").write_text('import os\nAWS_ACCESS_KEY_ID = "%s"\ndb_password = "%s"\n'
                                              % (secret["aws"], secret["history"]))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "settings")
    leaked_in = git(repo, "rev-parse", "HEAD")
    (repo / "app" / "settings.py").write_text('import os\nAWS_ACCESS_KEY_ID = os.environ["AWS_ACCESS_KEY_ID"]\n')
    git(repo, "commit", "-qam", "read the key from the environment")
    (repo / "config").mkdir()
    (repo / "config" / "app.yml").write_text('database:\n  url: "postgresql://agentarea:%s@db:5432/agentarea"\n'
                                             % secret["catalog"])
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "config")
    (repo / ".env").write_text("API_TOKEN=%s\n" % secret["env"])
    (repo / ".env.example").write_text("API_TOKEN=\n")
    store = tmp_path / "store"
    store.mkdir()
    (store / "database.json").write_text(json.dumps({"username": "agentarea", "password": secret["catalog"]}))
    (store / "jwt").write_text("not-in-the-repo-" + secrets.token_hex(8))
    catalog = [{"name": "database", "owner": "platform", "store": "file://%s" % (store / "database.json")},
               {"name": "jwt", "owner": "platform", "store": "file://%s" % (store / "jwt")},
               {"name": "unstored", "owner": "platform"}]
    return {"repo": repo, "commit": leaked_in, "secrets": secret, "catalog": catalog}


HYGIENE_PLAY = """
- hosts: localhost
  gather_facts: false
  roles:
    - role: agentarea.secrets.hygiene
  post_tasks:
    - name: findings
      ansible.builtin.debug:
        msg: "{{ {'findings': hygiene_findings, 'leaked': hygiene_leaked_catalog_entries} }}"
"""

SCAN_PLAY = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: scan
      agentarea.secrets.secret_scan:
        path: "{{ repo }}"
        fix_gitignore: "{{ fix | default(false) }}"
        fail_on_findings: false
        catalog_fingerprints: >-
          {{ [{'name': 'database', 'fingerprint': lookup('agentarea.secrets.secret', store) | agentarea.secrets.fingerprint}] }}
"""


def test_hygiene_finds_history_env_and_catalog_leaks(ansible, leaky_repo):
    repo, values = leaky_repo["repo"], leaky_repo["secrets"]
    canaries = list(values.values())
    evars = {"agentarea_secrets_catalog": leaky_repo["catalog"], "hygiene_paths": [str(repo)]}
    res = ansible.playbook(HYGIENE_PLAY, extra_vars=evars, expect_rc=2, canaries=canaries)
    assert "open finding(s)" in res.stdout and "leaked catalog entries (rotate them): database" in res.stdout
    scan = res.task("agentarea.secrets.hygiene : Scan each path for committed secrets")["results"][0]
    found = {(f["source"], f["file"], f["line"], f["kind"]): f for f in scan["findings"]}
    # deleted two commits ago, still in history: reported with its commit and line
    aws = found[("history", "app/settings.py", 2, "AWS Access Key")]
    assert aws["commit"] == leaky_repo["commit"] and not aws["in_working_tree"]
    assert aws["detector"] == "detect-secrets:AWSKeyDetector"
    assert found[("history", "app/settings.py", 3, "Secret Keyword")]["commit"] == leaky_repo["commit"]
    # the catalog value pasted into a config file: a confirmed leak, by fingerprint
    cat = found[("tree", "config/app.yml", 2, "catalog secret")]
    assert cat["catalog_entry"] == "database" and cat["detector"] == "catalog-fingerprint" and cat["status"] == "open"
    assert found[("history", "config/app.yml", 2, "catalog secret")]["in_working_tree"]
    assert scan["leaked_catalog_entries"] == ["database"]
    # the .env file is not ignored, .env.example is fine, and the .gitignore lacks the rules
    assert found[("tree", ".env", None, "env file not ignored")]["status"] == "open"
    assert not [f for f in scan["findings"] if f["file"] == ".env.example"]
    assert scan["gitignore"]["missing"] == [".env*", "secrets/", "*.pem", "*.key"]
    assert scan["stats"]["git"] and scan["stats"]["commits_scanned"] == 3
    assert not scan["changed"] and (repo / ".gitignore").read_text() == "__pycache__/\n"

    # fix_gitignore: check mode only plans it; then it is written; the second run changes nothing
    evars_fix = {"repo": str(repo), "store": leaky_repo["catalog"][0]["store"] + "#password"}
    check = ansible.playbook(SCAN_PLAY, extra_vars=dict(evars_fix, fix=True), check=True, diff=True,
                             canaries=canaries)
    assert check.task("scan")["changed"] and (repo / ".gitignore").read_text() == "__pycache__/\n"
    assert "+.env*" in check.stdout
    fixed = ansible.playbook(SCAN_PLAY, extra_vars=dict(evars_fix, fix=True), canaries=canaries)
    result = fixed.task("scan")
    assert result["changed"]
    assert result["gitignore"]["added"] == [".env*", "!.env.example", "secrets/", "*.pem", "*.key"]
    env_finding = [f for f in result["findings"] if f["file"] == ".env"]
    assert env_finding and all(f["status"] == "fixed" for f in env_finding)
    assert git(repo, "check-ignore", ".env") == ".env"
    assert subprocess.run(["git", "-C", str(repo), "check-ignore", "-q", ".env.example"],
                          check=False).returncode == 1
    again = ansible.playbook(SCAN_PLAY, extra_vars=dict(evars_fix, fix=True), canaries=canaries)
    assert not again.task("scan")["changed"] and not [f for f in again.task("scan")["findings"]
                                                      if f["file"] == ".env"]
    assert again.task("scan")["leaked_catalog_entries"] == ["database"]

    # the role after the fix: history and the config file still fail the job, unless told otherwise
    told = ansible.playbook(HYGIENE_PLAY, extra_vars=dict(evars, hygiene_fail_on_findings=False),
                            canaries=canaries)
    assert told.task("findings")["msg"]["leaked"] == ["database"]
    assert {f["status"] for f in told.task("findings")["msg"]["findings"]} == {"open"}


def test_hygiene_leak_suite(ansible, leaky_repo):
    evars = {"agentarea_secrets_catalog": leaky_repo["catalog"], "hygiene_paths": [str(leaky_repo["repo"])],
             "hygiene_fix_gitignore": True}
    play = HYGIENE_PLAY.replace("  roles:", "  vars: %s\n  roles:" % json.dumps(evars))
    results = run_leak_suite(ansible, play, list(leaky_repo["secrets"].values()), expect_rc=2)
    assert all("open finding(s)" in r.stdout for r in results)


def test_scan_without_detect_secrets_is_a_clear_error(ansible, tmp_path):
    """Managed hosts without detect-secrets get MissingDependency, not a traceback."""
    shim = tmp_path / "shim"
    (shim / "detect_secrets").mkdir(parents=True)
    (shim / "detect_secrets" / "__init__.py").write_text("raise ImportError('not installed here')\n")
    play = """
    - hosts: localhost
      gather_facts: false
      tasks:
        - name: scan
          agentarea.secrets.secret_scan:
            path: "%s"
    """ % tmp_path
    res = ansible.playbook(play, env={"PYTHONPATH": str(shim)}, expect_rc=2, canaries=[CANARY])
    assert res.task("scan")["error"] == "MissingDependency" and "detect-secrets" in res.task("scan")["msg"]
    assert "Traceback" not in res.output
