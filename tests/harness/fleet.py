# -*- coding: utf-8 -*-
"""What the fleet tests share (tests/integration/test_fleet_ssh.py, test_faults_fleet.py): running a playbook over
the SSH fleet of tests/harness/ssh_hosts.py, reading owners, modes and files on the hosts (every host is this
machine, so files are checked directly on disk), the recap's changed count, and the sync role's drift report."""
import os
import pwd
import re
import stat

FORKS = ["-f", "10"]
ENV_OTHER_LINES = ("# app settings, kept by every write\n"
                   "APP_NAME=agentarea\n"
                   "\n"
                   "export LOG_LEVEL='debug'  # inline comment\n"
                   "QUOTED=\"a b c\"\n")


def owner_of(path):
    return pwd.getpwuid(os.stat(path).st_uid).pw_name


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def run_fleet(ansible, fleet, playbook, expect_rc=0, **kw):
    args = ["-i", fleet.inventory] + FORKS + list(kw.pop("args", ()))
    result = ansible.playbook(playbook, args=args, expect_rc=None, **kw)
    if expect_rc is not None and result.rc != expect_rc:
        # the recap of 50 hosts pushes the error out of the printed tail: name the failures first
        failed = ["%s | %s | %s" % (r["_host"], r["_task"], str(r.get("msg"))[:500])
                  for rs in result.results.values() for r in rs if r["_status"] in ("failed", "item_failed")]
        raise AssertionError("rc=%s, expected %s; failures:\n%s\n%r"
                             % (result.rc, expect_rc, "\n".join(failed[:10]), result))
    return result


def changed_count(result):
    """The sum of changed= over the recap (every host)."""
    return sum(int(n) for n in re.findall(r"changed=(\d+)", result.stdout))


def no_traceback(result):
    return "Traceback (most recent call last)" not in result.output


def fleet_hosts(fleet):
    return fleet.group("fleet")


def modules_running_as(uids):
    """The pids of our modules (AnsiballZ) still running as one of ``uids`` (every fleet host is this machine)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.stat("/proc/" + entry).st_uid not in uids:
                continue
            with open("/proc/%s/cmdline" % entry, "rb") as f:
                if b"AnsiballZ" in f.read():
                    found.append(int(entry))
        except OSError:
            continue
    return found


def read_or_none(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def drift_report(result):
    """The sync role's drift report (a run_once debug: recorded under whichever host ran it)."""
    found = [r for rs in result.results.values() for r in rs
             if r.get("_task", "").endswith("Drift report (fingerprints compared, values never shown)")]
    assert found, result
    return found[-1]["msg"]


def hosts_in(report, state):
    row = [e for e in report if e["name"] == "consumers on hosts"]
    return {line.split(": ", 1)[0] for line in (row[0]["consumers"] if row else []) if line.endswith(": " + state)}
