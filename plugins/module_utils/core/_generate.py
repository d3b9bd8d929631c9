# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secret generation from a policy. Randomness comes from the ``secrets`` module (the OS CSPRNG) only.

A policy is a dict; ``kind`` selects the generator (default ``password``)::

    {length: 32}                                              letters and digits, one of each at least
    {length: 40, symbols: 2, exclude: "'\"\\@:/"}             at least two symbols, none of those characters
    {length: 24, safe_for: [url, shell]}                      drop what needs quoting in a URL or a shell
    {kind: hex, bits: 256}  {kind: base64url, bits: 512}      raw random bytes, encoded
    {kind: fernet}                                            a Fernet key (32 bytes, urlsafe base64)
    {kind: rsa, bits: 3072}  {kind: ec, curve: P-256}  {kind: ed25519}      PEM key pairs
    {kind: ssh, type: ed25519, comment: deploy@agentarea}    OpenSSH key pair
    {kind: tls, common_name: api.internal, sans: [api.internal, 127.0.0.1], days: 365}   self-signed cert + key

Key pairs and certificates come back as dicts (``private_key``/``public_key``, ``certificate``/``private_key``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import datetime
import ipaddress
import math
import secrets
import string

from ansible_collections.agentarea.secrets.plugins.module_utils.core._deps import requires
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import InvalidOption

LOWER = string.ascii_lowercase
UPPER = string.ascii_uppercase
DIGITS = string.digits
SYMBOLS = '!#$%&()*+,-.:;<=>?@[]^_{|}~'

SAFE_FOR = {
    # characters that need escaping in the userinfo of a URL (postgresql://user:PASSWORD@host)
    'url': ":/?#[]@!$&'()*+,;=%",
    'shell': '`$\\"\'!&|;<>(){}[]*?~# ',
    'quotes': '\'"`',
    'ambiguous': 'Il1O0o',
    'yaml': ':#{}[],&*!|>\'"%@`',
}

KINDS = ('password', 'hex', 'base64url', 'fernet', 'rsa', 'ec', 'ed25519', 'ssh', 'tls')
_KEYS = {
    'password': {'length', 'lower', 'upper', 'digits', 'symbols', 'symbol_set', 'exclude', 'safe_for'},
    'hex': {'bits'}, 'base64url': {'bits'}, 'fernet': set(),
    'rsa': {'bits'}, 'ec': {'curve'}, 'ed25519': set(),
    'ssh': {'type', 'bits', 'comment'},
    'tls': {'common_name', 'sans', 'days', 'key_type', 'bits', 'curve'},
}


def _fail(msg):
    raise InvalidOption('generate: %s' % msg)


def validate_policy(policy):
    """Return a normalised copy of the policy or raise InvalidOption naming what is wrong."""
    if policy is None:
        policy = {}
    if not isinstance(policy, dict):
        _fail('the policy must be a dict such as {length: 32}')
    policy = dict(policy)
    kind = policy.pop('kind', 'password') or 'password'
    if kind not in KINDS:
        _fail("unknown kind '%s' (known: %s)" % (kind, ', '.join(KINDS)))
    unknown = set(policy) - _KEYS[kind]
    if unknown:
        _fail("unknown key(s) %s for kind '%s' (allowed: %s)"
              % (', '.join(sorted(unknown)), kind, ', '.join(sorted(_KEYS[kind])) or 'none'))
    policy['kind'] = kind
    return policy


def _class_minimum(policy, name, default):
    value = policy.get(name, default)
    if value is False or value is None:
        return None
    if value is True:
        return 0
    try:
        value = int(value)
    except (TypeError, ValueError):
        _fail("'%s' must be a minimum count or false" % name)
    if value < 0:
        _fail("'%s' must not be negative" % name)
    return value


def password(policy):
    length = int(policy.get('length', 32))
    if length < 1 or length > 4096:
        _fail('length must be between 1 and 4096')
    excluded = set(policy.get('exclude') or '')
    safe_for = policy.get('safe_for') or []
    if isinstance(safe_for, str):
        safe_for = [safe_for]
    for target in safe_for:
        if target not in SAFE_FOR:
            _fail("unknown safe_for '%s' (known: %s)" % (target, ', '.join(sorted(SAFE_FOR))))
        excluded.update(SAFE_FOR[target])
    pools = []
    for name, chars, default in (('lower', LOWER, 1), ('upper', UPPER, 1), ('digits', DIGITS, 1),
                                 ('symbols', policy.get('symbol_set') or SYMBOLS, False)):
        minimum = _class_minimum(policy, name, default)
        if minimum is None:
            continue
        pool = ''.join(ch for ch in chars if ch not in excluded)
        if not pool and minimum > 0:
            _fail("every '%s' character is excluded, yet at least %d is required" % (name, minimum))
        if pool:
            pools.append((name, pool, minimum))
    if not pools:
        _fail('no characters are left to generate from')
    required = sum(m for _n, _p, m in pools)
    if required > length:
        _fail('the minimum counts add up to %d, more than length %d' % (required, length))
    alphabet = ''.join(p for _n, p, _m in pools)
    chars = [secrets.choice(pool) for _n, pool, minimum in pools for _i in range(minimum)]
    chars += [secrets.choice(alphabet) for _i in range(length - len(chars))]
    # Fisher-Yates with the CSPRNG, so the required characters are not at the front.
    for i in range(len(chars) - 1, 0, -1):
        j = secrets.randbelow(i + 1)
        chars[i], chars[j] = chars[j], chars[i]
    return ''.join(chars)


def _random_bytes(policy):
    bits = int(policy.get('bits', 256))
    if bits < 64 or bits > 65536:
        _fail('bits must be between 64 and 65536')
    return secrets.token_bytes(int(math.ceil(bits / 8.0)))


def _crypto():
    return requires('cryptography.hazmat.primitives.hashes', 'cryptography.hazmat.primitives.serialization',
                    'cryptography.hazmat.primitives.asymmetric.ec', 'cryptography.hazmat.primitives.asymmetric.ed25519',
                    'cryptography.hazmat.primitives.asymmetric.rsa', package='cryptography')


_CURVES = {'P-256': 'SECP256R1', 'P-384': 'SECP384R1', 'P-521': 'SECP521R1'}


def private_key(kind, bits=None, curve=None):
    _hashes, _ser, ec, ed25519, rsa = _crypto()
    if kind == 'rsa':
        bits = int(bits or 3072)
        if bits < 2048:
            _fail('RSA keys must have at least 2048 bits')
        return rsa.generate_private_key(public_exponent=65537, key_size=bits)
    if kind == 'ec':
        curve = curve or 'P-256'
        if curve not in _CURVES:
            _fail("unknown curve '%s' (known: %s)" % (curve, ', '.join(sorted(_CURVES))))
        return ec.generate_private_key(getattr(ec, _CURVES[curve])())
    if kind == 'ed25519':
        return ed25519.Ed25519PrivateKey.generate()
    _fail("unknown key type '%s'" % kind)


def pem_pair(key):
    _hashes, ser, _ec, _ed, _rsa = _crypto()
    return {
        'private_key': key.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.PKCS8,
                                         ser.NoEncryption()).decode('ascii'),
        'public_key': key.public_key().public_bytes(ser.Encoding.PEM,
                                                    ser.PublicFormat.SubjectPublicKeyInfo).decode('ascii'),
    }


def ssh_pair(policy):
    _hashes, ser, _ec, _ed, _rsa = _crypto()
    key_type = policy.get('type', 'ed25519')
    if key_type not in ('ed25519', 'rsa', 'ec'):
        _fail("ssh type must be ed25519, rsa or ec")
    key = private_key(key_type, bits=policy.get('bits'), curve=policy.get('curve'))
    public = key.public_key().public_bytes(ser.Encoding.OpenSSH, ser.PublicFormat.OpenSSH).decode('ascii')
    if policy.get('comment'):
        public += ' ' + str(policy['comment'])
    return {
        'private_key': key.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.OpenSSH,
                                         ser.NoEncryption()).decode('ascii'),
        'public_key': public,
    }


def tls_fields(value):
    """``tls.crt`` (the certificate followed by its chain, what a server presents) and ``tls.key``, the keys of a
    Kubernetes TLS Secret, of a certificate value (``{certificate, private_key[, ca_chain]}``: what
    :func:`self_signed_tls` makes and a PKI mount issues); None for any other value."""
    if not isinstance(value, dict) or not value.get('certificate') or not value.get('private_key'):
        return None
    chain = str(value.get('ca_chain') or '').strip()
    return {'tls.crt': str(value['certificate']).strip() + '\n' + (chain + '\n' if chain else ''),
            'tls.key': value['private_key']}


def self_signed_tls(policy):
    hashes, ser, _ec, _ed, _rsa = _crypto()
    from cryptography import x509
    from cryptography.x509.oid import NameOID
    common_name = policy.get('common_name')
    if not common_name:
        _fail("kind 'tls' needs common_name")
    days = int(policy.get('days', 365))
    key = private_key(policy.get('key_type', 'ec'), bits=policy.get('bits'), curve=policy.get('curve'))
    names = []
    for san in policy.get('sans') or [common_name]:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(san)))
        except ValueError:
            names.append(x509.DNSName(san))
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=days))
               .add_extension(x509.SubjectAlternativeName(names), critical=False)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True))
    algorithm = None if policy.get('key_type') == 'ed25519' else hashes.SHA256()
    cert = builder.sign(key, algorithm)
    return {
        'certificate': cert.public_bytes(ser.Encoding.PEM).decode('ascii'),
        'private_key': pem_pair(key)['private_key'],
    }


def generate(policy=None):
    """Generate a value from a policy (see the module docstring)."""
    policy = validate_policy(policy)
    kind = policy['kind']
    if kind == 'password':
        return password(policy)
    if kind == 'hex':
        return _random_bytes(policy).hex()
    if kind == 'base64url':
        return base64.urlsafe_b64encode(_random_bytes(policy)).rstrip(b'=').decode('ascii')
    if kind == 'fernet':
        return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode('ascii')
    if kind in ('rsa', 'ec', 'ed25519'):
        return pem_pair(private_key(kind, bits=policy.get('bits'), curve=policy.get('curve')))
    if kind == 'ssh':
        return ssh_pair(policy)
    return self_signed_tls(policy)
