# -*- coding: utf-8 -*-
"""OpenBao dev servers: ``vault`` (HTTP, file audit device) and ``vault_tls`` (its own CA)."""
import json
import os

from tests.harness.servers.common import free_port, http_ok, which


class OpenBaoServers:
    """Mixed into ``Harness``: ``_start_<service>`` (and ``_stop_<service>``) for OpenBao."""

    # --- OpenBao --------------------------------------------------------------------------------
    def _start_bao(self, name, tls):
        port = free_port(also_next=True)
        audit = self.path(name + "-audit.log") if tls else self.path("bao-audit.log")
        hcl = self.path(name + ".hcl")
        with open(hcl, "w") as f:
            f.write('audit "file" "file" {\n  options { file_path = %s }\n}\n' % json.dumps(audit))
        cmd = [which("bao"), "server", "-dev", "-dev-no-store-token", "-dev-root-token-id=root-token",
               "-dev-listen-address=127.0.0.1:%d" % port, "-config=" + hcl]
        ca = None
        if tls:
            cert_dir = self.path(name + "-certs")
            os.makedirs(cert_dir, mode=0o700, exist_ok=True)
            cmd += ["-dev-tls", "-dev-tls-cert-dir=" + cert_dir]
            ca = os.path.join(cert_dir, "vault-ca.pem")
        # HOME=run_dir: the root token must never reach the developer's ~/.vault-token.
        env = {"HOME": self.run_dir, "VAULT_ADDR": "", "VAULT_TOKEN": "", "BAO_ADDR": "", "BAO_TOKEN": ""}
        proc = self._spawn(name, cmd, env=env)
        url = "%s://127.0.0.1:%d" % ("https" if tls else "http", port)
        log = self.path(name + ".log")
        self._wait(name, lambda: (not tls or os.path.exists(ca)) and http_ok(url + "/v1/sys/health", cafile=ca),
                   log, proc)
        info = {"url": url, "token": "root-token", "audit_log": audit, "pid": proc.pid, "log": log,
                "env": {"VAULT_ADDR": url, "VAULT_TOKEN": "root-token"}}
        if tls:
            info["ca_cert"] = ca
            info["env"]["VAULT_CACERT"] = ca
        return info

    def _start_vault(self):
        return self._start_bao("vault", tls=False)

    def _start_vault_tls(self):
        return self._start_bao("vault_tls", tls=True)
