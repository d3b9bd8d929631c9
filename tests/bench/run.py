# -*- coding: utf-8 -*-
"""make bench: what a secret lookup costs in real playbooks, ours against the anchors, the raw clients and Ansible
with no lookup at all, against the harness's OpenBao and moto servers. Runs are whole ansible-playbook processes,
interleaved (every implementation once per round), and reported as medians with ranges.

    .venv/bin/python tests/bench/run.py [--secrets 200] [--rounds 3] [--only vault,aws] [--out bench-results]

Cost per secret = (median wall time of the pattern - median wall time of an empty playbook) / secrets.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.bench import chart, patterns  # noqa: E402  pylint: disable=wrong-import-position
from tests.harness.servers import Harness  # noqa: E402  pylint: disable=wrong-import-position

BIN = Path(sys.executable).parent


def seed(vault, aws, count):
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


def raw_costs(vault, aws, count, rounds):
    """The floor: one Python process, one client, sequential reads (ms per secret)."""
    code = {
        "vault": (
            "import hvac,time\nc=hvac.Client(url=%r,token=%r)\nt=time.perf_counter()\n"
            "for i in range(%d): c.secrets.kv.v2.read_secret_version(path='bench/s%%03d'%%i,mount_point='secret',"
            "raise_on_deleted_version=True)\nprint((time.perf_counter()-t)*1000/%d)"
            % (vault["url"], vault["token"], count, count)),
        "aws": (
            "import boto3,time\nc=boto3.client('secretsmanager',endpoint_url=%r,region_name=%r,aws_access_key_id=%r,"
            "aws_secret_access_key=%r)\nt=time.perf_counter()\n"
            "for i in range(%d): c.get_secret_value(SecretId='bench/s%%03d'%%i)\nprint((time.perf_counter()-t)*1000/%d)"
            % (aws["url"], aws["region"], aws["access_key"], aws["secret_key"], count, count)),
    }
    out = {}
    for name, source in code.items():
        samples = [float(subprocess.run([sys.executable, "-c", source], capture_output=True, text=True,
                                        check=True).stdout) for _r in range(rounds)]
        out[name] = samples
    return out


def run_playbook(workdir, text, env):
    path = workdir / "bench.yml"
    path.write_text(text)
    start = time.perf_counter()
    proc = subprocess.run([str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(path)], cwd=str(workdir),
                          env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError("bench playbook failed:\n%s\n%s" % (proc.stdout[-3000:], proc.stderr[-3000:]))
    return elapsed


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
    parser.add_argument("--only", default="", help="comma-separated implementation names")
    parser.add_argument("--out", default=str(ROOT / "bench-results"))
    args = parser.parse_args(argv)

    run_dir = tempfile.mkdtemp(prefix="aa-bench-")
    harness = Harness(run_dir)
    try:
        vault, aws = harness.start("vault"), harness.start("aws")
        seed(vault, aws, args.secrets)
        impls = patterns.implementations(vault, aws)
        if args.only:
            wanted = set(args.only.split(","))
            impls = [i for i in impls if i.name in wanted or i.name == "no lookup"]
        workdir = Path(run_dir) / "work"
        workdir.mkdir()
        env = patterns.environment(ROOT, vault, aws, workdir)
        results = {}
        empty = []
        for _round in range(args.rounds):
            empty.append(run_playbook(workdir, patterns.EMPTY, env))
            for impl in impls:
                for pattern in patterns.PATTERNS:
                    text = impl.playbook(pattern, args.secrets)
                    if text is None:
                        continue
                    before = count_lines(vault["audit_log"])
                    elapsed = run_playbook(workdir, text, dict(env, **impl.env))
                    entry = results.setdefault(impl.name, {}).setdefault(pattern, {"times": []})
                    entry["times"].append(elapsed)
                    if pattern == "held variable" and impl.counts_vault:
                        entry["logins"], entry["reads"] = vault_reads(vault["audit_log"], before)
        raw = raw_costs(vault, aws, args.secrets, args.rounds)
    finally:
        harness.stop_all()
    report = summarise(results, empty, raw, args.secrets)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.json").write_text(json.dumps(report, indent=2))
    (out / "bench.md").write_text(markdown(report))
    (out / "bench.svg").write_text(chart.svg(report))
    print(markdown(report))
    print("written: %s/bench.{md,json,svg}" % out)


def summarise(results, empty, raw, count):
    base = statistics.median(empty)
    report = {
        "date": datetime.date.today().isoformat(),
        "machine": "%s, %s cores, Python %s, %s" % (platform.machine(), os.cpu_count(), platform.python_version(),
                                                    platform.platform(terse=True)),
        "secrets": count, "empty_playbook_s": base, "rows": [],
    }
    control = results.get("no lookup", {})
    for impl, by_pattern in results.items():
        for pattern, entry in by_pattern.items():
            times = entry["times"]
            per = (statistics.median(times) - base) * 1000 / (count if pattern != "held variable" else 3)
            row = {"impl": impl, "pattern": pattern, "median_s": statistics.median(times), "min_s": min(times),
                   "max_s": max(times), "ms_per_secret": round(per, 2)}
            if pattern in control and impl != "no lookup":
                ctrl = (statistics.median(control[pattern]["times"]) - base) * 1000 / count
                row["vs_control"] = round(per / ctrl, 2) if ctrl > 0 else None
            for key in ("logins", "reads"):
                if key in entry:
                    row[key] = entry[key]
            report["rows"].append(row)
    for name, samples in raw.items():
        report["rows"].append({"impl": "raw %s" % ("hvac" if name == "vault" else "boto3"),
                               "pattern": "one call, N terms", "ms_per_secret": round(statistics.median(samples), 2),
                               "min_s": None, "max_s": None, "median_s": None})
    return report


def markdown(report):
    lines = ["Measured %s on %s; %d secrets; medians of %s (empty playbook: %.2f s)." % (
        report["date"], report["machine"], report["secrets"], "interleaved whole-process runs",
        report["empty_playbook_s"]), "",
        "| implementation | pattern | ms per secret | range (s) | vs no lookup | logins / reads |",
        "|---|---|---|---|---|---|"]
    for row in report["rows"]:
        rng = "%.2f–%.2f" % (row["min_s"], row["max_s"]) if row.get("min_s") is not None else "–"
        counts = "%s / %s" % (row["logins"], row["reads"]) if "reads" in row else ""
        cells = (row["impl"], row["pattern"], row["ms_per_secret"], rng, row.get("vs_control", ""), counts)
        lines.append("| %s | %s | %s | %s | %s | %s |" % cells)
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
