# -*- coding: utf-8 -*-
"""make bench: what a secret lookup costs in real playbooks, ours against the anchors, the raw clients and Ansible
with no lookup at all, against the harness's OpenBao and moto servers; then the rotation engine (static secrets
and PostgreSQL passwords, sequentially and in async batches). Runs are whole ansible-playbook processes,
interleaved (every implementation once per round), and reported as medians with ranges.

    .venv/bin/python tests/bench/run.py [--secrets 200] [--rounds 3] [--anchor-rounds 1] [--only vault,aws]
                                        [--rotation-static 50] [--rotation-postgres 10] [--rotation-rounds 1]
                                        [--out bench-results]

Cost per secret = (median wall time of the pattern - median wall time of an empty playbook) / secrets (for the
held variable: / the 3 tasks that use it). "vs no lookup" divides that by the same figure of the no-lookup control
(Ansible's own per-task or per-item cost); "CPU" is the user+system time of the ansible-playbook process tree,
which the other load on a shared machine disturbs less than wall time. Benchmarks are not tests: nothing here
asserts a time.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.bench import chart, patterns, rotation  # noqa: E402  pylint: disable=wrong-import-position
from tests.harness.servers import Harness  # noqa: E402  pylint: disable=wrong-import-position

BIN = Path(sys.executable).parent
HELD_TASKS = 3

# The goals, checked against every run's table (our three lookups).
GOAL_TASKS_RATIO = 1.3        # N tasks: at most 1.3x Ansible's own per-task cost
GOAL_LOOP_EXTRA_MS = 1.5      # loop: at most Ansible's per-item cost + 1.5 ms per secret
GOAL_CALL_VS_RAW = 1.2        # one call with N terms: at most 1.2x the raw client per secret (AWS: below 1.0)

APPROLE_POLICY = 'path "secret/data/bench/*" { capabilities = ["read"] }\n'


def seed(vault, aws, count):
    """N secrets in each store, and an AppRole that may read them (the held pattern logs in with it)."""
    import boto3
    import hvac
    client = hvac.Client(url=vault["url"], token=vault["token"])
    for i in range(count):
        client.secrets.kv.v2.create_or_update_secret(path="bench/s%03d" % i, secret={"value": "v%03d" % i},
                                                     mount_point="secret")
    sm = boto3.client("secretsmanager", endpoint_url=aws["url"], region_name=aws["region"],
                      aws_access_key_id=aws["access_key"], aws_secret_access_key=aws["secret_key"])
    for i in range(count):
        sm.create_secret(Name="bench/s%03d" % i, SecretString=json.dumps({"value": "v%03d" % i}))
    client.sys.create_or_update_policy("bench-read", APPROLE_POLICY)
    if "approle/" not in client.sys.list_auth_methods()["data"]:
        client.sys.enable_auth_method("approle")
    client.auth.approle.create_or_update_approle("bench", token_policies=["bench-read"], token_ttl="1h")
    return {"role_id": client.auth.approle.read_role_id("bench")["data"]["role_id"],
            "secret_id": client.auth.approle.generate_secret_id("bench")["data"]["secret_id"]}


def raw_costs(vault, aws, count):
    """The floor: one Python process, one client, sequential reads: {client: (wall ms, CPU ms) per secret}.
    Measured once per round, between the playbooks, so that it sees the same machine load as they do."""
    timer = "t=time.perf_counter();p=time.process_time()\n"
    report = "print((time.perf_counter()-t)*1000/%d,(time.process_time()-p)*1000/%d)" % (count, count)
    code = {
        "vault": (
            "import hvac,time\nc=hvac.Client(url=%r,token=%r)\n" % (vault["url"], vault["token"]) + timer
            + "for i in range(%d): c.secrets.kv.v2.read_secret_version(path='bench/s%%03d'%%i,mount_point='secret',"
            "raise_on_deleted_version=True)\n" % count + report),
        "aws": (
            "import boto3,time\nc=boto3.client('secretsmanager',endpoint_url=%r,region_name=%r,aws_access_key_id=%r,"
            "aws_secret_access_key=%r)\n" % (aws["url"], aws["region"], aws["access_key"], aws["secret_key"]) + timer
            + "for i in range(%d): c.get_secret_value(SecretId='bench/s%%03d'%%i)\n" % count + report),
    }
    out = {}
    for name, source in code.items():
        wall, cpu = subprocess.run([sys.executable, "-c", source], capture_output=True, text=True,
                                   check=True).stdout.split()
        out[name] = (float(wall), float(cpu))
    return out


def run_playbook(workdir, text, env, extra_args=()):
    """(wall seconds, CPU seconds of the whole process tree) of one ansible-playbook run."""
    path = workdir / "bench.yml"
    path.write_text(text)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run([str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(path)]
                          + list(extra_args), cwd=str(workdir), env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError("bench playbook failed:\n%s\n%s" % (proc.stdout[-3000:], proc.stderr[-3000:]))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def vault_reads(audit_log, since_lines):
    """(logins, reads of bench paths) in OpenBao's audit log after line ``since_lines``."""
    logins = reads = 0
    with open(audit_log) as handle:
        for number, line in enumerate(handle):
            if number < since_lines:
                continue
            entry = json.loads(line)
            if entry.get("type") != "response":
                continue
            path = entry.get("request", {}).get("path", "")
            if path.startswith("auth/") and "login" in path:
                logins += 1
            elif re.match(r"secret/data/bench/", path):
                reads += 1
    return logins, reads


def count_lines(path):
    with open(path) as handle:
        return sum(1 for _line in handle)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--secrets", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--anchor-rounds", type=int, default=1,
                        help="rounds that include the anchors (the first ones; they are 5-25x slower than ours)")
    parser.add_argument("--only", default="", help="comma-separated implementation names")
    parser.add_argument("--out", default=str(ROOT / "bench-results"))
    parser.add_argument("--rotation-static", type=int, default=50, help="static secrets to rotate (0: none)")
    parser.add_argument("--rotation-postgres", type=int, default=10, help="PostgreSQL passwords to rotate (0: none)")
    parser.add_argument("--rotation-rounds", type=int, default=1)
    parser.add_argument("--no-lookups", action="store_true", help="only the rotation engine")
    args = parser.parse_args(argv)

    run_dir = tempfile.mkdtemp(prefix="aa-bench-")
    harness = Harness(run_dir)
    load_before = os.getloadavg()
    started = time.perf_counter()
    results, empty, raw, rotations, approle = {}, [], {}, [], None
    try:
        vault, aws = harness.start("vault"), harness.start("aws")
        workdir = Path(run_dir) / "work"
        workdir.mkdir()
        env = patterns.environment(ROOT, vault, aws, workdir)
        if not args.no_lookups:
            approle = seed(vault, aws, args.secrets)
            impls = patterns.implementations(vault, aws, approle)
            if args.only:
                wanted = set(args.only.split(","))
                impls = [i for i in impls if i.name in wanted or i.name == "no lookup"]
            for _round in range(args.rounds):
                empty.append(run_playbook(workdir, patterns.EMPTY, env)[0])
                for impl in impls:
                    if not impl.ours and impl.name != "no lookup" and _round >= args.anchor_rounds:
                        continue
                    for pattern in patterns.PATTERNS:
                        text = impl.playbook(pattern, args.secrets)
                        if text is None:
                            continue
                        before = count_lines(vault["audit_log"])
                        wall, cpu = run_playbook(workdir, text, dict(env, **impl.env))
                        entry = results.setdefault(impl.name, {}).setdefault(pattern, {"times": [], "cpu": []})
                        entry["times"].append(wall)
                        entry["cpu"].append(cpu)
                        if pattern == "held variable" and impl.counts_vault:
                            entry["logins"], entry["reads"] = vault_reads(vault["audit_log"], before)
                for name, (wall, cpu) in raw_costs(vault, aws, args.secrets).items():
                    raw.setdefault(name, {"wall": [], "cpu": []})
                    raw[name]["wall"].append(wall)
                    raw[name]["cpu"].append(cpu)
                print("round %d done after %.0f s" % (_round + 1, time.perf_counter() - started), flush=True)
                save_raw(args.out, {"results": results, "empty": empty, "secrets": args.secrets, "raw": raw})
        if args.rotation_static or args.rotation_postgres:
            groups = {}
            if args.rotation_static:
                groups["static secrets (file store)"] = rotation.static_secrets(workdir, args.rotation_static)
            if args.rotation_postgres:
                pg = harness.start("postgres")
                groups["PostgreSQL passwords (OpenBao store)"] = rotation.postgres_passwords(
                    pg, vault, args.rotation_postgres)
            base = statistics.median([run_playbook(workdir, patterns.EMPTY, env)[0] for _i in range(3)])
            rotations = rotation.measure(workdir, run_playbook, env, base, groups, rounds=args.rotation_rounds)
        save_raw(args.out, {"results": results, "empty": empty, "secrets": args.secrets, "raw": raw,
                            "rotation": rotations})
    finally:
        harness.stop_all()
    report = summarise(results, empty, raw, args.secrets, approle is not None)
    report["rotation"] = rotations
    report["rounds"], report["anchor_rounds"] = args.rounds, min(args.anchor_rounds, args.rounds)
    report["duration_s"] = round(time.perf_counter() - started, 1)
    report["load_average"] = {"before": [round(x, 2) for x in load_before],
                              "after": [round(x, 2) for x in os.getloadavg()]}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.json").write_text(json.dumps(report, indent=2))
    (out / "bench.md").write_text(markdown(report))
    if report["rows"]:
        (out / "bench.svg").write_text(chart.svg(report))
    print(markdown(report))
    print("written: %s/bench.{md,json%s}" % (out, ",svg" if report["rows"] else ""))


def save_raw(out, data):
    """The samples so far (bench-raw.json), so that a long run that fails late still leaves its measurements."""
    Path(out).mkdir(parents=True, exist_ok=True)
    (Path(out) / "bench-raw.json").write_text(json.dumps(data, indent=1))


def _per(median_s, base, count, pattern):
    return (median_s - base) * 1000 / (count if pattern != "held variable" else HELD_TASKS)


def summarise(results, empty, raw, count, approle=False):
    base = statistics.median(empty) if empty else 0.0
    report = {
        "date": datetime.date.today().isoformat(),
        "machine": "%s, %s cores, Python %s, %s" % (platform.machine(), os.cpu_count(), platform.python_version(),
                                                    platform.platform(terse=True)),
        "secrets": count, "empty_playbook_s": base, "held_login": "approle" if approle else "token", "rows": [],
    }
    control = results.get("no lookup", {})
    raw_ms = dict((name, statistics.median(samples["wall"])) for name, samples in raw.items())
    raw_cpu = dict((name, statistics.median(samples["cpu"])) for name, samples in raw.items())
    for impl, by_pattern in results.items():
        for pattern, entry in by_pattern.items():
            times = entry["times"]
            per = _per(statistics.median(times), base, count, pattern)
            row = {"impl": impl, "pattern": pattern, "median_s": round(statistics.median(times), 3),
                   "min_s": round(min(times), 3), "max_s": round(max(times), 3), "ms_per_secret": round(per, 2),
                   "cpu_s": round(statistics.median(entry["cpu"]), 3)}
            if pattern in control and impl != "no lookup":
                ctrl = _per(statistics.median(control[pattern]["times"]), base, count, pattern)
                row["extra_ms"] = round(per - ctrl, 2)
                if pattern != "one call, N terms":  # one task either way: no per-secret control cost to compare
                    row["vs_control"] = round(per / ctrl, 2) if ctrl > 0 else None
                ctrl_cpu = statistics.median(control[pattern]["cpu"])
                divisor = count if pattern != "held variable" else HELD_TASKS
                row["extra_cpu_ms"] = round((statistics.median(entry["cpu"]) - ctrl_cpu) * 1000 / divisor, 2)
            if pattern == "one call, N terms":
                client = "aws" if "aws" in impl else "vault"
                if raw_ms.get(client) and impl != "no lookup":
                    row["vs_raw"] = round(per / raw_ms[client], 2)
                    if raw_cpu.get(client) and "extra_cpu_ms" in row:
                        row["vs_raw_cpu"] = round(row["extra_cpu_ms"] / raw_cpu[client], 2)
            for key in ("logins", "reads"):
                if key in entry:
                    row[key] = entry[key]
            report["rows"].append(row)
    for name, value in raw_ms.items():
        report["rows"].append({"impl": "raw %s" % ("hvac" if name == "vault" else "boto3"),
                               "pattern": "one call, N terms", "ms_per_secret": round(value, 2),
                               "cpu_ms_per_secret": round(raw_cpu[name], 2),
                               "min_s": None, "max_s": None, "median_s": None})
    report["goals"] = goals(report["rows"], raw_ms)
    return report


def goals(rows, raw_ms):
    """The issue's goals for our three lookups, as measured in this run."""
    out = []
    for row in rows:
        if not row["impl"].startswith("agentarea.secrets."):
            continue
        pattern = row["pattern"]
        if pattern == "N tasks" and row.get("vs_control") is not None:
            out.append({"impl": row["impl"], "goal": "N tasks <= %.1fx Ansible's per-task cost" % GOAL_TASKS_RATIO,
                        "measured": "%.2fx" % row["vs_control"], "holds": row["vs_control"] <= GOAL_TASKS_RATIO})
        elif pattern == "loop" and "extra_ms" in row:
            floor = raw_ms.get("aws" if "aws" in row["impl"] else "vault")
            out.append({"impl": row["impl"], "goal": "loop <= Ansible's per-item cost + %.1f ms" % GOAL_LOOP_EXTRA_MS,
                        "measured": "+%.2f ms, +%s ms CPU (one raw read here: %s ms)" % (
                            row["extra_ms"], _cell(row.get("extra_cpu_ms")), "%.2f" % floor if floor else "?"),
                        "holds": row["extra_ms"] <= GOAL_LOOP_EXTRA_MS})
        elif pattern == "one call, N terms" and "vs_raw" in row:
            aws = "aws" in row["impl"]
            limit = 1.0 if aws else GOAL_CALL_VS_RAW
            out.append({"impl": row["impl"],
                        "goal": "one call <= %.1fx the raw client per secret%s" % (
                            limit, " (batch beats the sequential floor)" if aws else ""),
                        "measured": "%.2fx (CPU: %sx)" % (row["vs_raw"], _cell(row.get("vs_raw_cpu"))),
                        "holds": row["vs_raw"] <= limit})
        elif pattern == "held variable" and "reads" in row:
            out.append({"impl": row["impl"], "goal": "held variable: one login and one read per run",
                        "measured": "%s login(s), %s read(s)" % (row["logins"], row["reads"]),
                        "holds": row["logins"] <= 1 and row["reads"] == 1})
    return out


def markdown(report):
    lines = []
    if report["rows"]:
        lines += ["Measured %s on %s; %d secrets; medians of %s interleaved whole-process runs (the anchors: %s); "
                  "empty playbook %.2f s; the held variable logs in with %s." % (
                      report["date"], report["machine"], report["secrets"], report.get("rounds", "?"),
                      report.get("anchor_rounds", "?"), report["empty_playbook_s"], report["held_login"]),
                  "",
                  "| implementation | pattern | ms per secret | range (s) | vs no lookup | + ms vs no lookup | "
                  "+ CPU ms vs no lookup | vs raw client | vs raw client (CPU) | logins / reads |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for row in report["rows"]:
            rng = "%.2f–%.2f" % (row["min_s"], row["max_s"]) if row.get("min_s") is not None else "–"
            counts = "%s / %s" % (row["logins"], row["reads"]) if "reads" in row else ""
            cpu = row.get("extra_cpu_ms", row.get("cpu_ms_per_secret"))  # raw clients: their own CPU per read
            lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                row["impl"], row["pattern"], row["ms_per_secret"], rng, _cell(row.get("vs_control")),
                _cell(row.get("extra_ms")), _cell(cpu), _cell(row.get("vs_raw")), _cell(row.get("vs_raw_cpu")),
                counts))
        if report.get("goals"):
            lines += ["", "| goal | lookup | measured | holds |", "|---|---|---|---|"]
            for goal in report["goals"]:
                lines.append("| %s | %s | %s | %s |" % (goal["goal"], goal["impl"], goal["measured"],
                                                        "yes" if goal["holds"] else "**no**"))
    if report.get("rotation"):
        lines += ["", "Rotation engine (agentarea.secrets.rotate), medians; the phases are the module's own timings:",
                  "", rotation.markdown(report["rotation"]).rstrip()]
    if "load_average" in report:
        lines += ["", "Load average before / after: %s / %s; the whole bench took %.0f s." % (
            report["load_average"]["before"], report["load_average"]["after"], report.get("duration_s", 0))]
    return "\n".join(lines) + "\n"


def _cell(value):
    return "" if value is None else value


if __name__ == "__main__":
    main()
