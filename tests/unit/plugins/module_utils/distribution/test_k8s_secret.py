# -*- coding: utf-8 -*-
"""k8s_secret logic: the data kubectl would build (compared with kubectl itself where it is installed), keyed hash
names, and the plan of what changes."""
import base64
import datetime
import json
import shutil
import subprocess

import pytest

from ansible_collections.agentarea.secrets.plugins.module_utils.distribution import _k8s_secret as ks
from ansible_collections.agentarea.secrets.plugins.module_utils.distribution import _k8s_secret_data as kd
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import InvalidOption

KUBECTL = shutil.which("kubectl")
ENV_FILE = "# comment\n  LEADING=spaces\nQUOTED=\"kept\"\nTRAILING= two  \r\nEQUALS==x=y\n\nFROM_ENV\nUNSET_VAR\nEMPTY=\n"


def kubectl_data(*args, env=None):
    out = subprocess.run([KUBECTL, "create", "secret"] + list(args) + ["--dry-run=client", "-o", "json"],
                         capture_output=True, text=True, check=True, env=env)
    doc = json.loads(out.stdout)
    return dict((k, base64.b64decode(v)) for k, v in (doc.get("data") or {}).items()), doc.get("type", "Opaque")


def test_env_file_like_kubectl():
    parsed = kd.parse_env_file_kubectl(ENV_FILE, environ={"FROM_ENV": "from-env"})
    assert parsed == [("LEADING", "spaces"), ("QUOTED", '"kept"'), ("TRAILING", " two  "), ("EQUALS", "=x=y"),
                      ("FROM_ENV", "from-env"), ("UNSET_VAR", ""), ("EMPTY", "")]
    with pytest.raises(InvalidOption, match="line 1 is not KEY=value") as exc:
        kd.parse_env_file_kubectl("export A=1\n")
    assert "export A" not in str(exc.value)
    with pytest.raises(InvalidOption, match="line 2 is not KEY=value") as exc:
        kd.parse_env_file_kubectl("B=2\n1A=1\n")
    assert "1A" not in str(exc.value)


@pytest.mark.skipif(not KUBECTL, reason="kubectl is not installed")
def test_env_file_and_literals_and_files_match_kubectl(tmp_path):
    env_file = tmp_path / "app.env"
    env_file.write_text(ENV_FILE)
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "a.txt").write_bytes(b"alpha\n")
    (tmp_path / "dir" / "b.bin").write_bytes(b"\x00\xff")
    single = tmp_path / "single.txt"
    single.write_text("one")
    params = {"data": {"lit": "v=1", "num": 3}, "from_files": [str(tmp_path / "dir"), "renamed=%s" % single],
              "from_env_file": [str(env_file)]}
    ours, stype = kd.build_data(params, environ={"FROM_ENV": "from-env"})
    theirs_literal = kubectl_data("generic", "x", "--from-literal=lit=v=1", "--from-literal=num=3",
                                  "--from-file=%s" % (tmp_path / "dir"), "--from-file=renamed=%s" % single)[0]
    theirs_env = kubectl_data("generic", "y", "--from-env-file=%s" % env_file,
                              env={"FROM_ENV": "from-env", "PATH": "/usr/bin:/bin"})[0]
    assert stype == "Opaque"
    assert ours == dict(theirs_literal, **theirs_env)


@pytest.mark.skipif(not KUBECTL, reason="kubectl is not installed")
@pytest.mark.parametrize("email", [None, "bot@example.com"])
def test_dockerconfigjson_is_byte_for_byte_kubectls(email):
    args = ["docker-registry", "r", "--docker-server=ghcr.io", "--docker-username=bot", "--docker-password=p\"w"]
    if email:
        args.append("--docker-email=%s" % email)
    theirs, stype = kubectl_data(*args)
    assert stype == kd.TYPE_DOCKERCONFIGJSON
    assert kd.dockerconfigjson("ghcr.io", "bot", 'p"w', email) == theirs[".dockerconfigjson"]


def tls_pair():
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "t")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM).decode(),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()).decode())


def test_tls_type_and_key_check():
    cert, key = tls_pair()
    data, stype = kd.build_data({"tls_cert": cert, "tls_key": key})
    assert stype == kd.TYPE_TLS and data == {"tls.crt": cert.encode(), "tls.key": key.encode()}
    _other_cert, other_key = tls_pair()
    with pytest.raises(InvalidOption, match="tls_key does not match the public key of tls_cert"):
        kd.build_data({"tls_cert": cert, "tls_key": other_key})
    with pytest.raises(InvalidOption, match="tls_cert is not a PEM certificate"):
        kd.build_data({"tls_cert": "nope", "tls_key": key})
    with pytest.raises(InvalidOption, match="does not fit the data given"):
        kd.build_data({"tls_cert": cert, "tls_key": key, "type": "Opaque"})


def test_keys_are_checked_and_never_given_twice(tmp_path):
    (tmp_path / "a").write_text("x")
    with pytest.raises(InvalidOption, match="the key 'a' is given twice"):
        kd.build_data({"data": {"a": "1"}, "from_files": ["a=%s" % (tmp_path / "a")]})
    with pytest.raises(InvalidOption, match="'a b' is not a valid Secret key"):
        kd.build_data({"data": {"a b": "1"}})
    with pytest.raises(InvalidOption, match="cannot read /nonexistent"):
        kd.build_data({"from_files": ["/nonexistent"]})
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "not a key").write_text("x")
    with pytest.raises(InvalidOption, match="'not a key' is not a valid Secret key"):  # kubectl refuses it too
        kd.build_data({"from_files": [str(tmp_path / "d")]})


def test_literals_are_kubectl_text():
    data = kd.build_data({"data": {"b": True, "n": 1.5, "m": {"z": 1, "a": [1]}, "none": None}})[0]
    assert data == {"b": b"true", "n": b"1.5", "m": b'{"a":[1],"z":1}', "none": b""}


def test_dotenv_format_follows_compose(tmp_path):
    path = tmp_path / ".env"
    path.write_text("export A='x y' # c\nB=\"multi\nline\"\n")
    data = kd.build_data({"from_env_file": [str(path)], "env_file_format": "dotenv"})[0]
    assert data == {"A": b"x y", "B": b"multi\nline"}


def test_hashed_names_are_keyed_and_follow_content():
    data = {"k": b"v"}
    one = ks.hashed_name("app", "Opaque", data, key="key-1")
    assert one.startswith("app-") and len(one) == 14 and one == ks.hashed_name("app", "Opaque", data, key="key-1")
    assert one != ks.hashed_name("app", "Opaque", data, key="key-2")
    assert one != ks.hashed_name("app", "Opaque", {"k": b"w"}, key="key-1")
    assert not set(one[4:]) & set("aeiou013")  # kustomize's alphabet: no vowels, so no words


def secret_obj(data, labels=None, annotations=None, immutable=None, stype="Opaque"):
    obj = {"metadata": {"name": "s", "resourceVersion": "5", "labels": labels or {}, "annotations": annotations or {}},
           "type": stype, "data": dict((k, base64.b64encode(v).decode()) for k, v in data.items())}
    if immutable is not None:
        obj["immutable"] = immutable
    return obj


def test_plan_changes_only_what_differs():
    current = secret_obj({"a": b"1", "b": b"2"}, labels={"team": "x"}, annotations={"note": "y"})
    same = ks.plan(current, {"a": b"1", "b": b"2"}, "Opaque", {"team": "x"}, {}, None, True)
    assert same["action"] == "none"
    steps = ks.plan(current, {"a": b"9", "c": b"3"}, "Opaque", {"app": "z"}, {"note": "y"}, None, True)
    assert (steps["action"], steps["added"], steps["updated"], steps["removed"]) == ("update", ["c"], ["a"], ["b"])
    assert steps["labels"] == {"app": "z"} and steps["annotations"] == {}
    assert ks.plan(current, {"a": b"9"}, "Opaque", None, None, None, False)["removed"] == []
    req = ks.SecretRequest("ns", "s", {"a": b"9", "c": b"3"}, "Opaque", labels={"app": "z"})
    patch = req.patch(current, steps)
    assert patch["metadata"] == {"resourceVersion": "5", "labels": {"app": "z"}}
    assert patch["data"] == {"a": base64.b64encode(b"9").decode(), "c": base64.b64encode(b"3").decode(), "b": None}
    predicted = ks.predict(current, req, steps)
    assert set(predicted["data"]) == {"a", "c"} and predicted["metadata"]["labels"] == {"team": "x", "app": "z"}


def test_plan_refuses_what_the_api_refuses():
    frozen = secret_obj({"a": b"1"}, immutable=True)
    assert ks.plan(frozen, {"a": b"2"}, "Opaque", None, None, True, True)["reasons"] == [
        "it is immutable and its data differs"]
    assert ks.plan(frozen, {"a": b"1"}, "Opaque", None, None, True, True)["action"] == "none"
    tls = secret_obj({"a": b"1"}, stype=kd.TYPE_TLS)
    assert ks.plan(tls, {"a": b"1"}, "Opaque", None, None, None, True)["action"] == "recreate"
    assert ks.plan(secret_obj({"a": b"1"}), {"a": b"1"}, "Opaque", None, None, True, True)["action"] == "update"


def test_describe_shows_fingerprints_never_values():
    described = ks.describe(secret_obj({"a": b"canary-value-123"}), key="k")
    assert described["keys"]["a"].startswith("hmac-sha256:") and "canary-value-123" not in json.dumps(described)


PEM_LINES = ["MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj",  # a valid variable name in kubectl's eyes
             "MIIEpAIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun+/",
             "Z2VKx8o4Q==", "-----BEGIN PRIVATE KEY-----"]


@pytest.mark.parametrize("fmt", ["kubectl", "dotenv"])
@pytest.mark.parametrize("pem_line", PEM_LINES)
def test_a_malformed_env_file_line_is_named_by_number_never_quoted(tmp_path, fmt, pem_line):
    """Issue 12 item 7: an unquoted PEM line in an env file is key material; errors name the file and the line."""
    path = tmp_path / "app.env"
    path.write_text("OK=1\nTLS_KEY=-----BEGIN PRIVATE KEY-----\n%s\n" % pem_line)
    try:
        data = kd.build_data({"from_env_file": [str(path)], "env_file_format": fmt})[0]
    except InvalidOption as exc:
        message = str(exc)
        assert str(path) in message and "line 3" in message, message
        for part in (pem_line, pem_line[:12], pem_line.strip("-=")):
            assert part not in message, message
    else:
        # a line that happens to be a variable name (or NAME=...) is read as one, as kubectl and python-dotenv do
        assert {"OK", "TLS_KEY"} < set(data)


def test_a_key_given_twice_in_an_env_file_is_named_by_line(tmp_path):
    path = tmp_path / "app.env"
    path.write_text("A=1\nSECRETISH=2\n")
    with pytest.raises(InvalidOption, match="app.env: line 2: the key is given twice") as exc:
        kd.build_data({"data": {"SECRETISH": "x"}, "from_env_file": [str(path)]})
    assert "SECRETISH" not in str(exc.value)


@pytest.mark.parametrize("fmt", ["kubectl", "dotenv"])
def test_a_non_utf8_env_file_is_a_clear_error(tmp_path, fmt):
    path = tmp_path / "latin1.env"
    path.write_bytes(b"A=1\nB=caf\xe9-secret\n")
    with pytest.raises(InvalidOption) as exc:
        kd.build_data({"from_env_file": [str(path)], "env_file_format": fmt})
    message = str(exc.value)
    assert "latin1.env: line 2 is not UTF-8 text" in message and "secret" not in message.replace(str(path), "")
