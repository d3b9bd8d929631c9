# -*- coding: utf-8 -*-
"""Rollout status the way kubectl judges it, Docker service convergence, and the waiting loop."""
import pytest

from ansible_collections.agentarea.secrets.plugins.module_utils.distribution import _rollout
from ansible_collections.agentarea.secrets.plugins.module_utils.distribution._rollout import (
    RolloutFailed,
    Workload,
    docker_status,
    k8s_status,
    wait_all,
)


def deployment(generation=2, observed=2, replicas=2, updated=2, total=2, available=2, conditions=()):
    return {"metadata": {"name": "api", "generation": generation},
            "spec": {"replicas": replicas},
            "status": {"observedGeneration": observed, "updatedReplicas": updated, "replicas": total,
                       "availableReplicas": available, "conditions": list(conditions)}}


@pytest.mark.parametrize("obj,done,message", [
    (deployment(observed=1), False, "waiting for the deployment spec update to be observed"),
    (deployment(updated=1), False, "1 out of 2 new replicas have been updated"),
    (deployment(total=3), False, "1 old replicas are pending termination"),
    (deployment(available=1), False, "1 of 2 updated replicas are available"),
    (deployment(), True, "successfully rolled out"),
])
def test_deployment_status(obj, done, message):
    assert k8s_status("deployment", obj) == (done, message, None)


def test_deployment_progress_deadline_fails():
    obj = deployment(updated=1, conditions=[{"type": "Progressing", "reason": "ProgressDeadlineExceeded"}])
    assert k8s_status("deployment", obj) == (False, "", 'deployment "api" exceeded its progress deadline')


def sts(partition=None, ready=2, updated=2, current="r1", update="r1", strategy="RollingUpdate", observed=3):
    spec = {"replicas": 2, "updateStrategy": {"type": strategy}}
    if partition is not None:
        spec["updateStrategy"]["rollingUpdate"] = {"partition": partition}
    return {"metadata": {"name": "db", "generation": 3}, "spec": spec,
            "status": {"observedGeneration": observed, "readyReplicas": ready, "updatedReplicas": updated,
                       "currentRevision": current, "updateRevision": update}}


def test_statefulset_status():
    assert k8s_status("statefulset", sts(observed=2))[0] is False
    assert k8s_status("statefulset", sts(ready=1))[1] == "waiting for 1 pods to be ready"
    assert k8s_status("statefulset", sts(update="r2"))[0] is False
    assert k8s_status("statefulset", sts())[0] is True
    assert k8s_status("statefulset", sts(partition=0, updated=1))[1] == "1 out of 2 new pods have been updated"
    assert k8s_status("statefulset", sts(partition=1, updated=1, update="r2"))[0] is True
    assert k8s_status("statefulset", sts(strategy="OnDelete", ready=0))[0] is True  # kubectl cannot wait on it


def test_daemonset_status():
    ds = {"metadata": {"name": "agent", "generation": 2}, "spec": {},
          "status": {"observedGeneration": 2, "desiredNumberScheduled": 3, "updatedNumberScheduled": 2,
                     "numberAvailable": 3}}
    assert k8s_status("daemonset", ds) == (False, "2 out of 3 new pods have been updated", None)
    ds["status"]["updatedNumberScheduled"] = 3
    assert k8s_status("daemonset", ds) == (True, "successfully rolled out", None)


def service(force=1, secret="s2", replicas=1, update=None):
    svc = {"Spec": {"Mode": {"Replicated": {"Replicas": replicas}},
                    "TaskTemplate": {"ForceUpdate": force, "ContainerSpec": {"Image": "i",
                                                                             "Secrets": [{"SecretID": secret}]}}}}
    if update:
        svc["UpdateStatus"] = {"State": update, "Message": "update paused due to failure"}
    return svc


def task(desired="running", state="running", force=1, secret="s2", err=None):
    t = {"DesiredState": desired, "Status": {"State": state},
         "Spec": {"ForceUpdate": force, "ContainerSpec": {"Image": "i", "Secrets": [{"SecretID": secret}]}}}
    if err:
        t["Status"]["Err"] = err
    return t


def test_docker_convergence():
    assert docker_status(service(), [task()])[0] is True
    # the old task still runs the old secret: not yet
    done, message = docker_status(service(), [task(secret="s1")])[:2]
    assert not done and message.startswith("0 of 1 tasks run the current spec")
    assert not docker_status(service(), [task(), task(desired="shutdown", secret="s1")])[0]
    assert docker_status(service(), [task(), task(desired="shutdown", state="shutdown", secret="s1")])[0]
    assert docker_status(service(force=2), [task(force=1)])[0] is False
    rejected = task(state="rejected", err="no such image", desired="shutdown")
    assert "last task error: no such image" in docker_status(service(), [rejected])[1]
    assert docker_status(service(update="updating"), [task()])[0] is False
    assert docker_status(service(update="paused"), [task()])[2] == "update paused: update paused due to failure"
    assert docker_status(service(update="completed"), [task()])[0] is True


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_wait_all_reports_durations_and_names_what_timed_out():
    clock = Clock()
    polls = {"a": iter([(False, "1 of 2", None), (True, "done", None)]),
             "b": iter([(False, "0 of 1", None)] * 100)}
    a = Workload("deployment", "a", "ns", lambda: next(polls["a"]))
    b = Workload("deployment", "b", "ns", lambda: next(polls["b"]))
    a.started = b.started = 0.0
    with pytest.raises(RolloutFailed) as exc:
        wait_all([a, b], timeout=5, interval=1, sleep=clock.sleep, clock=clock)
    assert str(exc.value) == "timed out after 5s waiting for deployment ns/b (0 of 1)"
    assert a.done and a.duration == 1.0 and not b.done
    assert b.report() == {"kind": "deployment", "name": "b", "namespace": "ns", "converged": False,
                          "status": "0 of 1", "duration": None}


def test_wait_all_fails_fast_on_an_error():
    clock = Clock()
    w = Workload("docker_service", "api", None, lambda: (False, "", "update paused: x"))
    with pytest.raises(RolloutFailed, match="docker_service api: update paused: x"):
        wait_all([w], timeout=60, sleep=clock.sleep, clock=clock)
    assert clock.now == 0.0


def test_restart_stamps_are_rfc3339_with_microseconds():
    # two restarts within one second must differ, or the second patch would restart nothing
    import re
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$", _rollout.now_rfc3339())


def test_docker_update_reapplies_the_change_to_a_fresh_spec_when_out_of_sequence():
    from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import BackendUnavailable

    def svc(index, labels):
        return {"ID": "s1", "Version": {"Index": index},
                "Spec": {"Name": "api", "Labels": labels, "Mode": {"Replicated": {"Replicas": 1}},
                         "TaskTemplate": {"ForceUpdate": 0, "ContainerSpec": {"Image": "i"}}}}

    class Fake:
        def __init__(self):
            self.updates = []

        def api(self, method, *args, **kwargs):
            if method == "inspect_service":
                return svc(8, {"changed": "meanwhile"})
            assert method == "update_service"
            self.updates.append((args[1], kwargs["task_template"], kwargs["labels"]))
            if len(self.updates) == 1:
                raise BackendUnavailable("updating service api: rpc error: update out of sequence (HTTP 500)")
            return {}

    fake = Fake()
    _rollout.docker_update(fake, svc(7, {}), change=lambda t: dict(t, Marker=1), force=True)
    assert [(v, t["ForceUpdate"], t["Marker"], labels) for v, t, labels in fake.updates] == [
        (7, 1, 1, {}), (8, 1, 1, {"changed": "meanwhile"})]
