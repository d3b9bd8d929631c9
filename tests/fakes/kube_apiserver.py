"""A fake Kubernetes API server for the `kubernetes` Python client and its DynamicClient.

Standalone: ``python tests/fakes/kube_apiserver.py --port P --token T`` (``--port 0 --port-file F`` picks a
free port and writes it to F). Plain HTTP on 127.0.0.1; a kubeconfig with ``server: http://127.0.0.1:P`` and
``token: T`` reaches it.

What it does like the real server: discovery, namespaces, Secrets, ConfigMaps, ServiceAccounts, Deployments,
StatefulSets, DaemonSets, RBAC objects and External Secrets Operator custom resources; create / get / list
(label and field selectors, limit/continue) / watch / PUT / PATCH (JSON patch, merge patch, strategic merge
patch) / delete / deletecollection; uid, creationTimestamp, a global resourceVersion, generation; 409 on
AlreadyExists and on a stale resourceVersion; 422 on immutable fields; Status error bodies; a simulated rollout
controller for workloads and a TokenReview endpoint.

Where it differs from a real API server the code says ``DIFF:``. The big ones:
- DIFF: RBAC is not enforced. One bearer token (``--token``) is cluster-admin; every other token gets 401
  (except service-account JWTs on the TokenReview endpoint, see there).
- DIFF: no schema validation beyond the few checks written below; unknown fields are kept, not pruned.
- DIFF: no admission, no garbage collection (ownerReferences are ignored), no pods or ReplicaSets.

A workload rollout converges ``--rollout-delay`` seconds (default 0.5) after a change. The annotation
``fake.agentarea.io/stuck: "true"`` (on the object or its pod template) keeps it from converging.
The annotation ``fake.agentarea.io/concurrent-writes: "N"`` stands for another writer (see concurrent_writer).
"""

import argparse
import base64
import bisect
import copy
import datetime
import hashlib
import json
import os
import re
import secrets
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import jsonpatch

STUCK_ANNOTATION = "fake.agentarea.io/stuck"
CONCURRENT_WRITES_ANNOTATION = "fake.agentarea.io/concurrent-writes"
ESO = "external-secrets.io"
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
CONFIG_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
# Strategic-merge-patch merge keys. DIFF: the real server takes them from the Go types of each field's
# parent; keyed here by field name only, which matches the fields our code touches.
MERGE_KEYS = {"containers": "name", "initContainers": "name", "ephemeralContainers": "name", "env": "name",
              "volumes": "name", "volumeMounts": "mountPath", "volumeDevices": "devicePath",
              "ports": "containerPort", "imagePullSecrets": "name", "secrets": "name", "hostAliases": "ip",
              "conditions": "type", "topologySpreadConstraints": "topologyKey", "ownerReferences": "uid",
              "resourceClaims": "name"}
MERGE_PRIMITIVE_LISTS = {"finalizers"}


class Res:
    """One resource type as discovery describes it."""

    def __init__(self, group, versions, plural, kind, namespaced=True, short=(), status=False, generation=False,
                 verbs=None, builtin=True):
        self.group, self.versions, self.plural, self.kind = group, versions, plural, kind
        self.namespaced, self.short, self.status, self.generation = namespaced, list(short), status, generation
        self.verbs, self.builtin = verbs or VERBS, builtin

    @property
    def qualified(self):  # as in error messages: secrets, deployments.apps
        return self.plural + ("." + self.group if self.group else "")


RESOURCES = [
    Res("", ["v1"], "namespaces", "Namespace", namespaced=False, short=["ns"], status=True,
        verbs=["create", "delete", "get", "list", "patch", "update", "watch"]),
    Res("", ["v1"], "secrets", "Secret"),
    Res("", ["v1"], "configmaps", "ConfigMap", short=["cm"]),
    Res("", ["v1"], "serviceaccounts", "ServiceAccount", short=["sa"]),
    Res("apps", ["v1"], "deployments", "Deployment", short=["deploy"], status=True, generation=True),
    Res("apps", ["v1"], "statefulsets", "StatefulSet", short=["sts"], status=True, generation=True),
    Res("apps", ["v1"], "daemonsets", "DaemonSet", short=["ds"], status=True, generation=True),
    Res("rbac.authorization.k8s.io", ["v1"], "roles", "Role"),
    Res("rbac.authorization.k8s.io", ["v1"], "rolebindings", "RoleBinding"),
    Res("rbac.authorization.k8s.io", ["v1"], "clusterroles", "ClusterRole", namespaced=False),
    Res("rbac.authorization.k8s.io", ["v1"], "clusterrolebindings", "ClusterRoleBinding", namespaced=False),
    Res("authentication.k8s.io", ["v1"], "tokenreviews", "TokenReview", namespaced=False, verbs=["create"]),
    # DIFF: one stored copy serves both versions with only apiVersion rewritten (the real conversion webhook
    # maps v1beta1 <-> v1 fields; the two schemas are nearly identical for what we use).
    Res(ESO, ["v1", "v1beta1"], "externalsecrets", "ExternalSecret", short=["es"], status=True,
        generation=True, builtin=False),
    Res(ESO, ["v1", "v1beta1"], "secretstores", "SecretStore", short=["ss"], status=True, generation=True,
        builtin=False),
    Res(ESO, ["v1", "v1beta1"], "clustersecretstores", "ClusterSecretStore", namespaced=False, short=["css"],
        status=True, generation=True, builtin=False),
    Res(ESO, ["v1", "v1beta1"], "clusterexternalsecrets", "ClusterExternalSecret", namespaced=False,
        short=["ces"], status=True, generation=True, builtin=False),
]
GROUPS = {}
for _r in RESOURCES:
    for _v in _r.versions:
        GROUPS.setdefault(_r.group, {}).setdefault(_v, []).append(_r)


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class ApiError(Exception):
    def __init__(self, code, reason, message, details=None):
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details

    def status(self):
        out = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": self.message,
               "reason": self.reason, "code": self.code}
        if self.details is not None:
            out["details"] = self.details
        return out


def details(res, name):
    d = {"name": name, "kind": res.plural}
    if res.group:
        d["group"] = res.group
    return d


def not_found(res, name):
    return ApiError(404, "NotFound", '%s "%s" not found' % (res.qualified, name), details(res, name))


def conflict(res, name):
    return ApiError(409, "Conflict", 'Operation cannot be fulfilled on %s "%s": the object has been modified; please '
                    "apply your changes to the latest version and try again" % (res.qualified, name),
                    details(res, name))


def invalid(res, name, field, msg, reason="FieldValueInvalid"):
    kind = res.kind + ("." + res.group if res.group else "")
    d = {"name": name, "kind": res.kind, "causes": [{"reason": reason, "message": msg, "field": field}]}
    if res.group:
        d["group"] = res.group
    return ApiError(422, "Invalid", '%s "%s" is invalid: %s: %s' % (kind, name, field, msg), d)


def bad_request(msg):
    return ApiError(400, "BadRequest", msg)


# --- patches ---------------------------------------------------------------------------------------------
def merge_patch(target, patch):
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def strategic_merge(target, patch):
    """Strategic merge patch: like a merge patch, but lists of objects with a merge key are merged by it."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    out = dict(target) if isinstance(target, dict) else {}
    retain = patch.get("$retainKeys")
    for k, v in patch.items():
        if k in ("$patch", "$retainKeys") or k.startswith("$setElementOrder/"):
            continue
        if k.startswith("$deleteFromPrimitiveList/"):
            field = k.split("/", 1)[1]
            out[field] = [x for x in out.get(field) or [] if x not in v]
            continue
        if v is None or (isinstance(v, dict) and v.get("$patch") == "delete"):
            out.pop(k, None)
        elif isinstance(v, dict):
            out[k] = strategic_merge(out.get(k), v)
        elif isinstance(v, list) and k in MERGE_KEYS and all(isinstance(i, dict) for i in v):
            out[k] = merge_list(out.get(k) or [], v, MERGE_KEYS[k])
        elif isinstance(v, list) and k in MERGE_PRIMITIVE_LISTS:
            old = list(out.get(k) or [])
            out[k] = old + [x for x in v if x not in old]
        else:
            out[k] = copy.deepcopy(v)
    if retain is not None:
        out = {k: v for k, v in out.items() if k in retain}
    return out


def merge_list(old, patch, key):
    if any(i.get("$patch") == "replace" for i in patch):
        return [{k: v for k, v in i.items() if k != "$patch"} for i in patch if i.get("$patch") != "replace"]
    out = [copy.deepcopy(i) for i in old]
    for item in patch:
        idx = next((n for n, o in enumerate(out) if key in item and o.get(key) == item.get(key)), None)
        if item.get("$patch") == "delete":
            if idx is not None:
                del out[idx]
        elif idx is None:
            out.append(strategic_merge({}, item))
        else:
            out[idx] = strategic_merge(out[idx], item)
    return out


# --- selectors -------------------------------------------------------------------------------------------
def split_terms(s):
    terms, depth, cur = [], 0, ""
    for ch in s:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            terms.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        terms.append(cur.strip())
    return terms


def _compare(get, op, values):
    """A predicate: ``get(x)`` compared with ``values`` by a selector operator."""
    def check(x):
        if op == "in":
            return get(x) in values
        if op == "notin":  # like the real server, also true when the label is absent
            return get(x) not in values
        if op == "!=":
            return get(x) != values
        return get(x) == values
    return check


def _has_label(key, present):
    return lambda labels: (key in labels) == present


def label_matcher(selector):
    if not selector:
        return lambda labels: True
    checks = []
    for term in split_terms(selector):
        m = re.match(r"^([\w./-]+)\s+(in|notin)\s+\((.*)\)$", term)
        if m:
            values = {v.strip() for v in m.group(3).split(",")}
            checks.append(_compare(lambda lb, k=m.group(1): lb.get(k), m.group(2), values))
            continue
        m = re.match(r"^([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)$", term)
        if m:
            checks.append(_compare(lambda lb, k=m.group(1): lb.get(k), m.group(2), m.group(3)))
            continue
        m = re.match(r"^(!?)([\w./-]+)$", term)
        if m:
            checks.append(_has_label(m.group(2), not m.group(1)))
            continue
        raise bad_request("unable to parse requirement: %r" % term)
    return lambda labels: all(c(labels) for c in checks)


def field_matcher(selector, res):
    if not selector:
        return lambda obj: True
    fields = {"metadata.name": lambda o: o["metadata"]["name"],
              "metadata.namespace": lambda o: o["metadata"].get("namespace", "")}
    if res.plural == "secrets":
        fields["type"] = lambda o: o.get("type", "")
    if res.plural == "namespaces":
        fields["status.phase"] = lambda o: o.get("status", {}).get("phase", "")
    checks = []
    for term in split_terms(selector):
        m = re.match(r"^([\w.]+)\s*(==|=|!=)\s*(.*)$", term)
        if not m:
            raise bad_request("invalid selector: %r" % term)
        field, op, value = m.groups()
        if field not in fields:
            raise bad_request('field label not supported: %s' % field)
        checks.append(_compare(fields[field], op, value))
    return lambda obj: all(c(obj) for c in checks)


# --- the store -------------------------------------------------------------------------------------------
class Cluster:
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

    # --- defaulting and validation (a small subset of the real ones) ---
    def prepare(self, res, obj, old, name):
        meta = obj["metadata"]
        if res.plural not in ("roles", "rolebindings", "clusterroles", "clusterrolebindings"):
            pattern = DNS1123_LABEL if res.plural == "namespaces" else DNS1123_SUBDOMAIN
            if not pattern.match(name) or len(name) > (63 if res.plural == "namespaces" else 253):
                raise invalid(res, name, "metadata.name", 'Invalid value: "%s": a lowercase RFC 1123 %s must '
                              "consist of lower case alphanumeric characters, '-' or '.', and must start and end "
                              "with an alphanumeric character" % (name, "label" if res.plural == "namespaces"
                                                                  else "subdomain"))
        for field in ("labels", "annotations"):
            if meta.get(field) is not None and not all(isinstance(v, str) for v in meta[field].values()):
                raise bad_request("metadata.%s values must be strings" % field)
        if res.plural == "secrets":
            data = dict(obj.get("data") or {})
            for k, v in (obj.pop("stringData", None) or {}).items():
                data[k] = base64.b64encode(v.encode()).decode()
            for k, v in data.items():
                if not CONFIG_KEY.match(k):
                    raise invalid(res, name, "data[%s]" % k, "Invalid value: \"%s\": a valid config key must "
                                  "consist of alphanumeric characters, '-', '_' or '.'" % k)
                try:
                    base64.b64decode(v, validate=True)
                except (ValueError, TypeError):
                    raise bad_request("Secret in version \"v1\" cannot be handled as a Secret: illegal base64 "
                                      "data at input byte 0") from None
            if data or "data" in obj:
                obj["data"] = data
            obj.setdefault("type", "Opaque")
        if res.plural == "configmaps":
            for k in list((obj.get("data") or {})) + list((obj.get("binaryData") or {})):
                if not CONFIG_KEY.match(k):
                    raise invalid(res, name, "data[%s]" % k, "Invalid value: \"%s\": a valid config key must "
                                  "consist of alphanumeric characters, '-', '_' or '.'" % k)
        if res.plural in ("secrets", "configmaps") and old is not None and old.get("immutable"):
            fields = ("data",) if res.plural == "secrets" else ("data", "binaryData")
            for f in fields:
                if (obj.get(f) or {}) != (old.get(f) or {}):
                    raise invalid(res, name, f, "Forbidden: field is immutable when `immutable` is set",
                                  "FieldValueForbidden")
            if obj.get("immutable") is not True:
                raise invalid(res, name, "immutable", "Forbidden: field is immutable when `immutable` is set",
                              "FieldValueForbidden")
        if res.plural == "secrets" and old is not None and obj.get("type") != old.get("type"):
            raise invalid(res, name, "type", 'Invalid value: "%s": field is immutable' % obj.get("type"))
        if res.plural == "namespaces":
            meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = name
            obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
            obj["status"] = (old or {}).get("status") or {"phase": "Active"}
        if res.group == "apps":
            self.prepare_workload(res, obj, old, name)

    @staticmethod
    def prepare_workload(res, obj, old, name):
        spec = obj.get("spec")
        if not isinstance(spec, dict) or not isinstance(spec.get("template"), dict):
            raise invalid(res, name, "spec.template", "Required value", "FieldValueRequired")
        selector = spec.get("selector")
        if not isinstance(selector, dict) or not selector:
            raise invalid(res, name, "spec.selector", "Required value", "FieldValueRequired")
        labels = (spec["template"].get("metadata") or {}).get("labels") or {}
        if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
            raise invalid(res, name, "spec.template.metadata.labels", "Invalid value: %s: `selector` does not "
                          "match template `labels`" % json.dumps(labels))
        if old is not None and old.get("spec", {}).get("selector") != selector:
            raise invalid(res, name, "spec.selector", "Invalid value: %s: field is immutable" % json.dumps(selector))
        pod = spec["template"].setdefault("spec", {})
        if not pod.get("containers"):
            raise invalid(res, name, "spec.template.spec.containers", "Required value", "FieldValueRequired")
        # Some of the defaults the real server adds, so that "desired == existing" comparisons meet them.
        if res.plural != "daemonsets":
            spec.setdefault("replicas", 1)
        spec.setdefault("revisionHistoryLimit", 10)
        if res.plural == "deployments":
            spec.setdefault("progressDeadlineSeconds", 600)
            spec.setdefault("strategy", {"type": "RollingUpdate",
                                         "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}})
        elif res.plural == "statefulsets":
            spec.setdefault("podManagementPolicy", "OrderedReady")
            spec.setdefault("updateStrategy", {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
        else:
            spec.setdefault("updateStrategy", {"type": "RollingUpdate",
                                               "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}})
        spec["template"].setdefault("metadata", {})
        for k, v in (("restartPolicy", "Always"), ("dnsPolicy", "ClusterFirst"), ("schedulerName", "default-scheduler"),
                     ("terminationGracePeriodSeconds", 30), ("securityContext", {})):
            pod.setdefault(k, v)
        for c in pod.get("containers", []) + pod.get("initContainers", []):
            c.setdefault("terminationMessagePath", "/dev/termination-log")
            c.setdefault("terminationMessagePolicy", "File")
            c.setdefault("resources", {})
            image = c.get("image", "")
            c.setdefault("imagePullPolicy", "Always" if image.endswith(":latest") or ":" not in
                         image.rsplit("/", 1)[-1] else "IfNotPresent")

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


def out(res, version, obj, in_list=False):
    o = copy.deepcopy(obj)
    if in_list and res.builtin:
        # Like the real server: items of built-in lists carry no apiVersion/kind.
        o.pop("apiVersion", None)
        o.pop("kind", None)
        return o
    o["apiVersion"] = "%s/%s" % (res.group, version) if res.group else version
    o["kind"] = res.kind
    return {k: o[k] for k in ["apiVersion", "kind"] + [k for k in o if k not in ("apiVersion", "kind")]}


def token_review(body):
    """Authenticate a service-account JWT by its claims. DIFF: the signature is not verified, and the service
    account is not required to exist."""
    token = ((body or {}).get("spec") or {}).get("token") or ""
    status = {"authenticated": False, "error": "invalid bearer token"}
    claims = jwt_claims(token)
    if claims:
        ns, name, uid = sa_identity(claims)
        if ns and name:
            user = {"username": "system:serviceaccount:%s:%s" % (ns, name), "uid": uid or "",
                    "groups": ["system:serviceaccounts", "system:serviceaccounts:%s" % ns, "system:authenticated"]}
            status = {"authenticated": True, "user": user,
                      "audiences": (body.get("spec") or {}).get("audiences") or ["https://kubernetes.default.svc"]}
    return {"kind": "TokenReview", "apiVersion": "authentication.k8s.io/v1",
            "metadata": {"creationTimestamp": None}, "spec": body.get("spec") or {}, "status": status}


def jwt_claims(token):
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return None
    return claims if isinstance(claims, dict) else None


def sa_identity(claims):
    bound = claims.get("kubernetes.io")
    if isinstance(bound, dict):  # projected (bound) token
        sa = bound.get("serviceaccount") or {}
        return bound.get("namespace"), sa.get("name"), sa.get("uid")
    return (claims.get("kubernetes.io/serviceaccount/namespace"),
            claims.get("kubernetes.io/serviceaccount/service-account.name"),
            claims.get("kubernetes.io/serviceaccount/service-account.uid"))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeKubeAPIServer/1.0"
    disable_nagle_algorithm = True  # headers and body go out separately: avoid 40 ms delayed-ACK stalls
    cluster = None  # set by serve()

    def log_message(self, fmt, *args):
        sys.stderr.write("%s - %s\n" % (self.log_date_time_string(), fmt % args))

    def _send(self, code, body, content_type="application/json"):
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Audit-Id", str(uuid.uuid4()))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self, method):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        parts = [p for p in url.path.split("/") if p]
        try:
            if parts in (["healthz"], ["livez"], ["readyz"]):
                return self._send(200, "ok", "text/plain; charset=utf-8")
            if parts == ["version"]:
                return self._send(200, {"major": "1", "minor": "30", "gitVersion": "v1.30.0-fake",
                                        "gitCommit": "0" * 40, "gitTreeState": "clean",
                                        "buildDate": "2024-04-17T00:00:00Z", "goVersion": "go1.22.2",
                                        "compiler": "gc", "platform": "linux/amd64"})
            auth = self.headers.get("Authorization") or ""
            bearer = auth[7:].strip() if auth.startswith("Bearer ") else ""
            is_review = parts == ["apis", "authentication.k8s.io", "v1", "tokenreviews"]
            # DIFF: a service-account JWT is accepted (unverified) only to call TokenReview, which is what
            # OpenBao's kubernetes auth does when no separate reviewer token is configured.
            if bearer != self.cluster.token and not (is_review and bearer and all(sa_identity(
                    jwt_claims(bearer) or {})[:2])):
                raise ApiError(401, "Unauthorized", "Unauthorized")
            if is_review and method == "POST":
                return self._send(201, token_review(json.loads(raw or b"{}")))
            return self._route(method, parts, query, raw)
        except ApiError as e:
            return self._send(e.code, e.status())
        except Exception as e:  # a bug in the fake: answer like the real server's 500, keep serving
            self.log_message("internal error: %r", e)
            return self._send(500, ApiError(500, "InternalError", "Internal error occurred: %r" % e).status())

    def _route(self, method, parts, query, raw):
        if method == "GET" and parts == ["api"]:
            return self._send(200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
                {"clientCIDR": "0.0.0.0/0", "serverAddress": "%s:%d" % self.server.server_address[:2]}]})
        if method == "GET" and parts == ["apis"]:
            return self._send(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
                self._group(g) for g in GROUPS if g]})
        if parts[:1] == ["api"] and len(parts) >= 2:
            group, version, rest = "", parts[1], parts[2:]
        elif parts[:1] == ["apis"] and len(parts) >= 2:
            group = parts[1]
            if len(parts) == 2 and method == "GET" and group in GROUPS:
                return self._send(200, dict(self._group(group), kind="APIGroup", apiVersion="v1"))
            if len(parts) < 3:
                raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
            version, rest = parts[2], parts[3:]
        else:
            raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
        resources = GROUPS.get(group, {}).get(version)
        if resources is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
        if not rest:
            if method != "GET":
                raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested "
                               "resource", {})
            return self._send(200, self._resource_list(group, version, resources))
        by_plural = {r.plural: r for r in resources}
        ns = None
        if rest[0] == "namespaces" and len(rest) >= 3 and rest[2] in by_plural and by_plural[rest[2]].namespaced:
            ns, rest = rest[1], rest[2:]
        res = by_plural.get(rest[0])
        if res is None or len(rest) > 3 or (len(rest) == 3 and not (rest[2] == "status" and res.status)):
            raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        if res.namespaced and ns is None and (name or method != "GET"):
            raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
        c = self.cluster
        if name is None and method == "GET" and (query.get("watch") or "").lower() in ("true", "1"):
            return self._watch(res, version, ns, query)
        with c.lock:
            if name is None:
                if method == "GET":
                    meta, items = c.list(res, ns, query)
                    return self._send(200, {"kind": res.kind + "List",
                                            "apiVersion": "%s/%s" % (group, version) if group else version,
                                            "metadata": meta, "items": [out(res, version, o, True) for o in items]})
                if method == "POST" and "create" in res.verbs:
                    return self._send(201, out(res, version, c._create(res, ns, self._json(raw), query)))
                if method == "DELETE" and "deletecollection" in res.verbs:
                    meta, items = c.list(res, ns, query)
                    for o in items:
                        c.delete(res, o["metadata"].get("namespace"), o["metadata"]["name"], None, query)
                    return self._send(200, {"kind": res.kind + "List", "apiVersion": "%s/%s" % (group, version)
                                            if group else version, "metadata": {"resourceVersion": str(c.rv)},
                                            "items": [out(res, version, o, True) for o in items]})
            else:
                if method == "GET":
                    return self._send(200, out(res, version, c.get(res, ns, name)))
                if method == "PUT":
                    return self._send(200, out(res, version, c.update(res, ns, name, self._json(raw), query, sub)))
                if method == "PATCH":
                    ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
                    code, obj = c.patch(res, ns, name, raw, ctype, query, sub)
                    return self._send(code, out(res, version, obj))
                if method == "DELETE" and sub is None:
                    result = c.delete(res, ns, name, self._json(raw) if raw else None, query)
                    return self._send(200, result if result.get("kind") == "Status" else out(res, version, result))
        raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource",
                       {})

    @staticmethod
    def _json(raw):
        try:
            return json.loads(raw or b"null")
        except ValueError:
            raise bad_request("the body of the request was in an unknown format") from None

    @staticmethod
    def _group(group):
        versions = [{"groupVersion": "%s/%s" % (group, v), "version": v} for v in GROUPS[group]]
        return {"name": group, "versions": versions, "preferredVersion": versions[0]}

    @staticmethod
    def _resource_list(group, version, resources):
        items = []
        for r in resources:
            items.append({"name": r.plural, "singularName": r.kind.lower(), "namespaced": r.namespaced,
                          "kind": r.kind, "verbs": r.verbs, "shortNames": r.short,
                          "storageVersionHash": hashlib.sha256(r.qualified.encode()).hexdigest()[:11]})
            if r.status:
                items.append({"name": r.plural + "/status", "singularName": "", "namespaced": r.namespaced,
                              "kind": r.kind, "verbs": ["get", "patch", "update"]})
        return {"kind": "APIResourceList", "apiVersion": "v1",
                "groupVersion": "%s/%s" % (group, version) if group else version, "resources": items}

    def _watch(self, res, version, ns, query):
        """Stream watch events as chunked JSON lines until timeoutSeconds."""
        c = self.cluster
        match = c.select(res, ns, query)
        timeout = min(int(query.get("timeoutSeconds") or 1800), 3600)
        start = query.get("resourceVersion")
        pending = []
        with c.lock:
            if start in (None, "", "0"):
                pending = [{"type": "ADDED", "object": out(res, version, o)}
                           for k, o in sorted(c.store(res).items()) if match(k, o)]
                last = c.rv
            else:
                last = int(start)
                if c.event_rvs and last < c.event_rvs[0] - 1:
                    pending = [{"type": "ERROR", "object": ApiError(
                        410, "Expired", "too old resource version: %d (%d)" % (last, c.event_rvs[0])).status()}]
                    timeout = 0
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        deadline = time.monotonic() + timeout
        try:
            while True:
                for ev in pending:
                    data = json.dumps(ev).encode() + b"\n"
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()
                pending = []
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                with c.cond:
                    idx = bisect.bisect_right(c.event_rvs, last)
                    if idx == len(c.events):
                        c.cond.wait(timeout=min(remaining, 1.0))
                        continue
                    for rv, kind, r, obj in c.events[idx:]:
                        last = rv
                        key = (obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
                        if r is res and match(key, obj):
                            pending.append({"type": kind, "object": out(res, version, obj)})
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except OSError:
            self.close_connection = True

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_PUT(self):
        self._handle("PUT")

    def do_PATCH(self):
        self._handle("PATCH")

    def do_DELETE(self):
        self._handle("DELETE")


def serve(port, token, rollout_delay=0.5, port_file=None, host="127.0.0.1"):
    handler = type("BoundHandler", (Handler,), {"cluster": Cluster(token, rollout_delay)})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    if port_file:
        tmp = port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(server.server_address[1]))
        os.replace(tmp, port_file)
    return server


def main(argv=None):
    ap = argparse.ArgumentParser(description="Fake Kubernetes API server")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", help="write the bound port here once listening")
    ap.add_argument("--token", required=True, help="the bearer token clients must send")
    ap.add_argument("--rollout-delay", type=float, default=0.5, help="seconds until a workload rollout converges")
    args = ap.parse_args(argv)
    server = serve(args.port, args.token, args.rollout_delay, args.port_file)
    sys.stderr.write("fake Kubernetes API on http://127.0.0.1:%d\n" % server.server_address[1])
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
