# -*- coding: utf-8 -*-
"""SSM Parameter Store backend, pure logic against a stub client: names (both reference forms, top-level names,
ARNs), version/label selectors, lookup options folded into references, options, identity, the one error mapping,
check-and-set and overwrite, property changes, batch reads with their fall-backs, pagination of bypath, and the
options it shares with aws (one family: no per-store forms)."""
import datetime

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from ansible_collections.agentarea.secrets.plugins.module_utils.core import _registry
from ansible_collections.agentarea.secrets.plugins.module_utils.core._backend import CAS_CREATE, Secret
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import (
    BackendUnavailable, InvalidOption, InvalidReference, NotSupported, SecretAccessDenied, SecretConflict, SecretError,
    SecretNotFound,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.core._refs import parse_ref
from ansible_collections.agentarea.secrets.plugins.module_utils.backends.aws._ssm import SsmBackend, ssm_error

CANARY = "canary-90b3-ssm-unit"
NOW = datetime.datetime(2026, 1, 2, tzinfo=datetime.timezone.utc)


def client_error(code, status=400, op="GetParameter", message="value %s was refused" % CANARY):
    return ClientError({"Error": {"Code": code, "Message": message},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, op)


class Stub:
    """An SSM client over ``params`` {name: [(value, type), ...]} (version n at index n-1); records every call."""

    def __init__(self, params=None, fail=None):
        self.params = dict((k, list(v)) for k, v in (params or {}).items())
        self.labels = {}
        self.tags = {}
        self.fail = dict(fail or {})
        self.calls = []

    def _maybe_fail(self, method):
        if method in self.fail:
            raise self.fail[method]

    def _param(self, name, index):
        value, kind = self.params[name][index]
        return {"Name": name, "Value": value, "Type": kind, "Version": index + 1, "LastModifiedDate": NOW,
                "ARN": "arn:aws:ssm:us-east-1:123456789012:parameter" + name}

    def get_parameter(self, Name, WithDecryption):
        self.calls.append(("get_parameter", Name, WithDecryption))
        self._maybe_fail("get_parameter")
        name, _sep, sel = Name.partition(":")
        if name not in self.params:
            raise client_error("ParameterNotFound")
        if not sel:
            return {"Parameter": self._param(name, len(self.params[name]) - 1)}
        if sel.isdigit():
            if int(sel) > len(self.params[name]):
                raise client_error("ParameterVersionNotFound")
            return {"Parameter": self._param(name, int(sel) - 1)}
        if (name, sel) not in self.labels:
            raise client_error("ParameterNotFound")
        return {"Parameter": self._param(name, self.labels[(name, sel)] - 1)}

    def get_parameters(self, Names, WithDecryption):
        self.calls.append(("get_parameters", tuple(Names)))
        self._maybe_fail("get_parameters")
        return {"Parameters": [self._param(n, len(self.params[n]) - 1) for n in Names if n in self.params],
                "InvalidParameters": [n for n in Names if n not in self.params]}

    def get_parameters_by_path(self, Path, Recursive, WithDecryption, MaxResults, NextToken=None):
        self.calls.append(("get_parameters_by_path", Path, Recursive, NextToken))
        names = sorted(n for n in self.params if n.startswith(Path + "/")
                       and (Recursive or "/" not in n[len(Path) + 1:]))
        start = int(NextToken or 0)
        page = names[start:start + MaxResults]
        resp = {"Parameters": [self._param(n, len(self.params[n]) - 1) for n in page]}
        if start + MaxResults < len(names):
            resp["NextToken"] = str(start + MaxResults)
        return resp

    def describe_parameters(self, ParameterFilters=None, MaxResults=50, NextToken=None):
        names = [n for n in self.params if not ParameterFilters or n == ParameterFilters[0]["Values"][0]]
        return {"Parameters": [{"Name": n, "Tier": "Standard", "KeyId": "alias/aws/ssm", "Type": self.params[n][-1][1],
                                "Version": len(self.params[n])} for n in names]}

    def list_tags_for_resource(self, ResourceType, ResourceId):
        if ResourceId not in self.params:
            raise client_error("InvalidResourceId")
        return {"TagList": [{"Key": k, "Value": v} for k, v in sorted(self.tags.get(ResourceId, {}).items())]}

    def add_tags_to_resource(self, ResourceType, ResourceId, Tags):
        self.calls.append(("add_tags", ResourceId, tuple(t["Key"] for t in Tags)))
        self.tags.setdefault(ResourceId, {}).update((t["Key"], t["Value"]) for t in Tags)

    def remove_tags_from_resource(self, ResourceType, ResourceId, TagKeys):
        self.calls.append(("remove_tags", ResourceId, tuple(TagKeys)))
        for key in TagKeys:
            self.tags.get(ResourceId, {}).pop(key, None)

    def put_parameter(self, **kwargs):
        self.calls.append(("put_parameter", dict((k, v) for k, v in kwargs.items() if k != "Value")))
        self._maybe_fail("put_parameter")
        name = kwargs["Name"]
        if name in self.params and not kwargs["Overwrite"]:
            raise client_error("ParameterAlreadyExists")
        self.params.setdefault(name, []).append((kwargs["Value"], kwargs["Type"]))
        if kwargs.get("Tags"):
            self.tags[name] = dict((t["Key"], t["Value"]) for t in kwargs["Tags"])
        return {"Version": len(self.params[name]), "Tier": kwargs.get("Tier", "Standard")}

    def label_parameter_version(self, Name, ParameterVersion, Labels):
        self.calls.append(("label", Name, ParameterVersion, tuple(Labels)))
        for label in Labels:
            self.labels[(Name, label)] = ParameterVersion

    def delete_parameter(self, Name):
        if Name not in self.params:
            raise client_error("ParameterNotFound")
        del self.params[Name]


def backend(stub=None, **options):
    b = SsmBackend(dict({"region": "us-east-1", "access_key": "AKIAEXAMPLE", "secret_key": "s3cr3t-key"}, **options),
                   environ={})
    b.validate()
    b._client = stub if stub is not None else Stub()  # pylint: disable=protected-access
    return b


@pytest.mark.parametrize("text, name", [
    ("ssm://agentarea/db/password", "/agentarea/db/password"),
    ("ssm:///agentarea/db/password", "/agentarea/db/password"),
    ("ssm://db_password", "db_password"),
    ("ssm://arn:aws:ssm:eu-west-1:123456789012:parameter/agentarea/db", "arn:aws:ssm:eu-west-1:123456789012:parameter/agentarea/db"),
])
def test_names_both_reference_forms_top_level_and_arns(text, name):
    assert SsmBackend.name_of(parse_ref(text)) == name


def test_selectors_version_and_label():
    b = backend()
    assert b._selector(parse_ref("ssm://a/b?version=3")) == "/a/b:3"  # pylint: disable=protected-access
    assert b._selector(parse_ref("ssm://a/b?label=stable")) == "/a/b:stable"  # pylint: disable=protected-access
    for bad in ("ssm://a/b?version=3&label=x", "ssm://a/b?version=three", "ssm://a/b?label=1st", "ssm://a/b?label=awsx"):
        with pytest.raises(InvalidReference) as err:
            b._selector(parse_ref(bad))  # pylint: disable=protected-access
        assert "ssm" in str(err.value)


def test_lookup_options_become_reference_parameters():
    b = backend()
    ref = b.ref_from_term("/agentarea/app", key=None, version=None, label=None, bypath=True, recursive=False)
    assert ref.param("bypath") == "true" and ref.param("recursive") is None and ref.param("label") is None
    ref = b.ref_from_term("agentarea/db", version="2", label=None, bypath=False, recursive=False)
    assert ref.version == "2" and ref.param("bypath") is None
    assert b.ref_from_term("ssm://agentarea/db?label=x", label="y").param("label") == "x"  # the term wins


def test_options_validated_and_identity_holds_no_credential():
    with pytest.raises(InvalidOption):
        SsmBackend({"access_key": "AKIA"}, environ={}).validate()
    with pytest.raises(InvalidOption):
        SsmBackend({"ssm_type": "Blob"}, environ={}).validate()
    with pytest.raises(InvalidOption):
        SsmBackend({"ssm_type": "String", "ssm_key_id": "alias/x"}, environ={}).validate()
    b = backend(endpoint_url="http://one:1")
    assert "s3cr3t-key" not in b.identity() and b.identity().startswith("ssm|")
    assert b.endpoint() == "http://one:1"
    assert backend(endpoint_url="http://one:1", ssm_endpoint_url="http://two:2").endpoint() == "http://two:2"
    env = SsmBackend({}, environ={"AWS_ENDPOINT_URL_SSM": "http://three:3", "AWS_ENDPOINT_URL_SECRETSMANAGER": "x",
                                  "ANSIBLE_AGENTAREA_SECRETS_AWS_REGION": "eu-west-1"})
    assert env.endpoint() == "http://three:3" and env.options["region"] == "eu-west-1"


@pytest.mark.parametrize("exc, cls, words", [
    (client_error("ParameterNotFound"), SecretNotFound, "no such parameter"),
    (client_error("ParameterVersionNotFound"), SecretNotFound, "ParameterVersionNotFound"),
    (client_error("ParameterAlreadyExists"), SecretConflict, "exists already"),
    # denials keep AWS's message: it names the principal and the action (never a value)
    (client_error("AccessDeniedException", 400, message="User: arn:aws:iam::1:user/ci is not authorized to perform: "
                  "ssm:GetParameter"), SecretAccessDenied, "is not authorized to perform: ssm:GetParameter"),
    (client_error("ThrottlingException"), BackendUnavailable, "throttled"),
    (client_error("TooManyUpdates"), BackendUnavailable, "TooManyUpdates"),
    (client_error("InvalidKeyId"), InvalidOption, "ssm_key_id"),
    (client_error("HierarchyTypeMismatchException"), InvalidReference, "HierarchyTypeMismatchException"),
    (client_error("InternalServerError", 500), BackendUnavailable, "reading"),
    (EndpointConnectionError(endpoint_url="http://x"), BackendUnavailable, "reading"),
])
def test_errors_are_typed_name_reference_and_store_and_hold_no_value(exc, cls, words):
    ref = parse_ref("ssm://agentarea/db")
    err = ssm_error(exc, ref, "reading")
    assert isinstance(err, cls) and err.backend == "ssm"
    text = str(err)
    assert words in text and "ssm://agentarea/db" in text and CANARY not in text
    if cls is BackendUnavailable and words != "reading":
        assert getattr(err, "store_down", False)


def test_read_current_version_label_with_tags_and_facts():
    stub = Stub({"/a/db": [(CANARY, "SecureString"), ('{"password": "p"}', "SecureString")]})
    stub.labels[("/a/db", "stable")] = 1
    stub.tags["/a/db"] = {"owner": "x"}
    b = backend(stub)
    current = b.read(parse_ref("ssm://a/db#password"))
    assert current.version == "2" and b.select(current, parse_ref("ssm://a/db#password")) == "p"
    assert current.metadata["tags"] == {"owner": "x"} and current.metadata["type"] == "SecureString"
    assert current.metadata["tier"] == "Standard" and current.metadata["key_id"] == "alias/aws/ssm"
    assert CANARY not in repr(current) + str(current.describe())
    assert b.read(parse_ref("ssm://a/db?label=stable")).value == CANARY
    assert b.read(parse_ref("ssm://a/db?version=1")).value == CANARY
    assert all(call[2] is True for call in stub.calls if call[0] == "get_parameter")  # always decrypted
    with pytest.raises(SecretNotFound) as err:
        b.read(parse_ref("ssm://a/db?version=9"))
    assert "ssm://a/db" in str(err.value)


def test_bypath_pages_recursion_and_an_empty_path_is_missing():
    params = dict(("/app/p%02d" % i, [(CANARY + str(i), "String")]) for i in range(12))
    params.update(dict(("/app/deep/q%02d" % i, [("v%d" % i, "SecureString")]) for i in range(5)))
    stub = Stub(params)
    b = backend(stub)
    flat = b.read(parse_ref("ssm://app?bypath=true"))
    assert len(flat.value) == 12 and flat.version is None and CANARY not in str(flat.describe())
    tree = b.read(parse_ref("ssm:///app?bypath=true&recursive=true"))
    assert len(tree.value) == 17 and tree.value["/app/deep/q03"] == "v3"
    tokens = [c[3] for c in stub.calls if c[0] == "get_parameters_by_path" and c[2]]
    assert tokens == [None, "10"]  # two pages of 10
    assert b.select(tree, parse_ref("ssm://app?bypath=true#/app/p01")) == CANARY + "1"
    with pytest.raises(SecretNotFound) as err:
        b.read(parse_ref("ssm://nothing/here?bypath=true"))
    assert "no parameters under /nothing/here" in str(err.value)
    with pytest.raises(InvalidReference):
        b.read(parse_ref("ssm://app?bypath=true&label=x"))


def test_read_many_batches_plain_names_and_reads_the_rest_one_by_one():
    stub = Stub({"/a/one": [("1", "String")], "/a/two": [("2", "String"), ("2b", "String")], "top": [("t", "String")]})
    b = backend(stub)
    refs = [parse_ref(t) for t in ("ssm://a/one", "ssm://top", "ssm://a/missing", "ssm://a/two?version=1")]
    got = b.read_many(refs)
    assert [g.value for g in got if isinstance(g, Secret)] == ["1", "t", "2"]
    assert isinstance(got[2], SecretNotFound) and "ssm://a/missing" in str(got[2])
    assert [c for c in stub.calls if c[0] == "get_parameters"] == [("get_parameters", ("/a/missing", "/a/one", "top"))]
    # a batch that fails (no ssm:GetParameters) falls back to single reads; a store that is down stops there
    down = Stub({"/a/one": [("1", "String")]}, fail={"get_parameters": client_error("AccessDeniedException"),
                                                     "get_parameter": client_error("ThrottlingException")})
    got = backend(down).read_many([parse_ref("ssm://a/one"), parse_ref("ssm://a/two")])
    assert all(isinstance(g, BackendUnavailable) for g in got)
    assert len([c for c in down.calls if c[0] == "get_parameter"]) == 1


def test_write_create_overwrite_cas_tags_label_and_field():
    stub = Stub()
    b = backend(stub, ssm_tier="Advanced", ssm_key_id="alias/agentarea")
    ref = parse_ref("ssm://a/db")
    first = b.write(ref, {"password": CANARY}, cas=CAS_CREATE, metadata={"owner": "x"})
    put = stub.calls[-1][1]
    assert first.version == "1" and put["Type"] == "SecureString" and put["Overwrite"] is False
    assert put["Tier"] == "Advanced" and put["KeyId"] == "alias/agentarea" and put["Tags"] == [{"Key": "owner", "Value": "x"}]
    with pytest.raises(SecretConflict):
        b.write(ref, "x", cas=CAS_CREATE)
    with pytest.raises(SecretConflict) as err:
        b.write(ref, "x", cas="7")
    assert CANARY not in str(err.value) and "ssm://a/db" in str(err.value)
    second = b.write(parse_ref("ssm://a/db#user?label=stable"), "app", cas="1", metadata={"team": "y"})
    assert second.version == "2" and stub.calls[-1] == ("label", "/a/db", 2, ("stable",))
    assert stub.params["/a/db"][-1][0] == '{"password":"%s","user":"app"}' % CANARY
    assert stub.tags["/a/db"] == {"team": "y"}
    assert [c for c in stub.calls if c[0] == "put_parameter"][-1][1]["Overwrite"] is True
    with pytest.raises(SecretConflict) as err:
        backend(stub, ssm_overwrite=False).write(ref, "new")
    assert "ssm_overwrite is false" in str(err.value)
    for bad in ("ssm://a/db?version=1", "ssm://a?bypath=true"):
        with pytest.raises(InvalidReference):
            b.write(parse_ref(bad), "x")
    with pytest.raises(NotSupported):
        b.write(ref, b"\x00\x01")


def test_existing_type_is_kept_and_property_changes_rewrite_the_value():
    stub = Stub({"/a/plain": [("v", "String")]})
    b = backend(stub)
    b.write(parse_ref("ssm://a/plain"), "w")
    assert stub.params["/a/plain"][-1] == ("w", "String")
    retype = backend(stub, ssm_type="SecureString", ssm_tier="Advanced")
    secret = retype.read(parse_ref("ssm://a/plain"))
    assert retype.property_changes(secret) == {"type": ("String", "SecureString"), "tier": ("Standard", "Advanced")}
    done = retype.set_tags(parse_ref("ssm://a/plain"), {"k": "v"})
    assert done.version == "3" and stub.params["/a/plain"][-1] == ("w", "SecureString")
    assert backend(stub, ssm_tier="Intelligent-Tiering").property_changes(secret) == {}
    with pytest.raises(SecretNotFound):
        b.set_tags(parse_ref("ssm://a/none"), {})


def test_delete_whole_and_field_and_versions_hold_no_value():
    stub = Stub({"/a/db": [('{"password": "%s", "user": "u"}' % CANARY, "SecureString")]})
    b = backend(stub)
    assert b.delete(parse_ref("ssm://a/db#user")) and not b.delete(parse_ref("ssm://a/db#user"))
    assert b.delete(parse_ref("ssm://a/db")) and not b.delete(parse_ref("ssm://a/db"))
    assert not b.delete(parse_ref("ssm://a/db#password"))


def test_aws_and_ssm_share_their_connection_options_as_one_family():
    shared = _registry.shared_options()
    for name in ("region", "profile", "access_key", "secret_key", "assume_role_arn", "endpoint_url", "retry_mode"):
        assert name not in shared
    union = _registry.union_argspec()
    assert "ssm_region" not in union and "ssm_profile" not in union
    # aws_region / aws_profile exist, but as Vault's options of its aws_iam login (the anchor's names), not per-store forms
    vault = _registry.backend_class("vault")
    assert all(name in vault.ARGSPEC for name in ("aws_region", "aws_profile") if name in union)
    assert union["ssm_endpoint_url"] == {"type": "str"} and union["ssm_overwrite"] == {"type": "bool", "default": True}
    aws = _registry.backend_class("aws")
    for name in SsmBackend.CONNECTION:
        if name in aws.ARGSPEC:
            assert SsmBackend.ARGSPEC[name] == aws.ARGSPEC[name], name


def test_errors_never_hold_the_value():
    stub = Stub({"/a/db": [(CANARY, "SecureString")]}, fail={"put_parameter": client_error("ParameterPatternMismatchException")})
    b = backend(stub)
    with pytest.raises(SecretError) as err:
        b.write(parse_ref("ssm://a/db"), CANARY)
    assert CANARY not in str(err.value) and CANARY not in repr(err.value.args)
