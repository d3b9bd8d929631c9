# -*- coding: utf-8 -*-
"""What the Vault integration tests share: the audit log, a proxy that races or fails requests, policies, keys and
certificates made in the test. Set-up and checks are done with hvac, never with the code under test. The fixtures
(the OpenBao server, a root client, a unique prefix) are in vault_fixtures.py."""
import datetime
import hashlib
import http.client
import json
import os
import textwrap
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def sha(text):
    return hashlib.sha256(text.encode()).hexdigest()


def env_for(info, token=True):
    env = {"VAULT_ADDR": info["url"]}
    if token:
        env["VAULT_TOKEN"] = info["token"]
    if info.get("ca_cert"):
        env["VAULT_CACERT"] = info["ca_cert"]
    return env


def ensure_auth(client, method, path=None):
    path = path or method
    if path + "/" not in client.sys.list_auth_methods()["data"]:
        client.sys.enable_auth_method(method, path=path)


def ensure_engine(client, engine, path, options=None):
    if path + "/" not in client.sys.list_mounted_secrets_engines()["data"]:
        client.sys.enable_secrets_engine(engine, path=path, options=options)


def read_policy(client, name, *paths, deny=()):
    rules = ['path "%s" { capabilities = ["read", "list"] }' % p for p in paths]
    rules += ['path "%s" { capabilities = ["deny"] }' % p for p in deny]
    client.sys.create_or_update_policy(name, "\n".join(rules))
    return name


class Audit:
    """The requests OpenBao logged after this object was made (the file audit device the harness declares)."""

    def __init__(self, path):
        self.path = path
        self.offset = os.path.getsize(path) if os.path.exists(path) else 0

    def requests(self):
        with open(self.path) as handle:
            handle.seek(self.offset)
            lines = handle.read().splitlines()
        entries = [json.loads(line) for line in lines if line.strip()]
        return [e["request"] for e in entries if e.get("type") == "request"]

    def count(self, path, operation=None):
        return sum(1 for r in self.requests()
                   if r.get("path") == path and (operation is None or r.get("operation") == operation))


class Proxy:
    """Forwards HTTP to Vault. ``hook(method, path)`` runs first and may answer itself with ``(status, body)``:
    the tests use it to write behind a module's back (a lost update) and to answer 503 (retries)."""

    def __init__(self, upstream, hook):
        self.upstream = urllib.parse.urlsplit(upstream)
        self.hook = hook
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _any(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                answer = proxy.hook(self.command, self.path)
                if answer is None:
                    conn = http.client.HTTPConnection(proxy.upstream.hostname, proxy.upstream.port, timeout=30)
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                    conn.request(self.command, self.path, body=body or None, headers=headers)
                    resp = conn.getresponse()
                    status, data = resp.status, resp.read()
                    conn.close()
                else:
                    status, data = answer[0], json.dumps(answer[1]).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_LIST = _any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def rsa_key():
    from cryptography.hazmat.primitives.asymmetric import rsa
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(key):
    from cryptography.hazmat.primitives import serialization
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def ca_and_client_cert(directory, name="agentarea-client"):
    """A CA and a client certificate signed by it (files in ``directory``): for cert auth, and any PEM."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)

    def build(subject, issuer, public, signer, ca):
        builder = (x509.CertificateBuilder()
                   .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
                   .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
                   .public_key(public).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(minutes=5))
                   .not_valid_after(now + datetime.timedelta(days=1))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if not ca:
            builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        return builder.sign(signer, hashes.SHA256())

    ca_key, client_key = rsa_key(), rsa_key()
    ca = build("agentarea test CA", "agentarea test CA", ca_key.public_key(), ca_key, True)
    cert = build(name, "agentarea test CA", client_key.public_key(), ca_key, False)
    paths = {}
    for label, data in (("ca", ca.public_bytes(serialization.Encoding.PEM)),
                        ("cert", cert.public_bytes(serialization.Encoding.PEM)),
                        ("key", client_key.private_bytes(serialization.Encoding.PEM,
                                                         serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))):
        paths[label] = os.path.join(str(directory), "%s-%s.pem" % (name, label))
        with open(os.open(paths[label], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as handle:
            handle.write(data)
    return paths


def play(tasks, vars_=None):
    """One play on localhost. ``tasks`` (a YAML list) and ``vars_`` (a YAML mapping) are dedented and indented into
    the play."""
    def indent(block):
        return "\n".join("    " + line for line in textwrap.dedent(block).strip("\n").splitlines()) + "\n"

    text = "- hosts: localhost\n  gather_facts: false\n"
    if vars_:
        text += "  vars:\n" + indent(vars_)
    return text + "  tasks:\n" + indent(tasks)
