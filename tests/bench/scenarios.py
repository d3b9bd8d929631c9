# -*- coding: utf-8 -*-
"""The issue-17 scenarios of ``make bench`` beyond the four lookup shapes: the fleet (many inventory hosts reading
the same secrets with ``forks``), the cold first lookup of a run, the emergency runbook and the roles at catalog
scale. Each returns raw samples; ``summarise_*`` turn them into rows, and ``markdown_*`` into tables. Like the rest
of the bench, nothing here asserts a time."""
from __future__ import annotations

import json
import shutil
import statistics
from pathlib import Path

from tests.bench import patterns

# ---------------------------------------------------------------------------------------------------------- fleet

FLEET_KINDS = ("vault", "secret")   # the Vault lookups: OpenBao's audit log counts their logins and reads


def fleet_inventory(workdir: Path, hosts: int, python: str) -> Path:
    """``hosts`` inventory hosts on the local connection, each with its interpreter set."""
    path = workdir / "fleet.ini"
    lines = ["[fleet]"]
    lines += ["fleet%03d ansible_connection=local ansible_python_interpreter=%s" % (i, python) for i in range(hosts)]
    path.write_text("\n".join(lines) + "\n")
    return path


def fleet_playbook(secrets: int, expr) -> str:
    """Every host of the fleet reads the ``secrets`` secrets, one task each (``expr(i)``: the value of task i)."""
    tasks = "".join("    - name: t%d\n      ansible.builtin.set_fact:\n        x%d: \"{{ %s }}\"\n" % (i, i, expr(i))
                    for i in range(secrets))
    return "- hosts: fleet\n  gather_facts: false\n  tasks:\n" + tasks


def fleet_variants(aws, approle, configs):
    """[(label, kind or None, config, playbook text builder)]: the control first, then our Vault lookups (logging
    in with the bench AppRole) in every configuration."""
    login = patterns.approle_login(approle)
    out = [("no lookup", None, None, lambda n: fleet_playbook(n, lambda i: "'constant'"))]
    for config in configs:
        for kind, name in patterns.OURS:
            if kind not in FLEET_KINDS:
                continue
            out.append(("%s (%s)" % (name, config), kind, config,
                        lambda n, kind=kind: fleet_playbook(n, lambda i: patterns.lookup_expr(kind, i, aws, login))))
    return out


def summarise_fleet(raw, hosts, secrets, forks):
    """``raw``: {label: {"times": [...], "logins": [...], "reads": [...]}} -> rows."""
    control = raw.get("no lookup")
    base = statistics.median(control["times"]) if control else None
    rows = []
    for label, entry in raw.items():
        wall = statistics.median(entry["times"])
        row = {"impl": label, "hosts": hosts, "secrets": secrets, "forks": forks, "median_s": round(wall, 2),
               "min_s": round(min(entry["times"]), 2), "max_s": round(max(entry["times"]), 2)}
        if label != "no lookup":
            row["vs_control"] = round(wall / base, 2) if base else None
            row["logins"] = max(entry["logins"])     # the worst run: the goal must hold in every one
            row["reads"] = max(entry["reads"])
        rows.append(row)
    return rows


def markdown_fleet(rows):
    if not rows:
        return ""
    first = rows[0]
    lines = ["Fleet: %d inventory hosts (local connection) x %d secrets, one task each, `forks: %d`; logins and reads "
             "from OpenBao's audit log (the most of any run); the lookups log in with one AppRole." % (
                 first["hosts"], first["secrets"], first["forks"]), "",
             "| implementation | wall (s) | range (s) | vs no lookup | logins | reads |", "|---|---|---|---|---|---|"]
    for row in rows:
        lines.append("| %s | %.2f | %.2f–%.2f | %s | %s | %s |" % (
            row["impl"], row["median_s"], row["min_s"], row["max_s"], _cell(row.get("vs_control")),
            _cell(row.get("logins")), _cell(row.get("reads"))))
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------------- cold lookup

def cold_playbook(expr) -> str:
    """One task, one value: the whole run's fixed cost of a first lookup."""
    return "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - name: one\n      ansible.builtin.set_fact:\n" \
           "        x: \"{{ %s }}\"\n" % expr


def cold_variants(aws, configs):
    out = [("no lookup", None, lambda: cold_playbook("'constant'"))]
    for config in configs:
        for kind, name in patterns.OURS:
            out.append(("%s (%s)" % (name, config), config,
                        lambda kind=kind: cold_playbook(patterns.lookup_expr(kind, 0, aws))))
    return out


def summarise_cold(raw):
    control = raw.get("no lookup")
    base = statistics.median(control["times"]) if control else None
    rows = []
    for label, entry in raw.items():
        wall = statistics.median(entry["times"])
        row = {"impl": label, "median_s": round(wall, 3), "min_s": round(min(entry["times"]), 3),
               "max_s": round(max(entry["times"]), 3), "cpu_s": round(statistics.median(entry["cpu"]), 3)}
        if label != "no lookup" and base is not None:
            row["extra_ms"] = round((wall - base) * 1000, 1)
            row["extra_cpu_ms"] = round((row["cpu_s"] - statistics.median(control["cpu"])) * 1000, 1)
        rows.append(row)
    return rows


def markdown_cold(rows):
    if not rows:
        return ""
    lines = ["Cold first lookup: a playbook with one task that reads one secret, against the same task with a "
             "constant (medians).", "",
             "| implementation | wall (s) | range (s) | + ms over no lookup | + CPU ms |", "|---|---|---|---|---|"]
    for row in rows:
        lines.append("| %s | %.3f | %.3f–%.3f | %s | %s |" % (
            row["impl"], row["median_s"], row["min_s"], row["max_s"], _cell(row.get("extra_ms")),
            _cell(row.get("extra_cpu_ms"))))
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------ roles: runbook, catalog

def catalog(base: Path, count: int):
    """``count`` static entries, each in its own ``file://`` store, each with an env_file consumer (one shared
    ``.env``), all tagged ``bench``."""
    return [{"name": "bench%03d" % i, "owner": "bench", "purpose": "benchmark entry %d" % i, "kind": "static",
             "store": "file://%s/store/bench%03d" % (base, i), "generate": {"kind": "hex", "bits": 256},
             "consumers": [{"env_file": {"path": "%s/app/.env" % base, "key": "BENCH_%03d" % i}}],
             "tags": ["bench"]} for i in range(count)]


def role_vars(base: Path, count: int, **extra):
    data = {"agentarea_secrets_catalog": catalog(base, count), "agentarea_secrets_report_dir": str(base / "reports"),
            "agentarea_secrets_audit_log": str(base / "reports" / "audit.jsonl")}
    data.update(extra)
    path = base / ("vars-%d.json" % len(list(base.glob("vars-*.json"))))
    path.write_text(json.dumps(data))
    return ["-e", "@%s" % path]


def fresh(workdir: Path, name: str) -> Path:
    base = workdir / name
    if base.exists():
        shutil.rmtree(base)
    (base / "store").mkdir(parents=True)
    (base / "app").mkdir()
    return base


def emergency_run(workdir: Path, run_playbook, env, count: int, incident: str):
    """Provision ``count`` entries (not timed), then the emergency runbook over all of them (tag ``bench``,
    confirmed): (wall s, cpu s)."""
    base = fresh(workdir, "emergency-%d" % count)
    run_playbook(workdir, None, env, extra_args=role_vars(base, count), playbook="agentarea.secrets.provision")
    before = (base / "app" / ".env").read_text()
    wall, cpu = run_playbook(workdir, None, env, playbook="agentarea.secrets.emergency", extra_args=role_vars(
        base, count, emergency_tags=["bench"], emergency_confirm="YES", emergency_incident=incident))
    report = json.loads((base / "reports" / ("incident-%s.json" % incident)).read_text())
    if len(report.get("done") or []) != count or (base / "app" / ".env").read_text() == before:
        raise RuntimeError("the emergency runbook did not rotate all %d entries: done=%s" % (
            count, len(report.get("done") or [])))
    return wall, cpu


def catalog_run(workdir: Path, run_playbook, env, count: int):
    """First ``provision`` of ``count`` entries, then ``rotate`` of all of them (tag ``bench``):
    {"provision": (wall, cpu), "rotate": (wall, cpu)}."""
    base = fresh(workdir, "catalog-%d" % count)
    out = {"provision": run_playbook(workdir, None, env, extra_args=role_vars(base, count),
                                     playbook="agentarea.secrets.provision")}
    stored = sorted((base / "store").glob("bench[0-9][0-9][0-9]"))
    if len(stored) != count:
        raise RuntimeError("provision created %d of %d entries" % (len(stored), count))
    values = [p.read_text() for p in stored]
    out["rotate"] = run_playbook(workdir, None, env, playbook="agentarea.secrets.rotate",
                                 extra_args=role_vars(base, count, rotate_tags=["bench"]))
    changed = sum(1 for p, v in zip(stored, values) if p.read_text() != v)
    if changed != count:
        raise RuntimeError("rotate changed %d of %d entries" % (changed, count))
    return out


def summarise_roles(emergency, catalog_raw, catalog_count):
    """``emergency``: {entries: [(wall, cpu)]}; ``catalog_raw``: {"provision"|"rotate": {"1": [(wall, cpu)],
    "N": [...]}}. Per entry = (median wall at N - median wall at 1 entry) / (N - 1): the playbook's fixed cost
    taken out."""
    rows = []
    for count, samples in sorted(emergency.items()):
        walls = [w for w, _c in samples]
        rows.append({"what": "emergency runbook", "entries": count, "median_s": round(statistics.median(walls), 2),
                     "min_s": round(min(walls), 2), "max_s": round(max(walls), 2),
                     "cpu_s": round(statistics.median([c for _w, c in samples]), 2)})
    for step, by_size in catalog_raw.items():
        walls = [w for w, _c in by_size["N"]]
        one = statistics.median([w for w, _c in by_size["1"]])
        row = {"what": "first provision" if step == "provision" else "rotate", "entries": catalog_count,
               "median_s": round(statistics.median(walls), 2), "min_s": round(min(walls), 2),
               "max_s": round(max(walls), 2), "cpu_s": round(statistics.median([c for _w, c in by_size["N"]]), 2),
               "one_entry_s": round(one, 2)}
        if catalog_count > 1:
            row["s_per_entry"] = round((statistics.median(walls) - one) / (catalog_count - 1), 3)
        rows.append(row)
    return rows


def markdown_roles(rows):
    if not rows:
        return ""
    lines = ["Roles: static entries in `file://` stores with env_file consumers; the emergency runbook with "
             "`emergency_tags` and confirmation given (after an untimed provision); the first `provision` and a "
             "`rotate` of every entry. Per entry = (wall at N − wall at 1 entry) / (N − 1).", "",
             "| playbook | entries | wall (s) | range (s) | CPU (s) | wall with 1 entry (s) | s per entry |",
             "|---|---|---|---|---|---|---|"]
    for row in rows:
        lines.append("| %s | %d | %.2f | %.2f–%.2f | %.2f | %s | %s |" % (
            row["what"], row["entries"], row["median_s"], row["min_s"], row["max_s"], row["cpu_s"],
            _cell(row.get("one_entry_s")), _cell(row.get("s_per_entry"))))
    return "\n".join(lines) + "\n"


def _cell(value):
    return "" if value is None else value
