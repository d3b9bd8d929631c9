# -*- coding: utf-8 -*-
"""Run the collection's playbooks the way AWX runs a job, without AWX.

AWX turns a job template into an ``ansible-runner`` run: a private data dir, the project checked out under it,
an inventory, extra vars (the template's, the survey's defaults, the launch answers), and an environment built
from each attached credential by its credential type. This module reproduces that last part from AWX's rules
(``CredentialType.inject_credential`` in awx/main/models/credential/__init__.py), written here from their
description, not copied:

- only inputs with a non-empty value (and booleans) enter the template context, plus ``tower``;
- env, file and extra_vars templates render with ``jinja2.sandbox.ImmutableSandboxedEnvironment()`` and the
  default ``Undefined``: a field left empty renders as "" -- unless its name is a Jinja global (``namespace``,
  ``range``, ``dict``, ``lipsum``, ``cycler``, ``joiner``), which then renders as that global's repr;
- every env injector is set, even when it renders empty;
- each file injector is written to a new file under ``<private_data_dir>/env/`` and is reachable as
  ``{{ tower.filename }}`` (label ``template``) or ``{{ tower.filename.<label> }}`` (label ``template.<label>``);
- extra_vars injectors are written to a YAML file under ``env/`` and passed as ``-e @file``.

Only the rendering is AWX's; the rest (``run_job``) is the part of AWX's task runner that matters here: the
project under ``project/``, a clean environment as in an execution environment, ``ansible_runner.run``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
import sys
import tempfile
from pathlib import Path

import yaml
from jinja2.defaults import DEFAULT_NAMESPACE
from jinja2.sandbox import ImmutableSandboxedEnvironment

from tests.harness.ansible_runner import compile_cache_env

REPO = Path(__file__).resolve().parents[2]
AWX_DIR = REPO / "awx"
VENV_BIN = Path(sys.executable).parent

#: names a credential field must not take: Jinja's globals (what an empty field would render as) and ``tower``
#: (AWX's own entry in the context, which a field of that name would replace)
JINJA_GLOBALS = frozenset(DEFAULT_NAMESPACE)
RESERVED_FIELD_IDS = JINJA_GLOBALS | {"tower"}


def credential_type(name):
    """A credential type of the collection (awx/credential_types/<name>.yml) as a dict."""
    return yaml.safe_load((AWX_DIR / "credential_types" / ("%s.yml" % name)).read_text())


def credential_type_names():
    return sorted(p.stem for p in (AWX_DIR / "credential_types").glob("*.yml"))


def ui_inputs(ctype, **given):
    """The inputs AWX stores when a user fills the credential form: the form starts with each field's default,
    the user types ``given`` and leaves the rest empty (empty strings are stored as such)."""
    inputs = {}
    for field in ctype.get("inputs", {}).get("fields", []):
        if "default" in field:
            inputs[field["id"]] = field["default"]
    inputs.update(given)
    return inputs


class _Tower:
    """The ``tower`` object of the template context (``tower.filename``, ``tower.filename.<label>``)."""


def inject_credential(ctype, inputs, private_data_dir, env=None):
    """Render ``ctype``'s injectors for a credential holding ``inputs`` the way AWX does.

    Returns ``(env, args)``: the environment variables to set (added to ``env`` if given) and the extra
    ``ansible-playbook`` arguments (``-e @file`` for extra_vars injectors). Files go to ``<private_data_dir>/env``.
    """
    env = {} if env is None else env
    args = []
    injectors = ctype.get("injectors") or {}
    tower = _Tower()
    context = {"tower": tower}
    for name, value in inputs.items():
        if isinstance(value, bool):
            context[name] = value
        elif value is not None and len(value):
            context[name] = value
    for field in ctype.get("inputs", {}).get("fields", []):
        if field.get("type") == "boolean" and field["id"] not in inputs:
            context[field["id"]] = False
        if field.get("format") == "ssh_private_key" and field["id"] in context \
                and not context[field["id"]].endswith("\n"):
            context[field["id"]] += "\n"

    sandbox = ImmutableSandboxedEnvironment()
    env_dir = Path(private_data_dir) / "env"
    env_dir.mkdir(parents=True, exist_ok=True)
    for label, template in (injectors.get("file") or {}).items():
        data = sandbox.from_string(template).render(**context)
        fd, path = tempfile.mkstemp(dir=str(env_dir))
        with os.fdopen(fd, "w") as f:
            f.write(data)
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR | stat.S_IRGRP | stat.S_IWGRP)
        if "." not in label:
            tower.filename = path
        else:
            if not hasattr(tower, "filename"):  # AWX refuses a type that mixes "template" and "template.x"
                tower.filename = _Tower()
            setattr(tower.filename, label.split(".", 1)[1], path)
    for var, template in (injectors.get("env") or {}).items():
        env[var] = sandbox.from_string(template).render(**context)
    extra_vars = {}
    for var, template in (injectors.get("extra_vars") or {}).items():
        extra_vars[var] = sandbox.from_string(template).render(**context)
    if extra_vars:
        fd, path = tempfile.mkstemp(dir=str(env_dir))
        with os.fdopen(fd, "w") as f:
            f.write(yaml.safe_dump(extra_vars))
        os.chmod(path, stat.S_IRUSR | stat.S_IRGRP)
        args += ["-e", "@%s" % path]
    return env, args


def survey_extra_vars(survey_spec, answers=None, template_extra_vars=None):
    """Extra vars of a job launched from a template with a survey, in AWX's order: the template's extra vars,
    then every survey default that is not None (an empty text default is passed as ""), then the answers."""
    extra = dict(template_extra_vars or {})
    for element in survey_spec.get("spec", []):
        if element.get("default") is not None:
            extra[element["variable"]] = element["default"]
    extra.update(answers or {})
    return extra


def job_templates():
    """The job templates awx/configure.yml creates: [{'name', 'playbook', 'survey', 'schedule'}]."""
    plays = yaml.safe_load((AWX_DIR / "configure.yml").read_text())
    return plays[0]["vars"]["awx_templates"]


def emergency_survey():
    return json.loads((AWX_DIR / "emergency-survey.json").read_text())


@contextlib.contextmanager
def _clean_environ(base):
    """ansible-runner starts from os.environ; an execution environment does not have the test process's
    VAULT_*/AWS_*/ANSIBLE_* variables, so the run sees only ``base`` (restored afterwards)."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(base)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


class Job:
    """What a finished job left: status, rc, stdout, events, the set_stats data, the artifact dir."""

    def __init__(self, runner, private_data_dir):
        self.runner = runner
        self.private_data_dir = Path(private_data_dir)
        self.status = runner.status
        self.rc = runner.rc
        self.artifact_dir = Path(runner.config.artifact_dir)
        stdout = self.artifact_dir / "stdout"
        self.stdout = stdout.read_text(errors="replace") if stdout.exists() else ""
        self.events = list(runner.events)

    @property
    def stats(self):
        """``set_stats`` data as AWX reads it: the ``artifact_data`` of the playbook_on_stats event."""
        for event in self.events:
            if event.get("event") == "playbook_on_stats":
                return event.get("event_data", {}).get("artifact_data") or {}
        return {}

    def task_results(self, task):
        return [e["event_data"].get("res", {}) for e in self.events
                if e.get("event", "").startswith("runner_on_") and e.get("event_data", {}).get("task") == task]

    def artifact_texts(self):
        """Every file the job left in the private data dir (ansible-runner's artifacts, reports the playbook wrote,
        the env/ files AWX gave it) except its inputs: the copied playbooks and the inventory (AWX writes the
        inventory's variables there, which hold whatever the user put in them, an inline credential of a catalog's
        target included), as {path: text}."""
        texts = {}
        for dirpath, _dirs, names in os.walk(self.private_data_dir):
            rel = Path(dirpath).relative_to(self.private_data_dir)
            if rel.parts[:2] == ("project", "playbooks") or rel.parts[:1] == ("inventory",):
                continue
            for name in names:
                path = Path(dirpath) / name
                with contextlib.suppress(OSError):
                    texts[str(path)] = path.read_text(errors="replace")
        return texts

    def assert_no_leak(self, canaries, credential_secrets=()):
        """No canary in stdout, job_events or any file; a credential's secrets only where AWX and ansible-runner
        themselves put the job's environment: the env/ files and ansible-runner's ``artifacts/<id>/command`` (its
        record of the command and environment it ran; AWX discards the private data dir after the job)."""
        places = {"stdout": self.stdout, "job_events": json.dumps(self.events)}
        places.update(self.artifact_texts())
        env_dir = str(self.private_data_dir / "env") + os.sep
        for where, text in places.items():
            for canary in [c for c in canaries if c]:
                assert canary not in text, "a canary value reached %s" % where
            if where.startswith(env_dir) or where == str(self.artifact_dir / "command"):
                continue
            for secret in [c for c in credential_secrets if c]:
                assert secret not in text, "a credential secret reached %s" % where

    def __repr__(self):
        return "Job(status=%s, rc=%s)\n%s" % (self.status, self.rc, self.stdout[-8000:])


def run_job(base, playbook, credentials=(), extra_vars=None, inventory_vars=None, collections_path=None,
            job_id=1, template_name="job", launch_type="manual", ee_env=None, timeout=300, project_files=None):
    """Run ``playbook`` (relative to the repository, e.g. playbooks/rotate.yml) as an AWX job.

    ``credentials`` are ``(type, inputs)`` pairs, rendered with :func:`inject_credential`, the type named (one of
    the collection's, awx/credential_types/<name>.yml) or given as a dict (a custom credential type of the user's
    own, as AWX's credential types page creates them); ``extra_vars`` are
    the job's extra vars (see :func:`survey_extra_vars`); ``inventory_vars`` go to the ``localhost`` host of the
    inventory (where a catalog usually lives); ``ee_env`` is what the execution environment itself sets
    (a CA bundle in its trust store, say), below the credentials; ``project_files`` ({name: text}) are added to the
    project.
    """
    import ansible_runner

    pdd = Path(base) / ("job%d" % job_id)
    (pdd / "project").mkdir(parents=True)
    (pdd / "inventory").mkdir()
    shutil.copytree(REPO / "playbooks", pdd / "project" / "playbooks")
    for name, text in (project_files or {}).items():  # more of the project: a playbook of the test's own
        (pdd / "project" / name).write_text(text)
    # the EE's Python (with the SDKs) runs the modules, as in AWX's localhost
    inventory = {"all": {"hosts": {"localhost": dict({"ansible_connection": "local",
                                                      "ansible_python_interpreter": sys.executable},
                                                     **(inventory_vars or {}))}}}
    (pdd / "inventory" / "hosts.yml").write_text(yaml.safe_dump(inventory))
    home = pdd / "home"
    home.mkdir()
    # What an execution environment provides: PATH, HOME, the installed collection; nothing of the test process.
    base_env = {"PATH": "%s:/usr/local/bin:/usr/bin:/bin" % VENV_BIN, "HOME": str(home), "LANG": "C.UTF-8",
                "PWD": str(pdd / "project")}
    base_env.update(compile_cache_env())  # the test session's compile caches (tests/harness/compile_cache)
    envvars = {"ANSIBLE_HOST_KEY_CHECKING": "False", "ANSIBLE_RETRY_FILES_ENABLED": "False",
               "ANSIBLE_INVENTORY_UNPARSED_FAILED": "True", "ANSIBLE_FORCE_COLOR": "False",
               "ANSIBLE_LOCAL_TEMP": str(pdd / "tmp"), "PYTHONWARNINGS": "ignore",
               "JOB_ID": str(job_id), "AWX_HOST": "https://awx.example.invalid", "PROJECT_REVISION": "harness"}
    if collections_path:
        envvars["ANSIBLE_COLLECTIONS_PATH"] = str(collections_path)
    envvars.update(ee_env or {})
    cmdline = []
    for ctype, inputs in credentials:
        ctype = ctype if isinstance(ctype, dict) else credential_type(ctype)
        _env, args = inject_credential(ctype, inputs, pdd, envvars)
        cmdline += args
    # The variables AWX adds to every job's extra vars (``awx_meta_vars`` of the job), under both prefixes: the
    # job, its template, project and inventory, and who launched it (a schedule instead of a user when scheduled).
    job_vars = {"awx_execution_node": "awx-task-0"}
    for prefix in ("awx", "tower"):
        job_vars.update({prefix + "_job_id": job_id, prefix + "_job_launch_type": launch_type,
                         prefix + "_job_template_id": 7, prefix + "_job_template_name": template_name,
                         prefix + "_project_revision": "harness", prefix + "_project_scm_branch": "",
                         prefix + "_inventory_id": 1, prefix + "_inventory_name": "localhost"})
        if launch_type == "scheduled":
            job_vars.update({prefix + "_schedule_id": 3, prefix + "_schedule_name": template_name + " schedule"})
        else:
            job_vars.update({prefix + "_user_id": 1, prefix + "_user_name": "admin",
                             prefix + "_user_email": "admin@example.invalid", prefix + "_user_first_name": "",
                             prefix + "_user_last_name": ""})
    job_vars.update(extra_vars or {})
    with _clean_environ(base_env):
        runner = ansible_runner.run(private_data_dir=str(pdd), playbook=playbook, envvars=envvars,
                                    extravars=job_vars, ident="job%d" % job_id, quiet=True,
                                    cmdline=" ".join(cmdline) or None, timeout=timeout)
    return Job(runner, pdd)
