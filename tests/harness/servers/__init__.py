"""Start and stop the real servers (and our two fakes) that the integration tests run against.

Library::

    h = Harness("/tmp/run")          # attaches to services already listed in /tmp/run/servers.json
    info = h.start("vault")           # idempotent; returns the endpoint dict
    h.stop_all()                      # stops what this Harness started (also registered with atexit)

CLI::

    python tests/harness/servers start --run-dir D vault redis ...   # prints JSON, leaves them running
    python tests/harness/servers stop --run-dir D                    # stops everything listed in D

Every service binds to 127.0.0.1 on a port chosen free at start. ``D/servers.json`` maps each started
service to its endpoint dict, so other processes (ansible-playbook runs, a second pytest) can read it.
Each dict also carries ``pid`` (when there is a long-running process) and ``env``: the variables a
client or an Ansible run would set to reach the service.

One module per family: ``common`` (ports, processes, probes), ``harness`` (``Harness``: bookkeeping, start/stop),
``openbao``, ``cloud`` (moto, drongo, our fakes), ``databases`` (PostgreSQL, MariaDB, Redis), ``pass_store``,
``docker``, ``tls`` (throwaway certificates), ``cli``. The names tests use are importable from here.
"""
from tests.harness.servers.cli import main
from tests.harness.servers.cloud import AWS_IAM_INITIAL_NO_AUTH, GCP_PROJECT
from tests.harness.servers.common import (
    BIN_DIRS, FAKES, HERE, READY_TIMEOUT, SERVICES, TESTS, HarnessError, free_port, free_port_below, http_ok, kill_pid,
    pid_alive, port_is_free, run, tail, tcp_banner, which,
)
from tests.harness.servers.docker import (
    DOCKER_IMAGE, SWARM_GOSSIP_PORT, any_dockerd_running, busybox_rootfs_tar, pids_referencing, udp_wildcard_bound,
)
from tests.harness.servers.harness import Harness
from tests.harness.servers.tls import make_tls_chain

__all__ = [
    "AWS_IAM_INITIAL_NO_AUTH", "BIN_DIRS", "DOCKER_IMAGE", "FAKES", "GCP_PROJECT", "HERE", "READY_TIMEOUT", "SERVICES",
    "SWARM_GOSSIP_PORT", "TESTS", "Harness", "HarnessError", "any_dockerd_running", "busybox_rootfs_tar", "free_port",
    "free_port_below", "http_ok", "kill_pid", "main", "make_tls_chain", "pid_alive", "pids_referencing", "port_is_free",
    "run", "tail", "tcp_banner", "udp_wildcard_bound", "which",
]
