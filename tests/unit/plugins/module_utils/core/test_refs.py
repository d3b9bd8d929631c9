# -*- coding: utf-8 -*-
import pytest

from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import InvalidReference
from ansible_collections.agentarea.secrets.plugins.module_utils.core._refs import SCHEMES, SecretRef, parse_ref

VALID = [
    ("vault://secret/agentarea/database#url?version=3", "vault", "secret/agentarea/database", "url", {"version": "3"}),
    ("vault://secret/agentarea/database?version=3#url", "vault", "secret/agentarea/database", "url", {"version": "3"}),
    ("aws://agentarea/prod/database#password?stage=AWSCURRENT", "aws", "agentarea/prod/database", "password",
     {"stage": "AWSCURRENT"}),
    ("azure://agentarea-vault/database-url?version=0123abcd", "azure", "agentarea-vault/database-url", None,
     {"version": "0123abcd"}),
    ("azure://127.0.0.1:18600/database-url", "azure", "127.0.0.1:18600/database-url", None, {}),
    ("gcp://my-project/database-url?version=latest", "gcp", "my-project/database-url", None, {"version": "latest"}),
    ("k8s://agentarea/agentarea-secrets#database-url", "k8s", "agentarea/agentarea-secrets", "database-url", {}),
    ("pass://agentarea/database-url", "pass", "agentarea/database-url", None, {}),
    ("pass://agentarea/database#user", "pass", "agentarea/database", "user", {}),
    ("dotenv://.env.local#DATABASE_URL", "dotenv", ".env.local", "DATABASE_URL", {}),
    ("dotenv:///srv/app/.env#JWT_SECRET", "dotenv", "/srv/app/.env", "JWT_SECRET", {}),
    ("file:///run/secrets/db_password", "file", "/run/secrets/db_password", None, {}),
    ("env://DATABASE_URL", "env", "DATABASE_URL", None, {}),
    ("docker://db_password", "docker", "db_password", None, {}),
    ("vault://secret/a%23b/c#k%3Fx", "vault", "secret/a#b/c", "k?x", {}),
    ("AWS://name", "aws", "name", None, {}),
]


@pytest.mark.parametrize("text,scheme,location,key,params", VALID)
def test_parse_valid(text, scheme, location, key, params):
    ref = parse_ref(text)
    assert (ref.scheme, ref.location, ref.key, dict(ref.params)) == (scheme, location, key, params)
    # the canonical form parses back to the same reference
    assert parse_ref(str(ref)) == ref


INVALID = [
    ("", "empty"),
    ("agentarea/database", "expected scheme://location"),
    ("nope://x", "unknown scheme 'nope'"),
    ("vault://secret", "expects mount/path"),
    ("k8s://ns/name/extra", "expects namespace/name"),
    ("azure://only-name", "expects vault/name"),
    ("vault://secret/a?colour=red", "unknown parameter 'colour'"),
    ("vault://secret/a?version", "has no value"),
    ("vault://secret/a?version=1&version=2", "given twice"),
    ("vault://secret//a", "empty segment"),
    ("vault://secret/a#", "must be followed by a key"),
    ("env://A/B", "expects variable name"),
    ("file://", "needs a path"),
]


@pytest.mark.parametrize("text,message", INVALID)
def test_parse_invalid_names_reference_and_cause(text, message):
    with pytest.raises(InvalidReference) as info:
        parse_ref(text)
    assert message in str(info.value)
    if text:
        assert repr(text)[1:-1] in str(info.value) or text in str(info.value)


def test_every_documented_scheme_is_known():
    assert set(SCHEMES) == {"vault", "aws", "ssm", "azure", "gcp", "k8s", "pass", "dotenv", "file", "env", "docker"}


def test_default_scheme_for_backend_lookups():
    assert parse_ref("agentarea/database", default_scheme="vault") == SecretRef("vault", "agentarea/database")


def test_refs_are_immutable_and_hashable():
    ref = parse_ref("vault://secret/a#k?version=2")
    with pytest.raises(AttributeError):
        ref.key = "other"
    assert {ref: 1}[parse_ref("vault://secret/a?version=2#k")] == 1
    assert ref.without_key() == parse_ref("vault://secret/a?version=2")
    assert ref.replace(params={"version": None}) == parse_ref("vault://secret/a#k")
