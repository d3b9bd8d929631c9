# -*- coding: utf-8 -*-
"""The rotation engine under ``make bench``: static secrets in a file store and PostgreSQL passwords (kept in
OpenBao's KV, applied to the harness's PostgreSQL) rotated with ``agentarea.secrets.rotate`` from one playbook,
one after another (a plain loop) and with ``async``/``poll: 0`` in batches of 1, 4 and 8 (as the emergency role
runs them). Reports the medians of the module's own per-phase ``timings`` and the wall time per rotation at each
concurrency level (whole ``ansible-playbook`` runs, less an empty playbook)."""
from __future__ import annotations

import json
import secrets
import statistics
import time
from pathlib import Path

PHASES = ("lock", "create", "set", "test", "finish")
LEVELS = (1, 4, 8)

BATCH = """
- name: Start the rotations of this batch
  agentarea.secrets.rotate:
    store: "{{ item.store }}"
    kind: "{{ item.kind }}"
    target: "{{ item.target | default({}) }}"
  loop: "{{ rot_batch }}"
  loop_control:
    label: "{{ item.store }}"
  async: 600
  poll: 0
  register: rot_started

- name: Wait for the batch
  ansible.builtin.async_status:
    jid: "{{ item.ansible_job_id }}"
  loop: "{{ rot_started.results }}"
  loop_control:
    label: "{{ item.ansible_job_id }}"
  register: rot_finished
  until: rot_finished.finished
  retries: 2400
  delay: 0.25

- name: Collect
  ansible.builtin.set_fact:
    rot_results: "{{ rot_results + rot_finished.results }}"
"""

PLAY = """
- hosts: localhost
  gather_facts: false
  vars:
    rot_results: []
  tasks:
%s
    - name: Write the results (versions, fingerprints and timings only; the module returns no value)
      ansible.builtin.copy:
        content: "{{ rot_results | to_json }}"
        dest: "%s"
        mode: "0600"
"""

ASYNC_TASKS = """    - name: Rotate in batches
      ansible.builtin.include_tasks: rotate_batch.yml
      loop: "{{ rotations | batch(%d) | list }}"
      loop_control:
        loop_var: rot_batch"""

SEQUENTIAL_TASKS = """    - name: Rotate one after another
      agentarea.secrets.rotate:
        store: "{{ item.store }}"
        kind: "{{ item.kind }}"
        target: "{{ item.target | default({}) }}"
      loop: "{{ rotations }}"
      loop_control:
        label: "{{ item.store }}"
      register: rot_seq

    - name: Collect
      ansible.builtin.set_fact:
        rot_results: "{{ rot_seq.results }}\""""


def static_secrets(workdir: Path, count: int):
    """``count`` secret files with random values; the file store keeps the pending and previous slots beside them."""
    base = workdir / "rotation-static"
    base.mkdir(parents=True, exist_ok=True)
    items = []
    for i in range(count):
        path = base / ("s%03d" % i)
        path.write_text(secrets.token_urlsafe(24))
        path.chmod(0o600)
        items.append({"store": "file://%s" % path, "kind": "static"})
    return items


def postgres_passwords(pg, vault, count: int):
    """``count`` login roles with random passwords, their credentials in OpenBao (``secret/bench-rotation/pgNN``),
    the superuser as the admin credential that changes them."""
    import hvac
    import psycopg
    from psycopg import sql

    client = hvac.Client(url=vault["url"], token=vault["token"])
    kv = client.secrets.kv.v2
    kv.create_or_update_secret("bench-rotation/pg-admin", mount_point="secret",
                               secret={"username": pg["user"], "password": pg["password"]})
    items = []
    with psycopg.connect(host=pg["host"], port=pg["port"], user=pg["user"], password=pg["password"],
                         dbname="postgres", autocommit=True) as conn:
        for i in range(count):
            role, password = "bench_rot_%02d" % i, secrets.token_urlsafe(24)
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
            create = sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}")
            conn.execute(create.format(sql.Identifier(role), sql.Literal(password)))
            kv.create_or_update_secret("bench-rotation/pg%02d" % i, mount_point="secret",
                                       secret={"username": role, "password": password})
            items.append({"store": "vault://secret/bench-rotation/pg%02d" % i, "kind": "postgres",
                          "target": {"host": pg["host"], "port": pg["port"], "database": "postgres",
                                     "admin": "vault://secret/bench-rotation/pg-admin"}})
    return items


def run_level(workdir: Path, run_playbook, env, items, level):
    """One playbook that rotates every item; ``level`` None = a plain loop, else async batches of ``level``.
    Returns (wall seconds, cpu seconds, list of module results)."""
    out = workdir / "rotation-results.json"
    if out.exists():
        out.unlink()
    (workdir / "rotate_batch.yml").write_text(BATCH)
    tasks = SEQUENTIAL_TASKS if level is None else ASYNC_TASKS % level
    text = PLAY % (tasks, out)
    (workdir / "rotations.json").write_text(json.dumps({"rotations": items}))
    env = dict(env, ANSIBLE_ASYNC_DIR=str(workdir / ".ansible_async"))  # where async_status looks too
    wall, cpu = run_playbook(workdir, text, env, extra_args=["-e", "@%s" % (workdir / "rotations.json")])
    results = json.loads(out.read_text())
    failed = [r for r in results if r.get("failed") or r.get("action") not in ("rotated", "resumed")]
    if failed:
        what = [(r.get("item", {}).get("item", r.get("item")), r.get("msg")) for r in failed]
        raise RuntimeError("rotation failed: %s" % what[:3])
    return wall, cpu, results


def measure(workdir: Path, run_playbook, env, empty_s, groups, rounds=1):
    """``groups``: {name: items}. Every group at every level, ``rounds`` times, interleaved."""
    levels = [None] + list(LEVELS)
    raw = {}
    for _round in range(rounds):
        for name, items in groups.items():
            for level in levels:
                started = time.perf_counter()
                wall, cpu, results = run_level(workdir, run_playbook, env, items, level)
                entry = raw.setdefault(name, {}).setdefault(str(level or "sequential"), {
                    "walls": [], "cpus": [], "timings": []})
                entry["walls"].append(wall)
                entry["cpus"].append(cpu)
                entry["timings"].extend(r.get("timings") or {} for r in results)
                print("rotation %s at %s: %.1f s (%.1f s with set-up)" % (
                    name, level or "sequential", wall, time.perf_counter() - started), flush=True)
    return summarise(raw, groups, empty_s)


def summarise(raw, groups, empty_s):
    rows = []
    for name, by_level in raw.items():
        count = len(groups[name])
        base = None
        for level, entry in by_level.items():
            wall = statistics.median(entry["walls"])
            per = (wall - empty_s) / count
            if level == "1":
                base = per
            phases = {}
            for phase in PHASES:
                values = [t[phase] for t in entry["timings"] if isinstance(t.get(phase), (int, float))]
                if values:
                    phases[phase] = round(statistics.median(values) * 1000, 1)
            module = [sum(v for v in t.values() if isinstance(v, (int, float))) for t in entry["timings"]]
            rows.append({"group": name, "count": count, "level": level, "wall_s": round(wall, 2),
                         "min_s": round(min(entry["walls"]), 2), "max_s": round(max(entry["walls"]), 2),
                         "cpu_s": round(statistics.median(entry["cpus"]), 2),
                         "s_per_rotation": round(per, 3), "phases_ms": phases,
                         "module_ms": round(statistics.median(module) * 1000, 1) if module else None})
        for row in rows:
            if row["group"] == name and base:
                row["speedup_vs_1"] = round(base / row["s_per_rotation"], 2) if row["s_per_rotation"] > 0 else None
    return rows


def markdown(rows):
    lines = ["| rotations | concurrency | wall (s) | range (s) | wall per rotation (s) | vs batches of 1 | "
             "in the module (ms, median) | %s |" % " | ".join("%s (ms)" % p for p in PHASES),
             "|---|---|---|---|---|---|---|%s" % ("---|" * len(PHASES))]
    for row in rows:
        lines.append("| %d %s | %s | %.2f | %.2f–%.2f | %.3f | %s | %s | %s |" % (
            row["count"], row["group"], row["level"], row["wall_s"], row["min_s"], row["max_s"],
            row["s_per_rotation"], row.get("speedup_vs_1", ""), row.get("module_ms", ""),
            " | ".join(str(row["phases_ms"].get(p, "–")) for p in PHASES)))
    return "\n".join(lines) + "\n"
