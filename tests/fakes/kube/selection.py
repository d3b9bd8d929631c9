# -*- coding: utf-8 -*-
"""Label and field selectors."""
import re

from tests.fakes.kube.errors import bad_request


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
