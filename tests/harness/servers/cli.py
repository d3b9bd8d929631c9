# -*- coding: utf-8 -*-
"""The command line: ``start`` services and leave them running, ``stop`` every service of a run dir."""
import argparse
import atexit
import json
import os
import sys
import time

from tests.harness.servers.common import SERVICES, HarnessError
from tests.harness.servers.harness import Harness


def main(argv=None):
    parser = argparse.ArgumentParser(description="Start and stop the real servers (and our two fakes) that the integration tests run against.")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_start = sub.add_parser("start", help="start services and leave them running; prints servers.json")
    p_start.add_argument("--run-dir", required=True)
    p_start.add_argument("services", nargs="*", help="default: all except vault_tls, aws_iam and azure_ad")
    p_stop = sub.add_parser("stop", help="stop every service recorded in the run dir")
    p_stop.add_argument("--run-dir", required=True)
    args = parser.parse_args(argv)
    h = Harness(args.run_dir)
    atexit.unregister(h.stop_all)
    if args.cmd == "stop":
        h.stop_all(everything=True)
        return 0
    names = args.services or [s for s in SERVICES if s not in ("vault_tls", "aws_iam", "azure_ad")]
    t0 = time.monotonic()
    try:
        h.start_many(names)
    except HarnessError as e:
        sys.stderr.write("%s\n" % e)
        h.stop_all()
        return 1
    json.dump({n: h.services[n] for n in names}, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
    sys.stderr.write("started %s in %.2f s; stop with: %s %s stop --run-dir %s\n"
                     % (", ".join(names), time.monotonic() - t0, sys.executable, os.path.relpath(os.path.dirname(os.path.abspath(__file__))),
                        h.run_dir))
    return 0
