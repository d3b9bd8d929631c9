# -*- coding: utf-8 -*-
"""The resource types the fake serves (what discovery lists), the fake's annotations, and how an object goes out
(``out``: apiVersion and kind per requested version)."""
import copy
import datetime
import re

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
