# -*- coding: utf-8 -*-
"""The store's defaulting and validation (a small subset of the real ones), mixed into ``Cluster``."""
import base64
import json

from tests.fakes.kube.errors import bad_request, invalid
from tests.fakes.kube.resources import CONFIG_KEY, DNS1123_LABEL, DNS1123_SUBDOMAIN


class Defaulting:
    """Mixed into ``Cluster``: ``prepare()`` runs on every create and update before the object is stored."""

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
