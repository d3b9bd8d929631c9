# -*- coding: utf-8 -*-
"""AWS under faults, without a server: retry settings (options, AWS_MAX_ATTEMPTS, AWS_RETRY_MODE), throttling and
timeout messages, batch reads that are throttled or partly fail, and a region that holds no secrets."""
import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import (
    BackendMisconfigured, BackendUnavailable, InvalidOption, SecretNotFound,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.backends.aws import _auth as _aws_auth
from ansible_collections.agentarea.secrets.plugins.module_utils.backends.aws._backend import AwsBackend
from tests.unit.plugins.module_utils.backends.fakes import FakeCache


def test_retry_settings():
    assert _aws_auth.retry_settings({}) == ("standard", 4)
    assert _aws_auth.retry_settings({"retries": 0, "retry_mode": "adaptive"}) == ("adaptive", 1)
    assert _aws_auth.retry_settings({"retries": 3}, {"AWS_MAX_ATTEMPTS": "7"}) == ("standard", 7)  # at the default
    assert _aws_auth.retry_settings({"retries": 5}, {"AWS_MAX_ATTEMPTS": "7"}) == ("standard", 6)
    backend = AwsBackend({"region": "eu-west-1"}, environ={"AWS_RETRY_MODE": "legacy", "AWS_MAX_ATTEMPTS": "2"})
    backend.validate()
    assert backend.options["retries"] == 3 and backend.options["retry_mode"] == "legacy"
    config = _aws_auth.botocore_config(backend.options, backend._environ)
    assert config.retries == {"mode": "legacy", "total_max_attempts": 2}
    own = AwsBackend({"region": "eu-west-1"}, environ={"ANSIBLE_AGENTAREA_SECRETS_AWS_RETRIES": "1"})
    own.validate()
    assert own.options["retries"] == 1


@pytest.mark.parametrize("options", [{"retries": -1}, {"retry_mode": "eager"}, {"retries": "many"}])
def test_bad_retry_options(options):
    with pytest.raises(InvalidOption):
        AwsBackend(dict(options, region="eu-west-1"), environ={}).validate()


def throttled(status=400, code="ThrottlingException", attempts=3):
    return ClientError({"Error": {"Code": code, "Message": "Rate exceeded"},
                        "ResponseMetadata": {"HTTPStatusCode": status, "RetryAttempts": attempts}}, "GetSecretValue")


def test_throttling_and_timeouts_say_so():
    ctx = {"timeout": 2, "mode": "standard", "attempts": 4}
    err = _aws_auth.to_error(throttled(), "aws://app/db", "reading", context=ctx)
    assert isinstance(err, BackendUnavailable)
    assert "throttled by AWS (ThrottlingException, HTTP 400), still after 4 attempt(s)" in str(err)
    assert str(err).startswith("aws 'aws://app/db': reading:")
    err = _aws_auth.to_error(throttled(429, ""), "aws://app/db", "reading", context=ctx)
    assert "throttled by AWS (TooManyRequests, HTTP 429)" in str(err)
    err = _aws_auth.to_error(ReadTimeoutError(endpoint_url="http://x"), "aws://app/db", "reading", context=ctx)
    assert isinstance(err, BackendUnavailable) and "no answer within 2 s (timeout), 4 attempt(s)" in str(err)


class Client:
    """Just enough of a secretsmanager client."""

    def __init__(self, values, batch=None, secrets_in_region=1):
        self.values, self.batch, self.calls = values, batch, []
        self.secrets_in_region = secrets_in_region
        self.meta = type("Meta", (), {"region_name": "eu-north-1"})()

    def batch_get_secret_value(self, SecretIdList):  # noqa: N803
        self.calls.append(("batch", tuple(SecretIdList)))
        return self.batch(SecretIdList)

    def get_secret_value(self, SecretId, VersionStage=None):  # noqa: N803
        self.calls.append(("get", SecretId))
        if SecretId not in self.values:
            raise ClientError({"Error": {"Code": "ResourceNotFoundException"},
                               "ResponseMetadata": {"HTTPStatusCode": 400}}, "GetSecretValue")
        return item(SecretId, self.values[SecretId])

    def list_secrets(self, **kwargs):
        self.calls.append(("list", kwargs.get("MaxResults")))
        return {"SecretList": [{"Name": "x"}] * self.secrets_in_region}


def item(name, value):
    return {"Name": name, "ARN": "arn:aws:secretsmanager:eu-north-1:1:secret:%s-AbCdEf" % name, "VersionId": "v1",
            "SecretString": value, "VersionStages": ["AWSCURRENT"]}


def backend_with(client):
    backend = AwsBackend({"region": "eu-north-1"}, environ={})
    backend._client = client
    return backend


def refs(backend, names):
    return [backend.ref_from_term(n) for n in names]


def test_a_throttled_batch_is_split_and_a_partial_batch_is_read_per_id():
    values = dict(("app/s%02d" % i, "v%02d" % i) for i in range(6))

    def batch(ids):
        if len(ids) > 3:
            raise throttled()
        # one id answered, the others listed under Errors
        return {"SecretValues": [item(ids[0], values[ids[0]])],
                "Errors": [{"SecretId": i, "ErrorCode": "ThrottlingException"} for i in ids[1:]]}
    client = Client(values, batch)
    backend = backend_with(client)
    out = backend.read_many(refs(backend, sorted(values)))
    assert [s.value for s in out] == [values[n] for n in sorted(values)]
    assert [c for c in client.calls if c[0] == "batch"] == [
        ("batch", tuple(sorted(values))), ("batch", tuple(sorted(values)[:3])), ("batch", tuple(sorted(values)[3:]))]
    assert sorted(c[1] for c in client.calls if c[0] == "get") == ["app/s01", "app/s02", "app/s04", "app/s05"]


def test_once_throttled_for_good_the_other_terms_are_not_tried_one_by_one():
    def batch(ids):
        raise throttled()

    def get_secret_value(**kw):
        client.calls.append(("get", kw["SecretId"]))
        raise throttled()

    client = Client({}, batch)
    client.get_secret_value = get_secret_value
    backend = backend_with(client)
    out = backend.read_many(refs(backend, ["app/a", "app/b", "app/c"]))
    assert all(isinstance(e, BackendUnavailable) and "throttled" in str(e) for e in out)
    assert [c for c in client.calls if c[0] == "get"] == [("get", "app/a")]
    assert "'aws://app/c'" in str(out[2])


def test_a_region_with_no_secrets_is_a_configuration_error_once_asked():
    client = Client({}, secrets_in_region=0)
    backend = backend_with(client)
    for name in ("app/db", "app/other"):
        with pytest.raises(BackendMisconfigured) as err:
            backend.read(backend.ref_from_term(name))
        assert "region eu-north-1 holds no secrets at all: wrong region" in str(err.value)
        assert "'aws://%s'" % name in str(err.value)
    out = backend.read_many(refs(backend, ["app/x"]))
    assert isinstance(out[0], BackendMisconfigured)
    assert [c for c in client.calls if c[0] == "list"] == [("list", 1)]
    populated = backend_with(Client({}, secrets_in_region=1))
    with pytest.raises(SecretNotFound):
        populated.read(populated.ref_from_term("app/db"))
    creating = backend_with(Client({}, secrets_in_region=0))
    creating.creating = True
    with pytest.raises(SecretNotFound):
        creating.read(creating.ref_from_term("app/db"))


def test_the_region_answer_is_kept_in_the_run_cache():
    cache = FakeCache()
    first = backend_with(Client({}, secrets_in_region=1))
    first.cache = cache
    with pytest.raises(SecretNotFound):
        first.read(first.ref_from_term("app/db"))
    second_client = Client({}, secrets_in_region=1)
    second = backend_with(second_client)
    second.cache = cache
    with pytest.raises(SecretNotFound):
        second.read(second.ref_from_term("app/db"))
    assert not [c for c in second_client.calls if c[0] == "list"]


def test_an_error_of_one_secret_does_not_stop_the_others():
    client = Client({"app/b": "vb"}, lambda ids: {"SecretValues": [], "Errors": []})
    real = client.get_secret_value

    def get(SecretId, VersionStage=None):  # noqa: N803
        if SecretId == "app/a":
            raise ClientError({"Error": {"Code": "SomethingOdd"}, "ResponseMetadata": {"HTTPStatusCode": 400}},
                              "GetSecretValue")
        return real(SecretId=SecretId, VersionStage=VersionStage)
    client.get_secret_value = get
    backend = backend_with(client)
    out = backend.read_many(refs(backend, ["app/a", "app/b"]))
    assert isinstance(out[0], BackendUnavailable) and out[1].value == "vb"
