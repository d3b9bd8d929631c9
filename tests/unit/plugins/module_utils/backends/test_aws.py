# -*- coding: utf-8 -*-
"""AWS backend, pure logic against a stub client: options, identities, references, stage selection, batch reads
with their fall-backs, the staging-label API, check-and-set, and the mapping of botocore errors."""
import base64
import datetime

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError, ParamValidationError

from ansible_collections.agentarea.secrets.plugins.module_utils.core._backend import CAS_CREATE, Secret
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import (
    BackendUnavailable,
    InvalidOption,
    InvalidReference,
    SecretAccessDenied,
    SecretConflict,
    SecretDeleted,
    SecretError,
    SecretNotFound,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.core._refs import parse_ref
from ansible_collections.agentarea.secrets.plugins.module_utils.backends.aws._backend import AwsBackend
from ansible_collections.agentarea.secrets.plugins.module_utils.backends.aws._auth import to_error

CANARY = "canary-5e1f-aws-unit"
NOW = datetime.datetime(2026, 1, 2, tzinfo=datetime.timezone.utc)


def client_error(code, message="", status=400, op="GetSecretValue"):
    return ClientError({"Error": {"Code": code, "Message": message},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, op)


class Stub:
    """A Secrets Manager client: ``versions`` {id: (value, [stages])}; records every call."""

    def __init__(self, versions=None, deleted=None, batch_error=None, batch_stale=False):
        self.versions = dict(versions or {})
        self.deleted = deleted
        self.batch_error = batch_error
        self.batch_stale = batch_stale
        self.calls = []
        self.tags = [{"Key": "owner", "Value": "platform"}]

    def _stages(self):
        return dict((vid, list(stages)) for vid, (_v, stages) in self.versions.items())

    def describe_secret(self, SecretId):
        self.calls.append(("describe_secret", SecretId))
        if not self.versions and not self.deleted:
            raise client_error("ResourceNotFoundException", status=400)
        return {"ARN": "arn:aws:secretsmanager:us-east-1:1:secret:%s-AbCdEf" % SecretId, "Name": SecretId,
                "CreatedDate": NOW, "Tags": self.tags, "VersionIdsToStages": self._stages(),
                "DeletedDate": self.deleted}

    def get_secret_value(self, SecretId, VersionStage=None, VersionId=None):
        self.calls.append(("get_secret_value", SecretId, VersionStage, VersionId))
        if self.deleted:
            raise client_error("InvalidRequestException", "marked for deletion")
        if SecretId.startswith("missing"):
            raise client_error("ResourceNotFoundException")
        for vid, (value, stages) in self.versions.items():
            if (VersionId is None or vid == VersionId) and (VersionStage is None or VersionStage in stages):
                return {"ARN": "arn", "Name": SecretId, "VersionId": vid, "SecretString": value,
                        "VersionStages": stages, "CreatedDate": NOW}
        raise client_error("ResourceNotFoundException")

    def batch_get_secret_value(self, SecretIdList):
        self.calls.append(("batch_get_secret_value", tuple(SecretIdList)))
        if self.batch_error:
            raise self.batch_error
        values = []
        for sid in SecretIdList:
            if sid.startswith("missing"):
                continue
            values.append({"ARN": "arn:aws:secretsmanager:us-east-1:1:secret:%s-AbCdEf" % sid, "Name": sid,
                           "VersionId": "v-" + sid, "SecretString": "value-" + sid, "CreatedDate": NOW,
                           "VersionStages": ["AWSPREVIOUS"] if self.batch_stale else ["AWSCURRENT"]})
        errors = [{"SecretId": s, "ErrorCode": "ResourceNotFoundException"} for s in SecretIdList if s.startswith("missing")]
        return {"SecretValues": values, "Errors": errors}

    def put_secret_value(self, SecretId, VersionStages=None, ClientRequestToken=None, **payload):
        self.calls.append(("put_secret_value", SecretId, tuple(VersionStages or ()), ClientRequestToken,
                           tuple(sorted(payload.items()))))
        return {"VersionId": ClientRequestToken or "v-new", "VersionStages": VersionStages or ["AWSCURRENT"]}

    def create_secret(self, **kwargs):
        self.calls.append(("create_secret", tuple(sorted((k, str(v)) for k, v in kwargs.items()))))
        return {"ARN": "arn", "VersionId": "v-1"}

    def update_secret_version_stage(self, **kwargs):
        self.calls.append(("update_secret_version_stage", tuple(sorted(kwargs.items()))))

    def tag_resource(self, SecretId, Tags):
        self.calls.append(("tag_resource", tuple((t["Key"], t["Value"]) for t in Tags)))

    def untag_resource(self, SecretId, TagKeys):
        self.calls.append(("untag_resource", tuple(TagKeys)))

    def delete_secret(self, **kwargs):
        self.calls.append(("delete_secret", tuple(sorted(kwargs.items()))))

    def named(self, method):
        return [c for c in self.calls if c[0] == method]


def backend(stub=None, environ=None, **options):
    full = dict((name, spec.get("default")) for name, spec in AwsBackend.ARGSPEC.items())
    full.update(region="us-east-1", **options)
    b = AwsBackend(full, environ=environ if environ is not None else {})
    b._client = stub
    return b


# -- options, identity, references ----------------------------------------------------------------------------
@pytest.mark.parametrize("options,message", [
    ({"access_key": "AKIA1"}, "must be given together"),
    ({"session_token": "t"}, "session_token needs"),
    ({"recovery_window_days": 3}, "between 7 and 30"),
    ({"recovery_window_days": 7, "force_delete": True}, "exclude each other"),
])
def test_validate(options, message):
    with pytest.raises(InvalidOption, match=message):
        backend(**options).validate()


def test_environment_fills_options_collection_names_first():
    env = {"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "us-east-2", "AWS_PROFILE": "ops",
           "AWS_ENDPOINT_URL": "http://all:1", "AWS_ENDPOINT_URL_SECRETSMANAGER": "http://sm:1"}
    b = AwsBackend({}, environ=env)
    assert (b.options["region"], b.options["profile"], b.options["endpoint_url"]) == ("eu-west-1", "ops", "http://sm:1")
    env["ANSIBLE_AGENTAREA_SECRETS_AWS_REGION"] = "ap-south-1"
    assert AwsBackend({}, environ=env).options["region"] == "ap-south-1"
    assert AwsBackend({"region": "sa-east-1"}, environ=env).options["region"] == "sa-east-1"
    # access keys are left to boto3's own chain, so a profile and environment keys keep their usual precedence
    assert AwsBackend({}, environ={"AWS_ACCESS_KEY_ID": "AKIA"}).options["access_key"] is None


def test_identity_names_whose_credentials_never_a_secret():
    a = backend(access_key="AKIA_ONE", secret_key=CANARY, session_token=CANARY)
    b = backend(access_key="AKIA_TWO", secret_key=CANARY)
    assert CANARY not in a.identity() and "AKIA_ONE" not in a.identity()
    assert a.identity() != b.identity()
    assert backend(profile="ops").identity() != backend(profile="dev").identity()
    assert backend(environ={"AWS_ACCESS_KEY_ID": "A"}).identity() != backend(environ={"AWS_ACCESS_KEY_ID": "B"}).identity()
    assert backend(version_stage="AWSPENDING").identity() != backend().identity()


def test_lookup_terms_take_stage_and_version_from_options_unless_the_reference_names_one():
    b = backend(version_stage="AWSPREVIOUS")
    assert str(b.ref_from_term("agentarea/prod/database", key="password")) == \
        "aws://agentarea/prod/database#password?stage=AWSPREVIOUS"
    assert str(b.ref_from_term("aws://db?stage=AWSPENDING")) == "aws://db?stage=AWSPENDING"
    assert str(b.ref_from_term("aws://db?version=abc")) == "aws://db?version=abc"
    assert str(backend(version_id="v9").ref_from_term("db")) == "aws://db?version=v9"
    assert str(backend().ref_from_term("db")) == "aws://db"
    arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:agentarea/prod/db-AbCdEf"
    assert backend().ref_from_term(arn).location == arn


def test_the_bypath_option_becomes_a_reference_parameter_and_refuses_stages():
    assert str(backend().ref_from_term("agentarea/prod/", bypath=True)) == "aws://agentarea/prod?bypath=true"
    assert str(backend().ref_from_term("agentarea/prod", bypath=False)) == "aws://agentarea/prod"
    assert str(backend().ref_from_term("aws://agentarea/prod?bypath=true")) == "aws://agentarea/prod?bypath=true"
    with pytest.raises(InvalidReference, match="reads the current values"):
        backend(version_stage="AWSPREVIOUS").read(backend(version_stage="AWSPREVIOUS").ref_from_term("p/", bypath=True))


def test_nested_splits_a_plain_term_and_walks_the_json():
    b = backend()
    ref = b.ref_from_term("agentarea/prod/database.primary.password", nested=True)
    assert (ref.location, ref.key, ref.param("nested")) == ("agentarea/prod/database", "primary.password", "true")
    assert b.ref_from_term("db.v2", key="a.b", nested=True).location == "db.v2"
    assert b.ref_from_term("db.v2", nested=False).location == "db.v2"
    secret = Secret('{"primary": {"password": "%s"}, "replicas": [{"password": "p1"}]}' % CANARY, "v1")
    assert b.select(secret, ref) == CANARY
    assert b.select(secret, b.ref_from_term("db", key="replicas.0.password", nested=True)) == "p1"
    with pytest.raises(SecretNotFound, match="'primary' has no 'user'") as err:
        b.select(secret, b.ref_from_term("db.primary.user", nested=True))
    assert CANARY not in str(err.value)
    with pytest.raises(InvalidReference, match="single value"):
        b.select(secret, b.ref_from_term("db.primary.password.x", nested=True))
    for change in (lambda r: b.write(r, "x"), b.delete, lambda r: b.set_tags(r, {})):
        for r in (ref, b.ref_from_term("agentarea/prod", bypath=True)):
            with pytest.raises(InvalidReference, match="are for reads"):
                change(r)


def test_every_read_names_its_stage():
    """moto returns a stale value for a read without VersionStage after a promotion; we always send one."""
    stub = Stub({"v1": ("one", ["AWSCURRENT"]), "v0": ("zero", ["AWSPREVIOUS"])})
    b = backend(stub)
    assert b.read(parse_ref("aws://db")).value == "one"
    assert b.read(parse_ref("aws://db?stage=AWSPREVIOUS")).value == "zero"
    assert b.read(parse_ref("aws://db?version=v0")).value == "zero"
    gets = stub.named("get_secret_value")
    assert gets == [("get_secret_value", "db", "AWSCURRENT", None), ("get_secret_value", "db", "AWSPREVIOUS", None),
                    ("get_secret_value", "db", None, "v0")]


def test_read_adds_tags_and_times_and_json_keys_select():
    stub = Stub({"v1": ('{"password": "%s", "user": "app"}' % CANARY, ["AWSCURRENT"])})
    secret = backend(stub).read(parse_ref("aws://db"))
    assert secret.metadata["tags"] == {"owner": "platform"} and secret.created == NOW
    assert secret.select("user") == "app" and CANARY not in repr(secret)
    with pytest.raises(SecretNotFound, match="no key 'nope'"):
        secret.select("nope")


def test_scheduled_for_deletion_is_deleted():
    stub = Stub(deleted=NOW)
    with pytest.raises(SecretDeleted, match="scheduled for deletion on 2026-01-02"):
        backend(stub).read(parse_ref("aws://db"))


# -- batch reads ---------------------------------------------------------------------------------------------
def test_read_many_batches_current_values_and_reads_the_rest_one_by_one():
    stub = Stub({"v1": ("one", ["AWSCURRENT"]), "v0": ("zero", ["AWSPREVIOUS"])})
    refs = [parse_ref(r) for r in ("aws://a", "aws://b", "aws://missing-c", "aws://db?stage=AWSPREVIOUS")]
    out = backend(stub).read_many(refs)
    assert [getattr(o, "value", None) for o in out[:2]] == ["value-a", "value-b"]
    assert isinstance(out[2], SecretNotFound)  # the batch's error, then a single read for a typed error
    assert out[3].value == "zero"
    assert stub.named("batch_get_secret_value") == [("batch_get_secret_value", ("a", "b", "missing-c"))]
    assert [c[1:3] for c in stub.named("get_secret_value")] == [("missing-c", "AWSCURRENT"), ("db", "AWSPREVIOUS")]


def test_read_many_chunks_by_twenty_and_matches_partial_arns():
    stub = Stub({"v1": ("one", ["AWSCURRENT"])})
    names = ["s%02d" % i for i in range(25)]
    out = backend(stub).read_many([parse_ref("aws://" + n) for n in names])
    assert [o.value for o in out] == ["value-" + n for n in names]
    assert [len(c[1]) for c in stub.named("batch_get_secret_value")] == [20, 5]
    arn = "arn:aws:secretsmanager:us-east-1:1:secret:x"  # partial ARN (without the random suffix)
    assert backend(Stub()).read_many([parse_ref("aws://" + arn), parse_ref("aws://y")])[0].value == "value-" + arn


@pytest.mark.parametrize("stub", [Stub({"v1": ("one", ["AWSCURRENT"])}, batch_error=client_error("AccessDeniedException", status=400)),
                                  Stub({"v1": ("one", ["AWSCURRENT"])}, batch_stale=True)])
def test_read_many_falls_back_when_the_batch_is_denied_or_answers_another_stage(stub):
    out = backend(stub).read_many([parse_ref("aws://a"), parse_ref("aws://b")])
    assert [o.value for o in out] == ["one", "one"]
    assert len(stub.named("get_secret_value")) == 2


# -- writes, CAS, tags ---------------------------------------------------------------------------------------
def test_write_creates_with_tags_and_kms_key():
    stub = Stub()
    b = backend(stub, kms_key_id="alias/agentarea")
    assert b.write(parse_ref("aws://db"), {"password": CANARY}, cas=CAS_CREATE, metadata={"n": 1}).version == "v-1"
    (call,) = stub.named("create_secret")
    assert ("KmsKeyId", "alias/agentarea") in call[1] and ("Tags", "[{'Key': 'n', 'Value': '1'}]") in call[1]
    assert ("SecretString", '{"password":"%s"}' % CANARY) in call[1]


def test_write_cas_checks_the_version_that_holds_the_stage():
    stub = Stub({"v1": ("one", ["AWSCURRENT"])})
    b = backend(stub)
    with pytest.raises(SecretConflict, match="AWSCURRENT is now on version v1, expected v0"):
        b.write(parse_ref("aws://db"), "two", cas="v0")
    with pytest.raises(SecretConflict):
        b.write(parse_ref("aws://db"), "two", cas=CAS_CREATE)
    assert not stub.named("put_secret_value")
    b.write(parse_ref("aws://db"), "two", cas="v1", metadata={"owner": "platform", "rotation": "7d"})
    assert stub.named("put_secret_value")[0][2] == ()  # AWSCURRENT: AWS moves the label and AWSPREVIOUS follows
    assert stub.named("tag_resource") == [("tag_resource", (("rotation", "7d"),))]
    assert not stub.named("untag_resource")


def test_write_of_a_field_keeps_the_other_fields_and_a_stage_write_labels_only_that_stage():
    stub = Stub({"v1": ('{"user": "app", "password": "old"}', ["AWSCURRENT"])})
    backend(stub).write(parse_ref("aws://db#password?stage=AWSPENDING"), "new")
    (call,) = stub.named("put_secret_value")
    assert call[2] == ("AWSPENDING",) and call[4] == (("SecretString", '{"password":"new","user":"app"}'),)
    with pytest.raises(InvalidReference, match="remove \\?version="):
        backend(stub).write(parse_ref("aws://db?version=v1"), "x")


def test_creating_by_arn_or_as_a_stage_is_refused():
    with pytest.raises(InvalidReference, match="by name, not by ARN"):
        backend(Stub()).write(parse_ref("aws://arn:aws:secretsmanager:us-east-1:1:secret:x"), "v")
    with pytest.raises(SecretNotFound, match="create it"):
        backend(Stub()).write(parse_ref("aws://db?stage=AWSPENDING"), "v")


def test_set_tags_replaces_the_set():
    stub = Stub({"v1": ("one", ["AWSCURRENT"])})
    backend(stub).set_tags(parse_ref("aws://db"), {"team": "x"})
    assert stub.named("untag_resource") == [("untag_resource", ("owner",))]
    assert stub.named("tag_resource") == [("tag_resource", (("team", "x"),))]


def test_delete_window_force_and_field():
    stub = Stub({"v1": ('{"a": "1", "b": "2"}', ["AWSCURRENT"])})
    assert backend(stub, recovery_window_days=7).delete(parse_ref("aws://db"))
    assert stub.named("delete_secret")[-1][1] == (("RecoveryWindowInDays", 7), ("SecretId", "db"))
    assert backend(stub, force_delete=True).delete(parse_ref("aws://db"))
    assert stub.named("delete_secret")[-1][1] == (("ForceDeleteWithoutRecovery", True), ("SecretId", "db"))
    assert backend(stub).delete(parse_ref("aws://db#a"))
    assert stub.named("put_secret_value")[-1][4] == (("SecretString", '{"b":"2"}'),)
    assert not backend(stub).delete(parse_ref("aws://db#zzz"))
    assert not backend(Stub()).delete(parse_ref("aws://gone"))
    assert not backend(Stub(deleted=NOW)).delete(parse_ref("aws://scheduled"))


# -- staging labels (the rotation engine's API) ------------------------------------------------------------------
def test_put_pending_labels_a_new_version_idempotently_by_token():
    stub = Stub({"v1": ('{"user": "app", "password": "old"}', ["AWSCURRENT"])})
    new = backend(stub).put_pending(parse_ref("aws://db#password"), CANARY, token="rot-1")
    assert new.version == "rot-1" and new.metadata["current_version"] == "v1"
    (call,) = stub.named("put_secret_value")
    assert call[2:4] == (("AWSPENDING",), "rot-1")
    assert call[4] == (("SecretString", '{"password":"%s","user":"app"}' % CANARY),)


def test_promote_moves_current_and_clears_pending():
    stub = Stub({"v1": ("one", ["AWSCURRENT"]), "v2": ("two", ["AWSPENDING"])})
    result = backend(stub).promote(parse_ref("aws://db"))
    assert result.version == "v2" and result.metadata == {"previous_version": "v1", "changed": True}
    assert [dict(c[1]) for c in stub.named("update_secret_version_stage")] == [
        {"SecretId": "db", "VersionStage": "AWSCURRENT", "MoveToVersionId": "v2", "RemoveFromVersionId": "v1"},
        {"SecretId": "db", "VersionStage": "AWSPENDING", "RemoveFromVersionId": "v2"}]


def test_promote_is_idempotent_and_checks_cas():
    done = Stub({"v1": ("one", ["AWSPREVIOUS"]), "v2": ("two", ["AWSCURRENT"])})
    assert backend(done).promote(parse_ref("aws://db"), "v2").metadata == {"previous_version": None, "changed": False}
    assert not done.named("update_secret_version_stage")
    racing = Stub({"v1": ("one", ["AWSCURRENT"]), "v2": ("two", ["AWSPENDING"]), "v3": ("x", ["AWSPREVIOUS"])})
    with pytest.raises(SecretConflict, match="AWSCURRENT is on version v1, expected v3"):
        backend(racing).promote(parse_ref("aws://db"), cas="v3")
    with pytest.raises(SecretNotFound, match="no version labelled AWSPENDING"):
        backend(done).promote(parse_ref("aws://db"))


def test_clear_pending_only_removes_the_named_version():
    stub = Stub({"v1": ("one", ["AWSCURRENT"]), "v2": ("two", ["AWSPENDING"])})
    assert not backend(stub).clear_pending(parse_ref("aws://db"), version_id="v9")
    assert backend(stub).clear_pending(parse_ref("aws://db"))
    assert dict(stub.named("update_secret_version_stage")[0][1])["RemoveFromVersionId"] == "v2"
    assert not backend(Stub({"v1": ("one", ["AWSCURRENT"])})).clear_pending(parse_ref("aws://db"))
    assert backend(Stub({"v1": ("one", ["AWSCURRENT"])})).pending(parse_ref("aws://db")) is None


# -- errors ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("exc,kind,text", [
    (client_error("ResourceNotFoundException"), SecretNotFound, "no such secret"),
    (client_error("AccessDeniedException", "User: arn:aws:iam::1:user/r is not authorized", 400), SecretAccessDenied,
     "is not authorized"),
    (client_error("403", "", 403), SecretAccessDenied, "access denied (403)"),  # moto's IAM denial
    (client_error("DecryptionFailure"), SecretAccessDenied, "KMS refused"),
    (client_error("ValidationException", "Value '%s' at 'secretString' failed" % CANARY), InvalidReference,
     "AWS rejected the request (ValidationException)"),
    (client_error("InternalServiceError", status=500), BackendUnavailable, "ClientError"),
    (ParamValidationError(report="Invalid type for parameter SecretString, value: %s" % CANARY), InvalidReference,
     "ParamValidationError"),
    (NoCredentialsError(), InvalidOption, "no AWS credentials found"),
    (EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), BackendUnavailable, "EndpointConnectionError"),
])
def test_errors_are_typed_and_never_echo_a_value(exc, kind, text):
    err = to_error(exc, parse_ref("aws://db"), "reading")
    assert isinstance(err, kind) and isinstance(err, SecretError)
    assert text in str(err) and CANARY not in str(err) and "'aws://db'" in str(err)


def test_sessions_keys_win_and_a_stray_aws_profile_does_not_hide_environment_keys(monkeypatch):
    import boto3
    made = []
    monkeypatch.setattr(boto3.session, "Session", lambda **kw: made.append(kw) or kw)
    from ansible_collections.agentarea.secrets.plugins.module_utils.backends.aws._auth import make_session
    make_session({"access_key": "AKIA", "secret_key": CANARY, "profile": "ops"})
    make_session({"profile": "ops"})
    make_session({"profile": "ops"}, environ={"AWS_PROFILE": "ops", "AWS_ACCESS_KEY_ID": "AKIA-FROM-AWX"})
    make_session({"profile": "dev"}, environ={"AWS_PROFILE": "ops", "AWS_ACCESS_KEY_ID": "AKIA-FROM-AWX"})
    assert [kw.get("profile_name") for kw in made] == [None, "ops", None, "dev"]
    assert made[0]["aws_access_key_id"] == "AKIA"


# -- properties set by options ---------------------------------------------------------------------------------
@pytest.mark.parametrize("options,message", [
    ({"resource_policy": "{not json"}, "resource_policy must be a JSON document"),
    ({"resource_policy": "[1]"}, "resource_policy must be a JSON object"),
    ({"replica_regions": [{"region": "eu-west-1", "kms": "k"}]}, "unknown key"),
    ({"replica_regions": [3]}, "replica_regions takes region names"),
    ({"rotation_lambda": "arn:x", "rotation_interval": 0}, "between 1 and 1000"),
    ({"rotation_interval": 30}, "rotation_interval needs rotation_lambda"),
])
def test_validate_property_options(options, message):
    with pytest.raises(InvalidOption, match=message):
        backend(**options).validate()


def test_property_changes_compare_normalised_policies_replica_sets_and_rotation():
    desc = {"Description": "d", "ReplicationStatus": [{"Region": "eu-west-1", "KmsKeyId": "alias/a"}],
            "RotationEnabled": True, "RotationLambdaARN": "arn:fn", "RotationRules": {"AutomaticallyAfterDays": 30}}
    policy = '{"Statement":[],"Version":"2012-10-17"}'  # as _current_policy normalises it
    same = backend(description="d", resource_policy='{ "Statement": [ ], "Version": "2012-10-17" }',
                   replica_regions=["eu-west-1"], rotation_lambda="arn:fn", rotation_interval=30)
    assert same._wanted_properties(desc, policy) == {}
    assert backend(rotation_lambda="arn:fn")._wanted_properties(desc, None) == {}   # interval unset: kept
    other = backend(description="e", resource_policy={}, replica_regions=[{"region": "eu-west-1", "kms_key_id": "alias/b"}],
                    rotation_lambda="arn:fn", rotation_interval=7)
    changes = other._wanted_properties(desc, policy)
    assert changes["description"] == ("d", "e") and changes["resource_policy"] == (policy, None)
    assert changes["replica_regions"] == (["eu-west-1"], ["eu-west-1"])   # another key: replaced
    assert changes["rotation"] == ({"lambda": "arn:fn", "interval": 30}, {"lambda": "arn:fn", "interval": 7})
    assert backend(rotation_lambda="")._wanted_properties(desc, None)["rotation"][1] is None
    assert backend(rotation_lambda="")._wanted_properties({}, None) == {}
    assert backend()._wanted_properties(desc, policy) == {}


def test_binary_encoding_base64_reads_and_writes_secret_binary():
    b = backend(binary_encoding="base64")
    assert b._secret({"SecretBinary": b"\x00\xff" + CANARY.encode()}).value == base64.b64encode(b"\x00\xff" + CANARY.encode()).decode()
    assert b._secret({"SecretString": "text"}).value == "text"
    assert b._payload(base64.b64encode(b"\x01\x02").decode()) == {"SecretBinary": b"\x01\x02"}
    with pytest.raises(InvalidReference, match="not valid base64") as info:
        b._payload("not base64 " + CANARY)
    assert CANARY not in str(info.value)
    assert backend()._payload("text") == {"SecretString": "text"}
    assert backend()._secret({"SecretBinary": b"\x00"}).value == b"\x00"
