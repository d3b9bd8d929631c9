# -*- coding: utf-8 -*-
"""What the AWS, Azure and GCP integration tests share: servers from the harness, SDK clients for set-up and checks
(never the code under test), plays, and a tiny HTTP server that answers every request the way a cloud API denies
one (for emulators that have no IAM)."""
import hashlib
import json
import textwrap
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


def sha(text):
    """Playbooks compare values by hash, so neither the playbook nor its output holds a canary."""
    return hashlib.sha256(text.encode()).hexdigest()


def play(tasks, vars_=None):
    """One play on localhost; ``tasks`` is YAML text."""
    def indent(block):
        return "\n".join("    " + line for line in textwrap.dedent(block).strip("\n").splitlines()) + "\n"

    text = "- hosts: localhost\n  gather_facts: false\n"
    if vars_:
        text += "  vars:\n" + indent(vars_)
    return text + "  tasks:\n" + indent(tasks)


@pytest.fixture
def prefix():
    return "agentarea-%s" % uuid.uuid4().hex[:10]


class Denier:
    """An HTTP server on 127.0.0.1 that answers everything with ``status`` and a JSON ``body``."""

    def __init__(self, status, body, headers=None):
        payload = json.dumps(body).encode()
        extra = dict(headers or {})

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for key, value in extra.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


# -- the three stores as data, for the shared tests (test_cloud_stores.py) ---------------------------------------------
class CloudStore:
    """What the shared cloud tests need to know of one store: its references and lookup terms, its environment,
    canaries, and set-up and checks through the store's own SDK (never the code under test). Subclasses fill the
    data attributes and the SDK methods."""

    scheme = None
    canaries = ()           # CANARY, CANARY2, CANARY3 (+ any credential in the environment)
    whole_extra = ""        # more options of the "whole" write (Azure: its content type)
    soft_options = ""       # more options of the "soft" removal (AWS: force_delete, as its test always did)
    purge_options = ", force_delete: true"  # more options of the "purged" removal (GCP deletes for good anyway)
    soft_state = "missing"  # what secret_info says of the softly removed secret
    first_version = None    # the version a first write must get (GCP numbers them); None: the store's own id
    second_version = None
    info_metadata = {}      # more facts secret_info reports right after the first write
    bad_version = "1"       # a ``?version=`` that makes the module fail in the leak suite
    leak_lookup_extra = ""  # more lookups in the leak suite's set_fact
    leak_tasks_extra = ""   # more tasks in the leak suite
    leak_env_extra = {}

    def __init__(self, info):
        self.info = info
        self.env = dict(info["env"])

    def ref(self, prefix, name):
        raise NotImplementedError

    def term(self, prefix, name):
        """The lookup term of the store's own lookup (a bare name)."""
        raise NotImplementedError

    def lookup(self):
        return "agentarea.secrets." + self.scheme

    # SDK side
    def create(self, prefix, name, text):
        raise NotImplementedError

    def exists(self, prefix, name):
        """True while the secret is there (not deleted); False once it is gone or deleted."""
        raise NotImplementedError

    def value(self, prefix, name, version=None):
        raise NotImplementedError

    def tags(self, prefix, name):
        raise NotImplementedError

    def versions(self, prefix, name):
        raise NotImplementedError

    def check_first_versions(self, prefix, info, whole):
        """secret_info's ``versions`` after the first write (``info``), and the store's after it was applied again."""
        raise NotImplementedError

    def check_tagged(self, prefix, name):
        """What the store holds after the tags alone changed, beyond the tags."""

    def check_rotated(self, prefix, name, first):
        """What the store holds after the second value, beyond the value itself."""

    def check_removed(self, prefix, soft, purged):
        """After the clean-up play: ``soft`` and ``purged`` are gone as the store removes them."""
        assert not self.exists(prefix, soft) and not self.exists(prefix, purged)

    def purge(self, prefix, *names):
        raise NotImplementedError


class AwsStore(CloudStore):
    scheme = "aws"
    canaries = ("canary-3f9d21b7-aws", "canary-8c0e77a4-aws", "canary-51aa09d2-aws")
    soft_options = ", force_delete: true"
    bad_version = "nope"
    leak_lookup_extra = "c: \"{{ query('agentarea.secrets.aws', '%(t)s', '%(t)s') }}\""
    leak_tasks_extra = """
        - name: pending
          agentarea.secrets.secret: {ref: "%(w)s#token?stage=AWSPENDING", value: "{{ lookup('env', 'C3') }}"}
    """

    def __init__(self, info):
        import boto3
        from botocore.exceptions import ClientError

        CloudStore.__init__(self, info)
        self.leak_env_extra = {"C3": self.canaries[2]}
        self.ClientError = ClientError
        self.sm = boto3.client("secretsmanager", endpoint_url=info["url"], region_name=info["region"],
                               aws_access_key_id=info["access_key"], aws_secret_access_key=info["secret_key"])
        # A region that holds no secret at all makes readers fail ("wrong region?", test_faults_cloud.py); moto
        # starts empty, and a check-mode run reads before anything exists. A real account's region holds secrets.
        try:
            self.sm.create_secret(Name="agentarea-tests/region-holds-secrets", SecretString="-")
        except ClientError:
            pass  # already there

    def ref(self, prefix, name):
        return "aws://%s/%s" % (prefix, name)

    def term(self, prefix, name):
        return "%s/%s" % (prefix, name)

    def create(self, prefix, name, text):
        self.sm.create_secret(Name=self.term(prefix, name), SecretString=text)

    def exists(self, prefix, name):
        try:
            self.sm.describe_secret(SecretId=self.term(prefix, name))
        except self.ClientError as err:
            assert err.response["Error"]["Code"] == "ResourceNotFoundException"
            return False
        return True

    def value(self, prefix, name, version=None):
        kwargs = {"VersionId": version} if version else {"VersionStage": "AWSCURRENT"}
        return self.sm.get_secret_value(SecretId=self.term(prefix, name), **kwargs)["SecretString"]

    def stages(self, prefix, name):
        return dict((k, sorted(v)) for k, v in
                    self.sm.describe_secret(SecretId=self.term(prefix, name))["VersionIdsToStages"].items())

    def tags(self, prefix, name):
        return dict((t["Key"], t["Value"]) for t in self.sm.describe_secret(SecretId=self.term(prefix, name)).get("Tags") or [])

    def versions(self, prefix, name):
        return sorted(self.stages(prefix, name))

    def current_version(self, prefix, name):
        return next(v for v, s in self.stages(prefix, name).items() if "AWSCURRENT" in s)

    def check_first_versions(self, prefix, info, whole):
        assert [v["stages"] for v in info["versions"]] == [["AWSCURRENT"]]

    def check_rotated(self, prefix, name, first):
        previous = self.sm.get_secret_value(SecretId=self.term(prefix, name), VersionStage="AWSPREVIOUS")
        assert json.loads(previous["SecretString"])["password"] == self.canaries[0]
        assert self.stages(prefix, name)[first] == ["AWSPREVIOUS"]

    def purge(self, prefix, *names):
        for name in names:
            try:
                self.sm.delete_secret(SecretId=self.term(prefix, name), ForceDeleteWithoutRecovery=True)
            except self.ClientError:
                pass


class AzureStore(CloudStore):
    scheme = "azure"
    token = "eyJ0eXAiOi.canary-token-8e2d4a"
    canaries = ("canary-19e4c2d0-azure", "canary-7b3a55e9-azure", "canary-c4d80f16-azure", token)
    whole_extra = "content_type: application/json"
    soft_state = "deleted"
    info_metadata = {"enabled": True, "content_type": "application/json"}

    def __init__(self, info):
        import time

        from azure.core.credentials import AccessToken
        from azure.core.exceptions import ResourceNotFoundError
        from azure.keyvault.secrets import SecretClient

        class StaticToken:
            def get_token(self, *scopes, **kwargs):
                return AccessToken("setup-token", int(time.time()) + 3600)

        CloudStore.__init__(self, info)
        self.host = info["url"].split("://", 1)[1]
        self.env = {"ANSIBLE_AGENTAREA_SECRETS_AZURE_ACCESS_TOKEN": self.token,
                    "ANSIBLE_AGENTAREA_SECRETS_AZURE_CA_CERT": info["ca_cert"], "AZURE_KEYVAULT_URL": info["url"]}
        self.NotFound = ResourceNotFoundError
        self.kv = SecretClient(info["url"], StaticToken(), verify_challenge_resource=False,
                               connection_verify=info["ca_cert"])

    def ref(self, prefix, name):
        return "azure://%s/%s-%s" % (self.host, prefix, name)

    def term(self, prefix, name):
        return "%s-%s" % (prefix, name)

    def create(self, prefix, name, text):
        self.kv.set_secret(self.term(prefix, name), text)

    def exists(self, prefix, name):
        try:
            return bool(self.kv.get_secret(self.term(prefix, name)))
        except self.NotFound:
            return False

    def value(self, prefix, name, version=None):
        return self.kv.get_secret(self.term(prefix, name), version).value

    def properties(self, prefix, name):
        return self.kv.get_secret(self.term(prefix, name)).properties

    def tags(self, prefix, name):
        return self.properties(prefix, name).tags

    def versions(self, prefix, name):
        return [p.version for p in sorted(self.kv.list_properties_of_secret_versions(self.term(prefix, name)),
                                          key=lambda p: p.created_on)]

    def current_version(self, prefix, name):
        return self.properties(prefix, name).version

    def check_first_versions(self, prefix, info, whole):
        assert [v["version"] for v in info["versions"]] == [whole["version"]]
        assert self.properties(prefix, "database").content_type == "application/json"

    def check_tagged(self, prefix, name):
        assert self.properties(prefix, name).content_type == "application/json"  # kept by new tags

    def check_rotated(self, prefix, name, first):
        assert self.properties(prefix, name).content_type == "application/json"  # kept by a new version

    def check_removed(self, prefix, soft, purged):
        assert not self.exists(prefix, soft) and not self.exists(prefix, purged)
        assert self.kv.get_deleted_secret(self.term(prefix, soft)).name == self.term(prefix, soft)
        try:
            self.kv.get_deleted_secret(self.term(prefix, purged))
        except self.NotFound:
            pass  # purged
        else:
            raise AssertionError("%s was not purged" % purged)

    def purge(self, prefix, *names):
        for name in names:
            name = self.term(prefix, name)
            try:
                self.kv.begin_delete_secret(name).wait()
            except self.NotFound:
                pass
            try:
                self.kv.purge_deleted_secret(name)
            except self.NotFound:
                pass


class GcpStore(CloudStore):
    scheme = "gcp"
    token = "ya29.canary-token-5b7c01"  # drongo accepts any bearer token; it must never show up anywhere
    canaries = ("canary-6a0b44e1-gcp", "canary-d27c9f35-gcp", "canary-0e8813fb-gcp", token)
    first_version, second_version = "1", "2"
    purge_options = ""
    info_metadata = {"state": "ENABLED"}

    def __init__(self, info):
        from google.api_core.exceptions import NotFound
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import secretmanager

        CloudStore.__init__(self, info)
        self.project = info["project"]
        self.env = {"ANSIBLE_AGENTAREA_SECRETS_GCP_API_ENDPOINT": info["url"], "GOOGLE_CLOUD_PROJECT": self.project,
                    "CLOUDSDK_AUTH_ACCESS_TOKEN": self.token}
        self.NotFound = NotFound
        self.gsm = secretmanager.SecretManagerServiceClient(transport="rest", credentials=AnonymousCredentials(),
                                                            client_options={"api_endpoint": info["url"]})

    def ref(self, prefix, name):
        return "gcp://%s/%s-%s" % (self.project, prefix, name)

    def term(self, prefix, name):
        return "%s-%s" % (prefix, name)

    def path(self, prefix, name):
        return "projects/%s/secrets/%s-%s" % (self.project, prefix, name)

    def create(self, prefix, name, text):
        self.gsm.create_secret(request={"parent": "projects/" + self.project, "secret_id": self.term(prefix, name),
                                        "secret": {"replication": {"automatic": {}}}})
        self.gsm.add_secret_version(request={"parent": self.path(prefix, name), "payload": {"data": text.encode()}})

    def exists(self, prefix, name):
        try:
            return bool(self.gsm.get_secret(name=self.path(prefix, name)))
        except self.NotFound:
            return False

    def value(self, prefix, name, version=None):
        return self.gsm.access_secret_version(name="%s/versions/%s" % (self.path(prefix, name), version or "latest")
                                              ).payload.data.decode()

    def tags(self, prefix, name):
        return dict(self.gsm.get_secret(name=self.path(prefix, name)).labels)

    def version_states(self, prefix, name):
        return {v.name.rsplit("/", 1)[1]: v.state.name
                for v in self.gsm.list_secret_versions(request={"parent": self.path(prefix, name)})}

    def versions(self, prefix, name):
        return sorted(self.version_states(prefix, name), key=int)

    def current_version(self, prefix, name):
        return self.versions(prefix, name)[-1]

    def check_first_versions(self, prefix, info, whole):
        assert [(v["version"], v["state"]) for v in info["versions"]] == [("1", "ENABLED")]
        assert self.version_states(prefix, "database") == {"1": "ENABLED"}

    def check_tagged(self, prefix, name):
        assert self.version_states(prefix, name) == {"1": "ENABLED"}

    def purge(self, prefix, *names):
        for name in names:
            try:
                self.gsm.delete_secret(name=self.path(prefix, name))
            except self.NotFound:
                pass


CLOUD_STORES = {"aws": (AwsStore, "aws"), "azure": (AzureStore, "azure"), "gcp": (GcpStore, "gcp")}


@pytest.fixture(params=sorted(CLOUD_STORES))
def cloud(request, harness):
    """Each cloud store in turn (the harness starts its server once per worker)."""
    cls, service = CLOUD_STORES[request.param]
    return cls(harness.start(service))
