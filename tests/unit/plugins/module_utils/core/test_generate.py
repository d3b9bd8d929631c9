# -*- coding: utf-8 -*-
import base64
import string

import pytest
from cryptography import x509
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization

from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import InvalidOption
from ansible_collections.agentarea.secrets.plugins.module_utils.core._generate import SAFE_FOR, generate


def test_default_password_has_each_class():
    for _i in range(50):
        value = generate({})
        assert len(value) == 32
        assert any(c in string.ascii_lowercase for c in value)
        assert any(c in string.ascii_uppercase for c in value)
        assert any(c in string.digits for c in value)
        assert all(c in string.ascii_letters + string.digits for c in value)


def test_minimum_counts_and_exclusions():
    for _i in range(50):
        value = generate({"length": 20, "symbols": 3, "digits": 4, "exclude": "'\"\\@:/"})
        assert len(value) == 20
        assert sum(c in string.digits for c in value) >= 4
        assert sum(c in string.punctuation for c in value) >= 3
        assert not set(value) & set("'\"\\@:/")


def test_safe_for_presets():
    for _i in range(50):
        value = generate({"length": 64, "symbols": 5, "safe_for": ["url", "shell"]})
        assert not set(value) & set(SAFE_FOR["url"] + SAFE_FOR["shell"])


def test_values_differ():
    assert len({generate({"length": 16}) for _i in range(200)}) == 200


@pytest.mark.parametrize("policy,message", [
    ({"length": 3, "lower": 2, "upper": 2}, "add up to 5"),
    ({"kind": "nope"}, "unknown kind"),
    ({"lenght": 3}, "unknown key(s) lenght"),
    ({"lower": False, "upper": False, "digits": False}, "no characters"),
    ({"digits": 2, "exclude": "0123456789"}, "every 'digits' character is excluded"),
    ({"kind": "hex", "bits": 8}, "bits must be"),
    ({"kind": "rsa", "bits": 1024}, "at least 2048"),
    ({"kind": "tls"}, "needs common_name"),
    ({"safe_for": "nowhere"}, "unknown safe_for"),
])
def test_bad_policies_say_why(policy, message):
    with pytest.raises(InvalidOption) as info:
        generate(policy)
    assert message in str(info.value)


def test_encoded_bytes():
    assert len(generate({"kind": "hex", "bits": 256})) == 64
    raw = generate({"kind": "base64url", "bits": 512})
    assert len(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))) == 64
    Fernet(generate({"kind": "fernet"}).encode())


@pytest.mark.parametrize("policy", [{"kind": "rsa", "bits": 2048}, {"kind": "ec"}, {"kind": "ed25519"}])
def test_key_pairs(policy):
    pair = generate(policy)
    key = serialization.load_pem_private_key(pair["private_key"].encode(), None)
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert public.decode() == pair["public_key"]


def test_ssh_and_tls():
    pair = generate({"kind": "ssh", "comment": "deploy@agentarea"})
    assert pair["public_key"].startswith("ssh-ed25519 ") and pair["public_key"].endswith(" deploy@agentarea")
    assert "OPENSSH PRIVATE KEY" in pair["private_key"]
    tls = generate({"kind": "tls", "common_name": "api.internal", "sans": ["api.internal", "127.0.0.1"], "days": 30})
    cert = x509.load_pem_x509_certificate(tls["certificate"].encode())
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "api.internal" in sans.get_values_for_type(x509.DNSName)
