# -*- coding: utf-8 -*-
"""Docker swarm secrets through ansible-playbook against the harness's real dockerd in swarm mode: docker_secret
(keyed fingerprint label, versioned rotation that moves a running service and only then removes what no service
uses), docker:// references in the generic modules, and rollout of a docker_service. A real service runs the
locally imported busybox image and reads its secret file; state is checked with the docker SDK."""
import hashlib
import time
import uuid

import docker
import pytest
from docker.types import EndpointSpec, SecretReference, ServiceMode, UpdateConfig

from tests.harness.leak import run_leak_suite

pytestmark = pytest.mark.xdist_group("swarm")  # one swarm per host: one xdist worker

CANARY = "canary-61a9d2f0-docker"
CANARY2 = "canary-c7b3e845-docker"
CANARY3 = "canary-0e92a7bd-docker"


def play(tasks, vars_files=()):
    head = "- hosts: localhost\n  gather_facts: false\n"
    if vars_files:
        head += "  vars_files: [%s]\n" % ", ".join(vars_files)
    return head + "  tasks:\n" + "\n".join(
        "    " + line if line.strip() else line for line in tasks.strip("\n").splitlines()) + "\n"


def wait_for(predicate, timeout=90.0, interval=0.3, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("timed out waiting for %s" % what)


@pytest.fixture(scope="module")
def swarm(harness):
    info = harness.start("docker")
    cli = docker.DockerClient(base_url=info["docker_host"])
    yield {"cli": cli, "api": cli.api, "image": info["image"], "env": {"DOCKER_HOST": info["docker_host"]}}
    cli.close()


@pytest.fixture
def uid():
    return uuid.uuid4().hex[:8]


def secrets_named(api, prefix):
    return sorted(s["Spec"]["Name"] for s in api.secrets() if s["Spec"]["Name"].startswith(prefix))


def start_service(swarm, name, secret_name, target):
    """A service that reads /run/secrets/<target>, updated fast (short monitor, no stop grace period)."""
    secret = swarm["cli"].secrets.get(swarm["cli"].secrets.list(filters={"name": secret_name})[0].id)
    svc = swarm["cli"].services.create(
        swarm["image"], name=name, command=["/bin/busybox", "sleep", "3600"],
        secrets=[SecretReference(secret.id, secret_name, filename=target)], networks=["host"],
        endpoint_spec=EndpointSpec(), mode=ServiceMode("replicated", 1), stop_grace_period=0,
        update_config=UpdateConfig(parallelism=1, delay=0, monitor=1000000000, order="stop-first"))
    read_secret(swarm, name, target)
    return svc


def running_container(swarm, service):
    tasks = [t for t in swarm["api"].tasks(filters={"service": service, "desired-state": "running"})
             if t["Status"]["State"] == "running"]
    return tasks[0]["Status"]["ContainerStatus"]["ContainerID"] if len(tasks) == 1 else None


def read_secret(swarm, service, target):
    cid = wait_for(lambda: running_container(swarm, service), what="a running task of %s" % service)
    code, output = swarm["cli"].containers.get(cid).exec_run(["/bin/busybox", "cat", "/run/secrets/%s" % target])
    assert code == 0, output
    return cid, output.decode()


def remove_service(swarm, name):
    try:
        swarm["cli"].services.get(name).remove()
    except docker.errors.NotFound:
        return
    wait_for(lambda: not swarm["cli"].containers.list(
        all=True, ignore_removed=True, filters={"label": "com.docker.swarm.service.name=%s" % name}),
        what="containers of %s gone" % name)


def test_docker_secret_rotation_moves_a_running_service(ansible, swarm, uid):
    api, env = swarm["api"], swarm["env"]
    name, svc, other = "db_password_" + uid, "api_" + uid, "legacy_" + uid
    write = play("""
- name: secret
  agentarea.secrets.docker_secret:
    name: %(name)s
    value: "{{ value }}"
    labels: {owner: platform-team}
    services: "{{ services }}"
    wait_timeout: 120
  register: secret
""" % {"name": name})
    try:
        # check -> create -> again
        check = ansible.playbook(write, env=env, check=True, diff=True, extra_vars={"value": CANARY, "services": []},
                                 canaries=[CANARY])
        assert check.task("secret")["action"] == "created" and secrets_named(api, name) == []
        first = ansible.playbook(write, env=env, diff=True, verbosity=4, extra_vars={"value": CANARY, "services": []},
                                 canaries=[CANARY])
        res = first.task("secret")
        assert res["action"] == "created" and res["secret_name"] == name and res["version"] == 1
        spec = api.inspect_secret(res["secret_id"])["Spec"]
        assert spec["Labels"]["owner"] == "platform-team"
        assert spec["Labels"]["agentarea.secrets.fingerprint"] == res["fingerprint"]
        # a keyed HMAC, not a hash anyone can recompute from a guess (community.docker uses a bare SHA-224)
        assert res["fingerprint"].split(":")[1] not in (hashlib.sha256(CANARY.encode()).hexdigest(),
                                                        hashlib.sha224(CANARY.encode()).hexdigest())
        again = ansible.playbook(write, env=env, extra_vars={"value": CANARY, "services": []}, canaries=[CANARY])
        assert not again.task("secret")["changed"] and secrets_named(api, name) == [name]

        # two services use version 1; the one we name is moved, the other keeps v1 alive
        start_service(swarm, svc, name, "db_password")
        start_service(swarm, other, name, "legacy_password")
        assert read_secret(swarm, svc, "db_password")[1] == CANARY
        ev = {"value": CANARY2, "services": [svc]}
        check = ansible.playbook(write, env=env, check=True, diff=True, extra_vars=ev, canaries=[CANARY, CANARY2])
        res = check.task("secret")
        assert res["action"] == "rotated" and res["secret_name"] == name + "_v2"
        assert res["services"] == {svc: {"updated": True}} and secrets_named(api, name) == [name]
        assert read_secret(swarm, svc, "db_password")[1] == CANARY

        rotated = ansible.playbook(write, env=env, diff=True, extra_vars=ev, canaries=[CANARY, CANARY2])
        res = rotated.task("secret")
        assert res["action"] == "rotated" and res["version"] == 2 and res["secret_name"] == name + "_v2"
        assert res["services"][svc]["converged"] and res["services"][svc]["duration"] > 0
        assert res["removed"] == [] and res["kept_in_use"] == {name: [other]}  # never removes one in use
        cid, value = read_secret(swarm, svc, "db_password")  # the same target file name, the new value
        assert value == CANARY2
        assert read_secret(swarm, other, "legacy_password")[1] == CANARY
        assert secrets_named(api, name) == [name, name + "_v2"]
        refs = api.inspect_service(svc)["Spec"]["TaskTemplate"]["ContainerSpec"]["Secrets"]
        assert [(r["SecretName"], r["File"]["Name"]) for r in refs] == [(name + "_v2", "db_password")]

        unchanged = ansible.playbook(write, env=env, extra_vars=ev, canaries=[CANARY, CANARY2])
        assert not unchanged.task("secret")["changed"] and unchanged.task("secret")["kept_in_use"] == {name: [other]}

        # once the other service is gone, version 1 is unused: the next run removes it
        remove_service(swarm, other)
        pruned = ansible.playbook(write, env=env, extra_vars=ev, canaries=[CANARY, CANARY2]).task("secret")
        assert pruned["changed"] and pruned["action"] == "none" and pruned["removed"] == [name]
        assert secrets_named(api, name) == [name + "_v2"]

        # rollout: a forced update gives a new container that reads the same value
        roll = play("""
- name: rollout
  agentarea.secrets.rollout: {kind: docker_service, name: "%(svc)s", timeout: 120}
  register: rollout
""" % {"svc": svc})
        assert ansible.playbook(roll, env=env, check=True).task("rollout")["restarted"] == ["docker_service/" + svc]
        assert running_container(swarm, svc) == cid
        res = ansible.playbook(roll, env=env).task("rollout")
        assert res["workloads"][0]["converged"] and res["durations"]["docker_service/" + svc] > 0
        new_cid, value = read_secret(swarm, svc, "db_password")
        assert new_cid != cid and value == CANARY2

        # state=absent refuses while a service uses it, and names the service
        absent = play("""
- name: absent
  agentarea.secrets.docker_secret: {name: %(name)s, state: absent}
  register: absent
""" % {"name": name})
        failed = ansible.playbook(absent, env=env, expect_rc=2)
        assert "not removed, in use: %s_v2 by %s" % (name, svc) in failed.output
        assert secrets_named(api, name) == [name + "_v2"]
        remove_service(swarm, svc)
        assert ansible.playbook(absent, env=env, check=True).task("absent")["changed"]
        assert secrets_named(api, name) == [name + "_v2"]
        assert ansible.playbook(absent, env=env).task("absent")["removed"] == [name + "_v2"]
        assert secrets_named(api, name) == []
        assert not ansible.playbook(absent, env=env).task("absent")["changed"]
    finally:
        for service in (svc, other):
            remove_service(swarm, service)
        for s in api.secrets():
            if s["Spec"]["Name"].startswith(name):
                api.remove_secret(s["ID"])


def test_docker_refs_in_the_generic_modules_and_src(ansible, swarm, uid, tmp_path):
    api, env = swarm["api"], swarm["env"]
    name, from_file = "api_token_" + uid, "gcp_sa_" + uid
    src = tmp_path / "sa.json"
    src.write_bytes(b'{"private_key": "%s"}\n\x00\xff' % CANARY3.encode())
    tasks = play("""
- name: write
  agentarea.secrets.secret: {ref: "docker://%(name)s", value: "{{ value }}", tags: {app: agentarea}}
  register: write
- name: info
  agentarea.secrets.secret_info: {ref: "docker://%(name)s"}
  register: info
- name: from a file
  agentarea.secrets.docker_secret: {name: %(file)s, src: "%(src)s"}
  register: from_file
""" % {"name": name, "file": from_file, "src": src})
    try:
        check = ansible.playbook(tasks, env=env, check=True, diff=True, extra_vars={"value": CANARY},
                                 canaries=[CANARY, CANARY3])
        assert check.task("write")["changed"] and check.task("info")["state"] == "missing"
        first = ansible.playbook(tasks, env=env, diff=True, extra_vars={"value": CANARY}, canaries=[CANARY, CANARY3])
        assert first.task("write")["action"] == "created"
        info = first.task("info")
        assert info["exists"] and info["fingerprint"] == first.task("write")["fingerprint"]
        assert info["metadata"]["tags"] == {"app": "agentarea"} and info["metadata"]["secret_name"] == name
        assert "read" not in info["capabilities"]
        assert first.task("from a file")["action"] == "created"
        second = ansible.playbook(tasks, env=env, extra_vars={"value": CANARY}, canaries=[CANARY, CANARY3])
        assert not second.task("write")["changed"] and not second.task("from a file")["changed"]
        # a new value through the generic module: a new version, the unused old one removed
        third = ansible.playbook(tasks, env=env, extra_vars={"value": CANARY2}, canaries=[CANARY, CANARY2, CANARY3])
        assert third.task("write")["version"] == "2" and secrets_named(api, name) == [name + "_v2"]
        read = play("""
- name: read
  ansible.builtin.debug:
    msg: "{{ lookup('agentarea.secrets.secret', 'docker://%(name)s') }}"
""" % {"name": name})
        failed = ansible.playbook(read, env=env, expect_rc=2)
        assert "reading is not supported by the docker backend" in failed.output
        cleanup = play("""
- name: remove
  agentarea.secrets.secret: {ref: "docker://%(name)s", state: absent}
  register: removed
""" % {"name": name})
        assert ansible.playbook(cleanup, env=env).task("remove")["changed"]
        assert not ansible.playbook(cleanup, env=env).task("remove")["changed"]
    finally:
        for s in api.secrets():
            if s["Spec"]["Name"].startswith((name, from_file)):
                api.remove_secret(s["ID"])


def test_docker_plugins_leak_nothing(ansible, swarm, uid):
    """-vvvv --diff, check mode and JSON results over docker_secret, the generic modules and rollout, with a
    failing task and a loop."""
    name = "leak_" + uid
    leak = play("""
- name: write
  agentarea.secrets.docker_secret: {name: %(name)s, value: "{{ c1 }}", labels: {a: b}}
- name: generic
  agentarea.secrets.secret: {ref: "docker://%(name)s_generic", value: "{{ c2 }}"}
- name: info
  agentarea.secrets.secret_info: {ref: "docker://%(name)s"}
- name: a loop
  agentarea.secrets.docker_secret:
    name: "%(name)s_{{ item }}"
    value: "{{ {'a': c1, 'b': c3}[item] }}"
  loop: [a, b]
- name: rollout of nothing
  agentarea.secrets.rollout: {kind: docker_service, name: "none_%(uid)s"}
  ignore_errors: true
- name: a failing rotation (no such service)
  agentarea.secrets.docker_secret: {name: %(name)s, value: "{{ c3 }}", services: ["none_%(uid)s"]}
""" % {"name": name, "uid": uid}, vars_files=["canaries.yml"])
    try:
        run_leak_suite(ansible, leak, [CANARY, CANARY2, CANARY3], env=swarm["env"],
                       files={"canaries.yml": "c1: %s\nc2: %s\nc3: %s\n" % (CANARY, CANARY2, CANARY3)},
                       expect_rc=2, allowed_files=["canaries.yml"])
    finally:
        for s in swarm["api"].secrets():
            if s["Spec"]["Name"].startswith(name):
                swarm["api"].remove_secret(s["ID"])


def test_compose_secret_files_example(ansible, tmp_path):
    """examples/compose-secret-files.yml writes the files examples/compose.yaml mounts (restart off: no compose)."""
    import os
    import pathlib
    import stat

    import yaml

    root = pathlib.Path(__file__).resolve().parents[2]
    project = tmp_path / "project"
    sources = tmp_path / "sources"
    sources.mkdir()
    values = {"db_password": CANARY, "jwt_secret": CANARY2, "openai_api_key": CANARY3}
    for name, value in values.items():
        (sources / name).write_text(value)
    compose = yaml.safe_load((root / "examples" / "compose.yaml").read_text())
    ev = {"compose_project_dir": str(project), "compose_secret_owner": str(os.getuid()), "compose_restart": False,
          "compose_secrets": [{"name": n, "ref": "file://%s" % (sources / n), "services": ["api"]} for n in values]}
    example = str(root / "examples" / "compose-secret-files.yml")
    check = ansible.playbook(example, extra_vars=ev, check=True, diff=True, canaries=list(values.values()))
    assert check.task("Secret files, one per compose secret")["changed"] and not project.exists()
    ansible.playbook(example, extra_vars=ev, diff=True, verbosity=4, canaries=list(values.values()))
    for name, spec in compose["secrets"].items():
        path = project / spec["file"]
        assert path.read_text() == values[name] and stat.S_IMODE(path.stat().st_mode) == 0o400
    again = ansible.playbook(example, extra_vars=ev, canaries=list(values.values()))
    assert not again.task("Secret files, one per compose secret")["changed"]
