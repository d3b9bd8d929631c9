# -*- coding: utf-8 -*-
"""Cloud stores: moto (``aws``, ``aws_iam`` with IAM enforced), drongo (``gcp``) and our fakes (``azure`` over TLS,
``azure_ad`` the same with an Entra ID tenant that issues the only tokens it accepts, ``k8s``, all in tests/fakes)."""
import contextlib
import json
import os
import secrets
import sys
import uuid

from tests.harness.servers.common import FAKES, free_port, http_ok, which
from tests.harness.servers.tls import make_client_certificate, make_tls_chain

GCP_PROJECT = "agentarea-test"
AWS_IAM_INITIAL_NO_AUTH = 4


class CloudServers:
    """Mixed into ``Harness``: ``_start_<service>`` (and ``_stop_<service>``) for moto, drongo and our fakes."""

    # --- moto -----------------------------------------------------------------------------------
    def _start_moto(self, name, initial_no_auth=None):
        port = free_port()
        env = {"MOTO_PORT": str(port)}
        if initial_no_auth is not None:
            env["INITIAL_NO_AUTH_ACTION_COUNT"] = str(initial_no_auth)
        proc = self._spawn(name, [which("moto_server"), "-H", "127.0.0.1", "-p", str(port)], env=env)
        url = "http://127.0.0.1:%d" % port
        log = self.path(name + ".log")
        self._wait(name, lambda: http_ok(url + "/moto-api/"), log, proc)
        info = {"url": url, "region": "us-east-1", "access_key": "testing", "secret_key": "testing",
                "pid": proc.pid, "log": log,
                "env": {"AWS_ENDPOINT_URL": url, "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1",
                        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}}
        if initial_no_auth is not None:
            info["initial_no_auth"] = initial_no_auth
        return info

    def _start_aws(self):
        return self._start_moto("aws")

    def _start_aws_iam(self):
        return self._start_moto("aws_iam", initial_no_auth=AWS_IAM_INITIAL_NO_AUTH)

    # --- drongo ---------------------------------------------------------------------------------
    def _start_gcp(self):
        port = free_port()
        proc = self._spawn("gcp", [which("drongo"), "server", "--host", "127.0.0.1", "--port", str(port)])
        url = "http://127.0.0.1:%d" % port
        log = self.path("gcp.log")
        self._wait("gcp", lambda: http_ok(url + "/drongo/health"), log, proc)
        return {"url": url, "project": GCP_PROJECT, "pid": proc.pid, "log": log,
                "env": {"GOOGLE_CLOUD_PROJECT": GCP_PROJECT}}

    # --- our fakes ------------------------------------------------------------------------------
    def _start_fake(self, name, script, args, scheme, cafile=None, check_path="/"):
        port_file = self.path(name + ".port")
        with contextlib.suppress(OSError):
            os.unlink(port_file)
        cmd = [sys.executable, os.path.join(FAKES, script), "--port", "0", "--port-file", port_file] + args
        proc = self._spawn(name, cmd)
        log = self.path(name + ".log")
        self._wait(name, lambda: os.path.exists(port_file), log, proc)
        with open(port_file) as f:
            port = int(f.read())
        url = "%s://127.0.0.1:%d" % (scheme, port)
        self._wait(name, lambda: http_ok(url + check_path, cafile=cafile, any_status=True), log, proc)
        return url, proc, log

    def _start_azure(self):
        cert_dir = self.path("azure-certs")
        ca, cert, key = make_tls_chain(cert_dir)
        url, proc, log = self._start_fake("azure", "azure_keyvault.py", ["--cert", cert, "--key", key], "https",
                                          cafile=ca)
        return {"url": url, "ca_cert": ca, "pid": proc.pid, "log": log,
                "env": {"AZURE_KEYVAULT_URL": url, "REQUESTS_CA_BUNDLE": ca}}

    def _start_azure_ad(self):
        """Key Vault that accepts only tokens from its own Entra ID tenant, where one application (service
        principal) has a client secret and a certificate (an encrypted PEM with its key)."""
        cert_dir = self.path("azure_ad-certs")
        ca, cert, key = make_tls_chain(cert_dir)
        tenant, client_id = str(uuid.uuid4()), str(uuid.uuid4())
        client_secret, password = "cs-" + secrets.token_urlsafe(24), "pw-" + secrets.token_urlsafe(12)
        pem, public = make_client_certificate(cert_dir, "app", password=password)
        config = self.path("azure_ad.json")
        with open(os.open(config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            json.dump({"tenant": tenant, "applications": [{"client_id": client_id, "client_secret": client_secret,
                                                           "certificates": [public]}]}, f)
        url, proc, log = self._start_fake("azure_ad", "azure_keyvault.py",
                                          ["--cert", cert, "--key", key, "--aad", config], "https", cafile=ca)
        return {"url": url, "ca_cert": ca, "pid": proc.pid, "log": log, "authority": url, "tenant_id": tenant,
                "client_id": client_id, "client_secret": client_secret, "client_certificate": pem,
                "client_certificate_password": password,
                "env": {"AZURE_KEYVAULT_URL": url, "AZURE_AUTHORITY_HOST": url, "REQUESTS_CA_BUNDLE": ca}}

    def _start_k8s(self):
        token = "k8s-" + secrets.token_hex(16)
        url, proc, log = self._start_fake("k8s", "kube",
                                          ["--token", token, "--rollout-delay", str(self.rollout_delay)], "http",
                                          check_path="/version")
        kubeconfig = self.path("kubeconfig")
        config = {"apiVersion": "v1", "kind": "Config", "preferences": {},
                  "clusters": [{"name": "fake", "cluster": {"server": url}}],
                  "users": [{"name": "fake-admin", "user": {"token": token}}],
                  "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "fake-admin"}}],
                  "current-context": "fake"}
        with open(os.open(kubeconfig, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            json.dump(config, f, indent=2)  # JSON is valid YAML
        return {"url": url, "token": token, "kubeconfig": kubeconfig, "namespaces": ["default", "agentarea"],
                "pid": proc.pid, "log": log, "env": {"KUBECONFIG": kubeconfig, "K8S_AUTH_KUBECONFIG": kubeconfig}}
