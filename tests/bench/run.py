# -*- coding: utf-8 -*-
"""make bench: what a secret lookup costs in real playbooks, ours (with the run_cache callback enabled, and with no
ansible.cfg change at all) against the anchors, the raw clients and Ansible with no lookup at all, against the
harness's OpenBao and moto servers; a fleet of inventory hosts reading the same secrets with forks; the cold first
lookup of a run; the emergency runbook and the roles at catalog scale; then the rotation engine (static secrets
and PostgreSQL passwords, sequentially and in async batches). Runs are whole ansible-playbook processes,
interleaved (every implementation once per round), and reported as medians with ranges, with a table of the
goals of issue 17 first.

    .venv/bin/python tests/bench/run.py [--secrets 200] [--rounds 3] [--anchor-rounds 1] [--only vault,aws]
                                        [--only-patterns call,loop,tasks,held,fleet,cold,emergency,catalog,rotation]
                                        [--configs callback,no-config]
                                        [--fleet-hosts 50] [--fleet-secrets 20] [--fleet-forks 10] [--fleet-rounds 3]
                                        [--cold-rounds 5] [--emergency 20[,200]] [--catalog 50] [--roles-rounds 1]
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
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.bench import chart, patterns, rotation, scenarios  # noqa: E402  pylint: disable=wrong-import-position
from tests.harness.servers import Harness  # noqa: E402  pylint: disable=wrong-import-position

BIN = Path(sys.executable).parent
HELD_TASKS = 3

# The goals of issue 17, checked against every run's figures (see issue_goals()).
GOAL_NOCONFIG_RATIO = 1.3                     # N tasks, no ansible.cfg change: x Ansible's own per-task cost
GOAL_CALLBACK_RATIO = {"vault": 1.15, "secret": 1.15, "aws": 1.3}   # N tasks, callback enabled
GOAL_LOOP_EXTRA_MS = 1.0                      # loop: Ansible's per-item cost + 1.0 ms
GOAL_CALL_VS_RAW = 1.2                        # one call with N terms: x the raw client per secret, fixed cost in
GOAL_FLEET_RATIO = 1.2                        # fleet wall: x the same playbook without lookups
GOAL_COLD_MS = 150                            # first lookup of a run: ms over the same playbook without it
GOAL_EMERGENCY_S = ((20, 10.0), (200, 60.0))  # emergency runbook: seconds for 20 and for 200 entries
GOAL_CATALOG_S = 0.15                         # roles at catalog scale: s per entry over the fixed cost

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


def run_playbook(workdir, text, env, extra_args=(), inventory="localhost,", playbook=None):
    """(wall seconds, CPU seconds of the whole process tree) of one ansible-playbook run: of ``text`` (written to
    bench.yml), or of ``playbook`` (a path or a collection playbook such as agentarea.secrets.rotate)."""
    if playbook is None:
        path = workdir / "bench.yml"
        path.write_text(text)
        playbook = str(path)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(inventory), "-c", "local", playbook]
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


SCENARIOS = ("fleet", "cold", "emergency", "catalog", "rotation")
ALL_PATTERNS = tuple(patterns.PATTERN_KEYS) + SCENARIOS


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--secrets", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--anchor-rounds", type=int, default=1,
                        help="rounds that include the anchors (the first ones; they are 5-25x slower than ours)")
    parser.add_argument("--only", default="", help="comma-separated implementation names (or labels)")
    parser.add_argument("--only-patterns", default="",
                        help="comma-separated subset of: %s (default: all)" % ",".join(ALL_PATTERNS))
    parser.add_argument("--configs", default="callback,no-config",
                        help="configurations our lookups run in: callback (run_cache enabled), no-config (none)")
    parser.add_argument("--out", default=str(ROOT / "bench-results"))
    parser.add_argument("--fleet-hosts", type=int, default=50)
    parser.add_argument("--fleet-secrets", type=int, default=20)
    parser.add_argument("--fleet-forks", type=int, default=10)
    parser.add_argument("--fleet-rounds", type=int, default=None, help="default: --rounds")
    parser.add_argument("--cold-rounds", type=int, default=5)
    parser.add_argument("--emergency", default="20",
                        help="static entries of the emergency runbook; several sizes comma-separated (20,200); 0: none")
    parser.add_argument("--catalog", type=int, default=50, help="static entries provisioned and rotated (0: none)")
    parser.add_argument("--roles-rounds", type=int, default=1)
    parser.add_argument("--rotation-static", type=int, default=50, help="static secrets to rotate (0: none)")
    parser.add_argument("--rotation-postgres", type=int, default=10, help="PostgreSQL passwords to rotate (0: none)")
    parser.add_argument("--rotation-rounds", type=int, default=1)
    parser.add_argument("--no-lookups", action="store_true",
                        help="no lookup measurements (shapes, fleet, cold): the roles and the rotation engine only")
    args = parser.parse_args(argv)
    wanted = [p.strip() for p in args.only_patterns.split(",") if p.strip()] or list(ALL_PATTERNS)
    unknown = [p for p in wanted if p not in ALL_PATTERNS]
    if unknown:
        parser.error("--only-patterns: unknown %s (known: %s)" % (", ".join(unknown), ",".join(ALL_PATTERNS)))
    if args.no_lookups:
        wanted = [p for p in wanted if p not in patterns.PATTERN_KEYS and p not in ("fleet", "cold")]
    args.patterns = wanted
    configs = [c.strip().replace("-", " ") for c in args.configs.split(",") if c.strip()]
    bad = [c for c in configs if c not in patterns.CONFIGS]
    if bad:
        parser.error("--configs: unknown %s (known: callback, no-config)" % ", ".join(bad))
    args.config_list = configs
    try:
        args.emergency_sizes = [int(n) for n in str(args.emergency).split(",") if n.strip() and int(n) > 0]
    except ValueError:
        parser.error("--emergency: entry counts, comma-separated")
    args.fleet_rounds = args.rounds if args.fleet_rounds is None else args.fleet_rounds
    return args


def main(argv=None):
    args = parse_args(argv)
    shapes = [patterns.PATTERN_KEYS[k] for k in patterns.PATTERN_KEYS if k in args.patterns]
    run_dir = tempfile.mkdtemp(prefix="aa-bench-")
    harness = Harness(run_dir)
    load_before = os.getloadavg()
    started = time.perf_counter()
    results, empty, raw, rotations, approle = {}, [], {}, [], None
    scen = {"fleet": {}, "cold": {}, "emergency": {}, "catalog": {}}
    try:
        vault, aws = harness.start("vault"), harness.start("aws")
        workdir = Path(run_dir) / "work"
        workdir.mkdir()
        env = patterns.environment(ROOT, vault, aws, workdir)
        lookups = shapes or "fleet" in args.patterns or "cold" in args.patterns
        if lookups:
            approle = seed(vault, aws, max(args.secrets, args.fleet_secrets if "fleet" in args.patterns else 1))
        if shapes:
            measure_shapes(args, shapes, workdir, env, vault, aws, approle, results, empty, raw, started)
        if "fleet" in args.patterns and args.fleet_hosts:
            measure_fleet(args, workdir, env, vault, aws, approle, scen["fleet"], started)
        if "cold" in args.patterns:
            measure_cold(args, workdir, env, aws, scen["cold"], started)
        if ("emergency" in args.patterns and args.emergency_sizes) or ("catalog" in args.patterns and args.catalog):
            measure_roles(args, workdir, env, scen, started)
        if "rotation" in args.patterns and (args.rotation_static or args.rotation_postgres):
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
                            "rotation": rotations, "scenarios": scen})
    finally:
        harness.stop_all()
    report = summarise(results, empty, raw, args.secrets, approle is not None)
    report["rotation"] = rotations
    report["rounds"], report["anchor_rounds"] = args.rounds, min(args.anchor_rounds, args.rounds)
    report["patterns"], report["configs"] = args.patterns, args.config_list
    if scen["fleet"]:
        report["fleet"] = scenarios.summarise_fleet(scen["fleet"], args.fleet_hosts, args.fleet_secrets,
                                                    args.fleet_forks)
    if scen["cold"]:
        report["cold"] = scenarios.summarise_cold(scen["cold"])
    if scen["emergency"] or scen["catalog"]:
        report["roles"] = scenarios.summarise_roles(scen["emergency"], scen["catalog"], args.catalog)
    report["duration_s"] = round(time.perf_counter() - started, 1)
    report["load_average"] = {"before": [round(x, 2) for x in load_before],
                              "after": [round(x, 2) for x in os.getloadavg()]}
    report["issue_goals"] = issue_goals(report, args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.json").write_text(json.dumps(report, indent=2))
    (out / "bench.md").write_text(markdown(report))
    if report["rows"]:
        (out / "bench.svg").write_text(chart.svg(report))
    print(markdown(report))
    print("written: %s/bench.{md,json%s}" % (out, ",svg" if report["rows"] else ""))
    shutil.rmtree(run_dir, ignore_errors=True)   # the servers' data and logs; kept when a run fails


def measure_shapes(args, shapes, workdir, env, vault, aws, approle, results, empty, raw, started):
    """The four lookup shapes, every implementation once per round (the anchors in the first rounds only)."""
    impls = patterns.implementations(vault, aws, approle, configs=args.config_list)
    if args.only:
        wanted = set(args.only.split(","))
        impls = [i for i in impls if i.name in wanted or i.label in wanted or i.name == "no lookup"]
    for _round in range(args.rounds):
        empty.append(run_playbook(workdir, patterns.EMPTY, env)[0])
        for impl in impls:
            if not impl.ours and impl.name != "no lookup" and _round >= args.anchor_rounds:
                continue
            for pattern in shapes:
                text = impl.playbook(pattern, args.secrets)
                if text is None:
                    continue
                before = count_lines(vault["audit_log"])
                wall, cpu = run_playbook(workdir, text, dict(env, **impl.env))
                entry = results.setdefault(impl.label, {}).setdefault(pattern, {"times": [], "cpu": []})
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


def measure_fleet(args, workdir, env, vault, aws, approle, out, started):
    """The fleet: --fleet-hosts local hosts x --fleet-secrets tasks with --fleet-forks, with and without lookups."""
    inventory = scenarios.fleet_inventory(workdir, args.fleet_hosts, sys.executable)
    fleet_env = dict(env, ANSIBLE_FORKS=str(args.fleet_forks))
    variants = scenarios.fleet_variants(aws, approle, args.config_list)
    for _round in range(args.fleet_rounds):
        for label, kind, config, build in variants:
            extra = patterns.CALLBACK_ENV if config == "callback" else {}
            before = count_lines(vault["audit_log"])
            wall, _cpu = run_playbook(workdir, build(args.fleet_secrets), dict(fleet_env, **extra),
                                      inventory=inventory)
            logins, reads = vault_reads(vault["audit_log"], before)
            entry = out.setdefault(label, {"times": [], "logins": [], "reads": []})
            entry["times"].append(wall)
            entry["logins"].append(logins)
            entry["reads"].append(reads)
            if kind is None and (logins or reads):
                raise RuntimeError("the fleet's control read the store: %d logins, %d reads" % (logins, reads))
        print("fleet round %d done after %.0f s" % (_round + 1, time.perf_counter() - started), flush=True)


def measure_cold(args, workdir, env, aws, out, started):
    """One lookup in a one-task playbook against the same task with a constant, interleaved."""
    variants = scenarios.cold_variants(aws, args.config_list)
    for _round in range(args.cold_rounds):
        for label, config, build in variants:
            extra = patterns.CALLBACK_ENV if config == "callback" else {}
            wall, cpu = run_playbook(workdir, build(), dict(env, **extra))
            entry = out.setdefault(label, {"times": [], "cpu": []})
            entry["times"].append(wall)
            entry["cpu"].append(cpu)
    print("cold first lookup done after %.0f s" % (time.perf_counter() - started), flush=True)


def measure_roles(args, workdir, env, scen, started):
    """The emergency runbook over --emergency entries; first provision and rotate of --catalog entries and of one
    (the playbook's fixed cost). The roles run as users run them: no callback configured."""
    role_env = dict(env, ANSIBLE_ASYNC_DIR=str(workdir / ".ansible_async"), PWD=str(workdir),
                    AGENTAREA_SECRETS_FINGERPRINT_KEY_FILE=str(workdir / "fingerprint.key"))
    for _round in range(args.roles_rounds):
        for size in args.emergency_sizes if "emergency" in args.patterns else ():
            sample = scenarios.emergency_run(workdir, run_playbook, role_env, size, "BENCH-%d" % (_round + 1))
            scen["emergency"].setdefault(size, []).append(sample)
            print("emergency runbook over %d entries: %.1f s" % (size, sample[0]), flush=True)
        if "catalog" in args.patterns and args.catalog:
            for size, key in ((1, "1"), (args.catalog, "N")):
                for step, sample in scenarios.catalog_run(workdir, run_playbook, role_env, size).items():
                    scen["catalog"].setdefault(step, {"1": [], "N": []})[key].append(sample)
            print("catalog round %d done after %.0f s" % (_round + 1, time.perf_counter() - started), flush=True)


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
    return report


def _kind(label):
    return "aws" if ".aws" in label else "secret" if ".secret" in label else "vault"


def _config(label):
    return "no config" if label.endswith("(no config)") else "callback"


def emergency_limit(count):
    """The issue gives 10 s for 20 entries and 60 s for 200: linear between them, 10 s below 20, scaled above 200."""
    (n1, s1), (n2, s2) = GOAL_EMERGENCY_S
    if count <= n1:
        return s1, count == n1
    if count >= n2:
        return s2 * count / n2, count == n2
    return s1 + (s2 - s1) * (count - n1) / (n2 - n1), False


def issue_goals(report, args):
    """One row per goal of issue 17 (per lookup and configuration where the goal is per lookup): goal, what it
    applies to, measured, the limit, holds (None: not measured in this run)."""
    out = []

    def add(goal, impl, measured, limit, holds):
        out.append({"goal": goal, "impl": impl, "measured": measured, "limit": limit, "holds": holds})

    rows = [r for r in report["rows"] if r["impl"].startswith("agentarea.secrets.")]
    by = dict(((r["impl"], r["pattern"]), r) for r in rows)
    labels = []
    for row in rows:
        if row["impl"] not in labels:
            labels.append(row["impl"])

    def per_lookup(goal, pattern, configs, render):
        found = False
        for label in labels:
            row = by.get((label, pattern))
            if row is None or _config(label) not in configs:
                continue
            measured, limit, holds = render(row, _kind(label))
            if measured is not None:
                found = True
                add(goal, label, measured, limit, holds)
        if not found:
            add(goal, "", "not measured", "", None)

    def tasks(row, kind, config):
        limit = GOAL_NOCONFIG_RATIO if config == "no config" else GOAL_CALLBACK_RATIO[kind]
        if row.get("vs_control") is None:
            return None, None, None
        return "%.2fx" % row["vs_control"], "<= %.2fx" % limit, row["vs_control"] <= limit

    per_lookup("N tasks, one lookup each, no ansible.cfg change (x Ansible's per-task cost)", "N tasks",
               ("no config",), lambda r, k: tasks(r, k, "no config"))
    per_lookup("N tasks, callback enabled (x Ansible's per-task cost)", "N tasks", ("callback",),
               lambda r, k: tasks(r, k, "callback"))

    def loop(row, _kind_):
        if "extra_ms" not in row:
            return None, None, None
        return ("%+.2f ms (%s ms CPU)" % (row["extra_ms"], _cell(row.get("extra_cpu_ms"))),
                "<= +%.1f ms" % GOAL_LOOP_EXTRA_MS, row["extra_ms"] <= GOAL_LOOP_EXTRA_MS)

    per_lookup("loop of N items (over Ansible's per-item cost)", "loop", patterns.CONFIGS, loop)

    def call(row, _kind_):
        if "vs_raw" not in row:
            return None, None, None
        return ("%.2fx (CPU: %sx)" % (row["vs_raw"], _cell(row.get("vs_raw_cpu"))), "<= %.1fx" % GOAL_CALL_VS_RAW,
                row["vs_raw"] <= GOAL_CALL_VS_RAW)

    per_lookup("one call, N terms (x the raw client per secret, fixed cost included)", "one call, N terms",
               patterns.CONFIGS, call)

    fleet = [r for r in report.get("fleet", []) if r["impl"] != "no lookup"]
    goal = "fleet: %s hosts x %s secrets, forks %s (logins / reads; wall x without lookups)" % (
        args.fleet_hosts, args.fleet_secrets, args.fleet_forks)
    for row in fleet:
        holds = (row["logins"] <= 1 and row["reads"] == row["secrets"]
                 and row.get("vs_control") is not None and row["vs_control"] <= GOAL_FLEET_RATIO)
        add(goal, row["impl"], "%s login(s), %s reads; %sx" % (row["logins"], row["reads"], _cell(row.get("vs_control"))),
            "1 login, %d reads; <= %.1fx" % (row["secrets"], GOAL_FLEET_RATIO), holds)
    if not fleet:
        add(goal, "", "not measured", "", None)

    cold = [r for r in report.get("cold", []) if "extra_ms" in r]
    for row in cold:
        add("first lookup of a run (cold; ms over the same playbook without it)", row["impl"],
            "%+.0f ms (%+.0f ms CPU)" % (row["extra_ms"], _cell(row.get("extra_cpu_ms"))), "<= %d ms" % GOAL_COLD_MS,
            row["extra_ms"] <= GOAL_COLD_MS)
    if not cold:
        add("first lookup of a run (cold; ms over the same playbook without it)", "", "not measured", "", None)

    def held(row, _kind_):
        if "reads" not in row:
            return None, None, None
        return ("%s login(s), %s read(s)" % (row["logins"], row["reads"]), "1 login, 1 read",
                row["logins"] <= 1 and row["reads"] == 1)

    per_lookup("held variable used by N tasks", "held variable", patterns.CONFIGS, held)

    roles = dict((r["what"], r) for r in report.get("roles", []) if r["what"] != "emergency runbook")
    runbook = [r for r in report.get("roles", []) if r["what"] == "emergency runbook"]
    for row in runbook:
        limit, exact = emergency_limit(row["entries"])
        add("emergency runbook (emergency_tags, confirm given) over %d static entries with env_file consumers"
            % row["entries"], "agentarea.secrets.emergency", "%.1f s" % row["median_s"],
            "<= %.0f s%s" % (limit, "" if exact else " (scaled from the issue's 10 s for 20, 60 s for 200)"),
            row["median_s"] <= limit)
    if not runbook:
        add("emergency runbook (emergency_tags, confirm given) over static entries with env_file consumers", "",
            "not measured", "", None)
    for what, playbook in (("first provision", "provision"), ("rotate", "rotate")):
        row = roles.get(what)
        goal = "roles at catalog scale: %s of %s static entries (s per entry over the fixed cost)" % (
            what, row["entries"] if row else args.catalog)
        if row and "s_per_entry" in row:
            add(goal, "agentarea.secrets.%s" % playbook, "%.3f s (%.1f s in all)" % (row["s_per_entry"], row["median_s"]),
                "<= %.2f s" % GOAL_CATALOG_S, row["s_per_entry"] <= GOAL_CATALOG_S)
        else:
            add(goal, "", "not measured", "", None)
    return out


def markdown(report):
    load = report.get("load_average", {})
    lines = ["Measured %s on %s; load average before / after: %s / %s; the whole bench took %.0f s; patterns: %s; "
             "our lookups' configurations: %s." % (
                 report["date"], report["machine"], load.get("before", "?"), load.get("after", "?"),
                 report.get("duration_s", 0), ", ".join(report.get("patterns", [])) or "?",
                 ", ".join(report.get("configs", [])) or "?")]
    if report.get("issue_goals"):
        lines += ["", "Goals (issue 17):", "", "| goal | implementation | measured | goal | holds |",
                  "|---|---|---|---|---|"]
        for goal in report["issue_goals"]:
            holds = "–" if goal["holds"] is None else "yes" if goal["holds"] else "**no**"
            lines.append("| %s | %s | %s | %s | %s |" % (goal["goal"], goal["impl"], goal["measured"], goal["limit"],
                                                         holds))
    if report["rows"]:
        lines += ["", "Lookups: %d secrets; medians of %s interleaved whole-process runs (the anchors: %s); "
                  "empty playbook %.2f s; the held variable logs in with %s; \"(callback)\": the run_cache callback "
                  "enabled, \"(no config)\": no ansible.cfg change." % (
                      report["secrets"], report.get("rounds", "?"), report.get("anchor_rounds", "?"),
                      report["empty_playbook_s"], report["held_login"]),
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
    for key, render in (("fleet", scenarios.markdown_fleet), ("cold", scenarios.markdown_cold),
                        ("roles", scenarios.markdown_roles)):
        if report.get(key):
            lines += ["", render(report[key]).rstrip()]
    if report.get("rotation"):
        lines += ["", "Rotation engine (agentarea.secrets.rotate), medians; the phases are the module's own timings:",
                  "", rotation.markdown(report["rotation"]).rstrip()]
    return "\n".join(lines) + "\n"


def _cell(value):
    return "" if value is None else value


if __name__ == "__main__":
    main()
