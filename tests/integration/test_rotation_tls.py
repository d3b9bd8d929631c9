# -*- coding: utf-8 -*-
"""Issue 15, PKI: ``kind: tls`` with a ``vault_pki`` issuer, rotated by the rotation engine against a real OpenBao
PKI mount, with a real TLS server as the consumer (Python's ssl, loading its certificate files on every
connection, as a server reloading them would).

One playbook drives the rotate module through the whole life of a certificate - issue (pushed to the server and
proven by a handshake before finish), check mode and a second run that is not due, a forced rotation, the contract
that revokes the old serial, the contract again (nothing to do) - and one more the rotate role with a catalog entry
and a file consumer. Set-up and checks are done with hvac and the ssl module; no private key may reach any output."""
import socket
import ssl
import threading

import pytest

from tests.harness.vault_helpers import ensure_engine, env_for

pytestmark = pytest.mark.integration
pytest_plugins = ["tests.harness.vault_fixtures"]  # vault, root, prefix

CN = "localhost"


class Server:
    """A TLS server on 127.0.0.1 that loads ``cert`` and ``key`` for each connection (none yet: it hangs up)."""

    def __init__(self, cert, key):
        self.cert, self.key = str(cert), str(key)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                conn, _addr = self.sock.accept()
            except OSError:
                return
            try:
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                context.load_cert_chain(self.cert, self.key)
                conn.settimeout(5)
                with context.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(1)
            except (OSError, ssl.SSLError):
                pass
            finally:
                conn.close()

    def close(self):
        self.sock.close()


@pytest.fixture
def pki(root, prefix):
    mount = "%s-pki" % prefix
    ensure_engine(root, "pki", mount, options=None)
    root.sys.tune_mount_configuration(mount, max_lease_ttl="48h")
    root.write("%s/root/generate/internal" % mount, common_name="agentarea test root %s" % prefix, ttl="24h",
               key_type="ec", key_bits=256)
    root.write("%s/roles/web" % mount, allowed_domains="localhost", allow_bare_domains=True, allow_localhost=True,
               allow_ip_sans=True, key_type="ec", key_bits=256, max_ttl="4h")
    yield mount
    root.sys.disable_secrets_engine(mount)


def cert_state(root, mount, serial):
    return root.read("%s/cert/%s" % (mount, serial))["data"]


def stored(root, path):
    return root.secrets.kv.v2.read_secret_version(path=path, mount_point="secret",
                                                  raise_on_deleted_version=True)["data"]["data"]


def served_serial(port):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        with context.wrap_socket(sock, server_hostname=CN) as tls:
            der = tls.getpeercert(binary_form=True)
    from cryptography import x509
    text = "%x" % x509.load_der_x509_certificate(der).serial_number
    text = ("0" + text) if len(text) % 2 else text
    return ":".join(text[i:i + 2] for i in range(0, len(text), 2))


def test_certificate_issued_pushed_proven_renewed_and_revoked(ansible, vault, root, prefix, pki, tmp_path):
    tls_dir = tmp_path / "tls"
    tls_dir.mkdir()
    server = Server(tls_dir / "tls.crt", tls_dir / "tls.key")
    try:
        path = "%s/web-tls" % prefix
        target = {"issuer": {"vault_pki": pki, "role": "web", "common_name": CN, "ip_sans": ["127.0.0.1"],
                             "ttl": "2h"},
                  "deploy": [{"ref": "file://%s/tls.crt" % tls_dir, "field": "tls.crt"},
                             {"ref": "file://%s/tls.key" % tls_dir, "field": "tls.key"}],
                  "handshake": {"host": "127.0.0.1", "port": server.port, "wait": 5}}
        base = {"store": "vault://secret/%s" % path, "kind": "tls", "strategy": "overlap", "overlap": "0",
                "target": target}

        def task(name, **args):
            out = {"name": name, "agentarea.secrets.rotate": dict(base, **args), "register": name.replace(" ", "_")}
            if "check_mode" in args:
                out["check_mode"] = out["agentarea.secrets.rotate"].pop("check_mode")
            return out
        play = [{"hosts": "localhost", "gather_facts": False, "environment": env_for(vault), "tasks": [
            task("issue check", check_mode=True),
            task("issue"),
            task("not due check", check_mode=True),
            task("not due"),
            task("forced", force=True),
            task("contract", contract=True),
            task("contract again", contract=True),
        ]}]
        result = ansible.playbook(play, diff=True)
        issue_check, issued = result.task("issue check"), result.task("issue")
        assert issue_check["changed"] and issue_check["plan"]["exists"] is False
        assert issued["action"] == "rotated" and issued["phase"] == "finish", issued
        first = issued["new"]["serial"]
        assert set(issued["new"]) == {"version", "fingerprint", "serial", "not_after"}
        not_due_check, not_due = result.task("not due check"), result.task("not due")
        assert not not_due_check["changed"] and not_due_check["plan"]["steps"] == []
        assert not_due["action"] == "skipped" and not not_due["changed"] and not_due["next_due"]
        assert "a third of its lifetime" in not_due["reason"]
        forced = result.task("forced")
        second = forced["new"]["serial"]
        assert forced["action"] == "rotated" and forced["old"]["serial"] == first and second != first
        assert forced["contract"] is None  # overlap: the old certificate stays valid until the contract
        contract, again = result.task("contract"), result.task("contract again")
        assert contract["action"] == "contracted" and contract["contract"]["removed"]["serial"] == first
        assert "revoked the old certificate (serial %s) at %s" % (first, pki) in contract["notes"]
        assert not again["changed"] and "already contracted" in again["contract"]["reason"]

        # checked with hvac and ssl: the store, the server, the mount's revocation list
        value = stored(root, path)
        assert value["serial"] == second and served_serial(server.port) == second
        assert (tls_dir / "tls.crt").read_text().startswith(value["certificate"].strip())
        assert cert_state(root, pki, first)["revocation_time"] > 0
        assert cert_state(root, pki, second)["revocation_time"] == 0
        # no private key (the current one, nor the one it replaced) in any output of the run
        previous = root.secrets.kv.v2.read_secret_version(path=path, mount_point="secret", version=1,
                                                          raise_on_deleted_version=False)["data"]["data"]
        assert previous["serial"] == first
        ansible.assert_no_leak(result, [value["private_key"], previous["private_key"]])
    finally:
        server.close()


def test_the_rotate_role_pushes_a_certificate_to_a_file_consumer(ansible, vault, root, prefix, pki, tmp_path):
    tls_dir, consumer = tmp_path / "tls", tmp_path / "consumer"
    tls_dir.mkdir()
    consumer.mkdir()
    server = Server(tls_dir / "tls.crt", tls_dir / "tls.key")
    try:
        path = "%s/role-tls" % prefix
        entry = {"name": "web-tls", "owner": "platform", "purpose": "the web server's certificate", "kind": "tls",
                 "store": "vault://secret/%s" % path, "rotation": {"strategy": "single"},
                 "target": {"issuer": {"vault_pki": pki, "role": "web", "common_name": CN, "ttl": "2h"},
                            "deploy": [{"ref": "file://%s/tls.crt" % tls_dir, "field": "tls.crt"},
                                       {"ref": "file://%s/tls.key" % tls_dir, "field": "tls.key"}],
                            "handshake": {"host": "127.0.0.1", "port": server.port, "server_name": CN, "wait": 5}},
                 "consumers": [{"file": {"path": str(consumer / "tls.crt"), "field": "tls.crt"}},
                               {"file": {"path": str(consumer / "tls.key"), "field": "tls.key"}}]}
        # the first certificate, issued at the mount by the test (the role rotates what exists)
        first = root.write("%s/issue/web" % pki, common_name=CN, ttl="2h")["data"]
        root.secrets.kv.v2.create_or_update_secret(
            path=path, mount_point="secret",
            secret={"certificate": first["certificate"], "private_key": first["private_key"],
                    "ca_chain": first["issuing_ca"], "serial": first["serial_number"]})
        extra = {"agentarea_secrets_catalog": [entry], "rotate_names": ["web-tls"],
                 "agentarea_secrets_report_dir": str(tmp_path / "reports"),
                 "agentarea_secrets_audit_log": str(tmp_path / "reports" / "audit.jsonl")}
        result = ansible.playbook("agentarea.secrets.rotate", extra_vars=extra,
                                  env=env_for(vault), canaries=[first["private_key"]])
        value = stored(root, path)
        assert value["serial"] != first["serial_number"] and served_serial(server.port) == value["serial"]
        assert (consumer / "tls.key").read_text().strip() == value["private_key"].strip()
        assert (consumer / "tls.crt").read_text().startswith(value["certificate"].strip())
        # strategy single: the old serial is revoked right after finish
        assert cert_state(root, pki, first["serial_number"])["revocation_time"] > 0
        ansible.assert_no_leak(result, [value["private_key"]])
    finally:
        server.close()
