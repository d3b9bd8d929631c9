# -*- coding: utf-8 -*-
"""The store: objects by resource, the global resourceVersion, the event log watches read, and the operations
(create, get, update, patch, delete, list)."""
import base64
import copy
import json
import secrets
import threading
import uuid

import jsonpatch

from tests.fakes.kube.errors import ApiError, bad_request, conflict, details, invalid, not_found
from tests.fakes.kube.patches import merge_patch, strategic_merge
from tests.fakes.kube.resources import CONCURRENT_WRITES_ANNOTATION, RESOURCES, now_iso
from tests.fakes.kube.rollout import RolloutController
from tests.fakes.kube.selection import field_matcher, label_matcher
from tests.fakes.kube.validation import Defaulting


# --- the store -------------------------------------------------------------------------------------------
class Cluster(Defaulting, RolloutController):
    def __init__(self, token, rollout_delay=0.5):
        self.token = token
        self.rollout_delay = rollout_delay
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.rv = 1000
        self.objects = {}  # (group, plural) -> {(namespace, name): obj}
        self.events, self.event_rvs = [], []
        with self.lock:
            for ns in ("default", "kube-system", "kube-public", "agentarea"):
                self._create(self.res("", "namespaces"), None, {"metadata": {"name": ns}}, {})

    @staticmethod
    def res(group, plural):
        return next(r for r in RESOURCES if r.group == group and r.plural == plural)

    def store(self, res):
        return self.objects.setdefault((res.group, res.plural), {})

    def next_rv(self):
        self.rv += 1
        return str(self.rv)

    def emit(self, kind, res, obj):
        self.events.append((self.rv, kind, res, copy.deepcopy(obj)))
        self.event_rvs.append(self.rv)
        if len(self.events) > 5000:  # DIFF: the real watch cache window is time-based (etcd compaction)
            del self.events[:1000]
            del self.event_rvs[:1000]
        self.cond.notify_all()

    # --- operations ---
    def _create(self, res, ns, obj, query):
        if not isinstance(obj, dict):
            raise bad_request("the body of the request was in an unknown format")
        meta = obj.setdefault("metadata", {})
        name = meta.get("name")
        if not name and meta.get("generateName"):
            name = meta["generateName"] + secrets.token_hex(3)[:5]
        if not name:
            raise invalid(res, "", "metadata.name", "Required value: name or generateName is required",
                          "FieldValueRequired")
        if res.namespaced:
            if meta.get("namespace") not in (None, "", ns):
                raise bad_request("the namespace of the provided object does not match the namespace sent on "
                                  "the request")
            if ("", ns) not in self.store(self.res("", "namespaces")):
                raise ApiError(404, "NotFound", 'namespaces "%s" not found' % ns, {"name": ns, "kind": "namespaces"})
            meta["namespace"] = ns
        else:
            meta.pop("namespace", None)
        key = (ns or "", name)
        if key in self.store(res):
            raise ApiError(409, "AlreadyExists", '%s "%s" already exists' % (res.qualified, name),
                           details(res, name))
        meta["name"] = name
        for k in ("resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds", "managedFields"):
            meta.pop(k, None)
        self.prepare(res, obj, None, name)
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = now_iso()
        if res.generation:
            meta["generation"] = 1
        if res.status and res.plural != "namespaces":
            # Status is the controllers' business: workloads start with an empty one, custom resources without.
            obj.pop("status", None)
            # (the zeros are the fields the real API marks required, as the real server returns them)
            if res.plural == "statefulsets":
                obj["status"] = {"replicas": 0, "availableReplicas": 0}
            elif res.plural == "daemonsets":
                obj["status"] = {"currentNumberScheduled": 0, "numberMisscheduled": 0, "desiredNumberScheduled": 0,
                                 "numberReady": 0}
            elif res.group == "apps":
                obj["status"] = {}
        if query.get("dryRun"):
            return obj
        meta["resourceVersion"] = self.next_rv()
        self.store(res)[key] = obj
        self.emit("ADDED", res, obj)
        self.controller(res, key)
        return obj

    def get(self, res, ns, name):
        obj = self.store(res).get((ns or "", name))
        if obj is None:
            raise not_found(res, name)
        return obj

    def concurrent_writer(self, res, ns, name):
        """Test hook, DIFF: not in a real server. While an object carries ``fake.agentarea.io/concurrent-writes:
        "N"`` (N > 0), "someone else" writes it just before each of the next N writes: the fake decrements N in a
        real update (new resourceVersion, a MODIFIED event). A write that carried the resourceVersion its client
        read then gets the real 409 Conflict, which is how tests make a read-modify-write race happen on demand."""
        key = (ns or "", name)
        obj = self.store(res).get(key)
        annotations = ((obj or {}).get("metadata") or {}).get("annotations") or {}
        try:
            left = int(annotations.get(CONCURRENT_WRITES_ANNOTATION, "0"))
        except ValueError:
            return
        if left <= 0:
            return
        obj = copy.deepcopy(obj)
        obj["metadata"]["annotations"][CONCURRENT_WRITES_ANNOTATION] = str(left - 1)
        obj["metadata"]["resourceVersion"] = self.next_rv()
        self.store(res)[key] = obj
        self.emit("MODIFIED", res, obj)

    def update(self, res, ns, name, new, query, subresource=None, patched=False):
        if not patched:
            self.concurrent_writer(res, ns, name)
        old = self.get(res, ns, name)
        if not isinstance(new, dict):
            raise bad_request("the body of the request was in an unknown format")
        meta = new.setdefault("metadata", {})
        if meta.get("name", name) != name:
            if patched:
                raise invalid(res, name, "metadata.name", 'Invalid value: "%s": field is immutable' % meta["name"])
            raise bad_request("the name of the object (%s) does not match the name on the URL (%s)"
                              % (meta["name"], name))
        if res.namespaced and meta.get("namespace", ns) != ns:
            raise bad_request("the namespace of the provided object does not match the namespace sent on the "
                              "request")
        rv = meta.get("resourceVersion")
        if rv and rv != old["metadata"]["resourceVersion"]:
            raise conflict(res, name)
        if meta.get("uid") and meta["uid"] != old["metadata"]["uid"]:
            raise ApiError(409, "Conflict", "Precondition failed: UID in precondition: %s, UID in object meta: %s"
                           % (old["metadata"]["uid"], meta["uid"]), details(res, name))
        if subresource == "status":
            # Only status changes through /status.
            status = new.get("status")
            new = copy.deepcopy(old)
            new["status"] = status
        else:
            if res.status:
                new["status"] = copy.deepcopy(old.get("status"))
                if new["status"] is None:
                    new.pop("status")
            self.prepare(res, new, old, name)
        meta = new["metadata"]
        for k in ("uid", "creationTimestamp", "name", "namespace", "generation", "deletionTimestamp"):
            if k in old["metadata"]:
                meta[k] = old["metadata"][k]
            else:
                meta.pop(k, None)
        meta["resourceVersion"] = old["metadata"]["resourceVersion"]
        meta.pop("managedFields", None)
        if res.generation and subresource != "status":
            if {k: v for k, v in new.items() if k not in ("metadata", "status", "apiVersion", "kind")} != \
                    {k: v for k, v in old.items() if k not in ("metadata", "status", "apiVersion", "kind")}:
                meta["generation"] = old["metadata"].get("generation", 1) + 1
        strip = ("apiVersion", "kind")
        if {k: v for k, v in new.items() if k not in strip} == {k: v for k, v in old.items() if k not in strip}:
            return old  # a no-op update does not bump resourceVersion, like the real server
        if query.get("dryRun"):
            return new
        meta["resourceVersion"] = self.next_rv()
        self.store(res)[(ns or "", name)] = new
        self.emit("MODIFIED", res, new)
        self.controller(res, (ns or "", name))
        return new

    def patch(self, res, ns, name, body, content_type, query, subresource=None):
        if content_type == "application/apply-patch+yaml":
            if not query.get("fieldManager"):
                raise bad_request("PATCH request with apply content type requires fieldManager")
            import yaml
            body = yaml.safe_load(body)
            if (ns or "", name) not in self.store(res):
                body.setdefault("metadata", {})["name"] = name
                return 201, self._create(res, ns, body, query)
            # DIFF: server-side apply without field ownership: a strategic merge (merge for CRs) of the
            # applied configuration; fields dropped from the applied configuration are not removed.
            content_type = "application/strategic-merge-patch+json" if res.builtin else \
                "application/merge-patch+json"
        else:
            try:
                body = json.loads(body or b"null")
            except ValueError:
                raise bad_request("the body of the request was in an unknown format") from None
        self.concurrent_writer(res, ns, name)
        old = copy.deepcopy(self.get(res, ns, name))
        if content_type == "application/json-patch+json":
            if not isinstance(body, list):
                raise bad_request("the body of the request was in an unknown format: expected a JSON patch list")
            try:
                new = jsonpatch.apply_patch(old, body)
            except jsonpatch.JsonPatchTestFailed as e:
                # DIFF: unverified which status the real server uses for a failed "test" op; 422 here.
                raise invalid(res, name, "", "the server rejected our request: %s" % e) from None
            except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as e:
                raise ApiError(422, "Invalid", "the server rejected our request due to an error in our request: %s"
                               % e) from None
        elif content_type == "application/merge-patch+json":
            new = merge_patch(old, body)
        elif content_type == "application/strategic-merge-patch+json":
            if not res.builtin:
                raise ApiError(415, "UnsupportedMediaType", "the body of the request was in an unknown format - "
                               "accepted media types include: application/json-patch+json, "
                               "application/merge-patch+json, application/apply-patch+yaml")
            new = strategic_merge(old, body)
        else:
            raise ApiError(415, "UnsupportedMediaType", "the body of the request was in an unknown format - "
                           "accepted media types include: application/json-patch+json, application/merge-patch+json, "
                           "application/apply-patch+yaml, application/strategic-merge-patch+json")
        # A resourceVersion in the patch (or a json-patch that changes it) is a precondition: 409 if stale.
        if isinstance(new, dict) and isinstance(new.get("metadata"), dict):
            if new["metadata"].get("resourceVersion") != old["metadata"]["resourceVersion"]:
                if new["metadata"].get("resourceVersion"):
                    raise conflict(res, name)
                new["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
        if subresource != "status" and res.status:
            new["status"] = old.get("status")
        return 200, self.update(res, ns, name, new, query, subresource, patched=True)

    def delete(self, res, ns, name, body, query):
        obj = self.get(res, ns, name)
        pre = (body or {}).get("preconditions") or {}
        if pre.get("uid") and pre["uid"] != obj["metadata"]["uid"]:
            raise ApiError(409, "Conflict", "Precondition failed: UID in precondition: %s, UID in object meta: %s"
                           % (pre["uid"], obj["metadata"]["uid"]), details(res, name))
        if pre.get("resourceVersion") and pre["resourceVersion"] != obj["metadata"]["resourceVersion"]:
            raise ApiError(409, "Conflict", "Precondition failed: ResourceVersion in precondition: %s, "
                           "ResourceVersion in object meta: %s" % (pre["resourceVersion"],
                                                                   obj["metadata"]["resourceVersion"]),
                           details(res, name))
        if query.get("dryRun"):
            return obj
        del self.store(res)[(ns or "", name)]
        obj["metadata"]["resourceVersion"] = self.next_rv()
        self.emit("DELETED", res, obj)
        if res.plural == "namespaces":
            # DIFF: the real namespace stays Terminating while its content is deleted; here all goes at once.
            for r in RESOURCES:
                if r.namespaced:
                    for key in [k for k in self.store(r) if k[0] == name]:
                        gone = self.store(r).pop(key)
                        gone["metadata"]["resourceVersion"] = self.next_rv()
                        self.emit("DELETED", r, gone)
            out = copy.deepcopy(obj)
            out["metadata"]["deletionTimestamp"] = now_iso()
            out["status"] = {"phase": "Terminating"}
            return out
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                "details": dict(details(res, name), uid=obj["metadata"]["uid"])}

    def select(self, res, ns, query):
        labels = label_matcher(query.get("labelSelector"))
        fields = field_matcher(query.get("fieldSelector"), res)
        return lambda key, obj: ((ns is None or key[0] == ns) and labels(obj["metadata"].get("labels") or {})
                                 and fields(obj))

    def list(self, res, ns, query):
        match = self.select(res, ns, query)
        items = [o for k, o in sorted(self.store(res).items()) if match(k, o)]
        meta = {"resourceVersion": str(self.rv)}
        limit = int(query.get("limit") or 0)
        start = 0
        if query.get("continue"):
            try:
                start = int(base64.urlsafe_b64decode(query["continue"]).decode())
            except ValueError:
                raise ApiError(400, "BadRequest", "continue key is not valid") from None
        if limit:
            if start + limit < len(items):
                meta["continue"] = base64.urlsafe_b64encode(str(start + limit).encode()).decode()
                meta["remainingItemCount"] = len(items) - start - limit
            items = items[start:start + limit]
        else:
            items = items[start:]
        return meta, items
