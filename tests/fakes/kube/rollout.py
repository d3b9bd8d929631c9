# -*- coding: utf-8 -*-
"""The simulated controllers (workload rollouts, External Secrets status), mixed into ``Cluster``."""
import copy
import hashlib
import json
import threading

from tests.fakes.kube.resources import ESO, STUCK_ANNOTATION, now_iso


class RolloutController:
    """Mixed into ``Cluster``: uses its ``lock``, ``store()``, ``next_rv()``, ``emit()`` and ``rollout_delay``."""

    # --- the simulated controllers ---
    def controller(self, res, key):
        if res.group == "apps" or res.plural in ("externalsecrets", "secretstores", "clustersecretstores"):
            obj = self.store(res)[key]
            t = threading.Timer(self.rollout_delay, self._converge, (res, key, obj["metadata"]["resourceVersion"]))
            t.daemon = True
            t.start()

    def _converge(self, res, key, rv):
        with self.lock:
            obj = self.store(res).get(key)
            if obj is None or obj["metadata"]["resourceVersion"] != rv:
                return  # changed again since: that change scheduled its own convergence
            status = self.desired_status(res, obj)
            if status == obj.get("status"):
                return
            obj = copy.deepcopy(obj)
            obj["status"] = status
            obj["metadata"]["resourceVersion"] = self.next_rv()
            self.store(res)[key] = obj
            self.emit("MODIFIED", res, obj)

    @staticmethod
    def desired_status(res, obj):
        meta, spec, status = obj["metadata"], obj.get("spec") or {}, dict(obj.get("status") or {})
        gen, ts = meta.get("generation", 1), now_iso()
        if res.group == ESO:
            status["conditions"] = [{"type": "Ready", "status": "True", "lastTransitionTime": ts,
                                     "reason": "SecretSynced" if "externalsecrets" in res.plural else "Valid",
                                     "message": "secret synced" if "externalsecrets" in res.plural
                                     else "store validated"}]
            if res.plural == "externalsecrets":
                # DIFF: no provider is called and no target Secret is written; only the status moves, so that
                # force-sync (annotation change) waiters see a new refreshTime.
                status["refreshTime"] = ts
                status["syncedResourceVersion"] = "%s-%s" % (gen, hashlib.sha256(
                    json.dumps([spec, meta.get("annotations")], sort_keys=True).encode()).hexdigest()[:32])
                status["binding"] = {"name": (spec.get("target") or {}).get("name") or meta["name"]}
            return status
        template = spec.get("template") or {}
        stuck = "true" in ((meta.get("annotations") or {}).get(STUCK_ANNOTATION),
                           ((template.get("metadata") or {}).get("annotations") or {}).get(STUCK_ANNOTATION))
        n = spec.get("replicas", 1) if res.plural != "daemonsets" else 1
        updated = max(n - 1, 0) if stuck else n
        status["observedGeneration"] = gen
        if res.plural == "deployments":
            status.update(replicas=n + (1 if stuck else 0), updatedReplicas=updated, readyReplicas=n,
                          availableReplicas=n)
            status.pop("unavailableReplicas", None)
            if stuck:
                status["unavailableReplicas"] = 1
            status["conditions"] = [
                {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable",
                 "message": "Deployment has minimum availability.", "lastUpdateTime": ts, "lastTransitionTime": ts},
                {"type": "Progressing", "status": "True",
                 "reason": "ReplicaSetUpdated" if stuck else "NewReplicaSetAvailable",
                 "message": 'ReplicaSet "%s-fake" %s.' % (meta["name"], "is progressing" if stuck
                                                          else "has successfully progressed"),
                 "lastUpdateTime": ts, "lastTransitionTime": ts}]
            # DIFF: ProgressDeadlineExceeded is never reported; a stuck rollout just stays in progress.
        elif res.plural == "statefulsets":
            rev = "%s-%s" % (meta["name"], hashlib.sha256(json.dumps(template, sort_keys=True).encode())
                             .hexdigest()[:10])
            current = rev
            if stuck:
                previous = status.get("currentRevision")
                current = previous if previous and previous != rev else rev + "-previous"
            status.update(replicas=n, readyReplicas=n, availableReplicas=n, currentReplicas=n - updated,
                          updatedReplicas=updated, currentRevision=current, updateRevision=rev,
                          collisionCount=0)
        else:
            status.update(currentNumberScheduled=1, desiredNumberScheduled=1, numberMisscheduled=0,
                          numberReady=1, numberAvailable=1, updatedNumberScheduled=updated)
            if stuck:
                status["numberUnavailable"] = 1
            else:
                status.pop("numberUnavailable", None)
        return status
