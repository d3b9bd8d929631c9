# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""JWT signing keys.

The store holds a key set (JSON)::

    {"active": "<kid>", "keys": [{"kid": ..., "alg": "HS256", "k": <base64url>, "created": ..., "retire_after": ...},
                                 {"kid": ..., "alg": "RS256", "private_key": <PEM>, "public_key": <PEM>, ...}]}

Applications sign with ``active`` and verify with every key. A rotation adds a key and makes it active; with
``overlap`` the previous keys stay for verification (``retire_after`` = now + ``overlap``, the longest token
lifetime) until the contract step removes them; with ``single`` only the new key remains. Algorithms: HS256,
HS512 (secrets), RS256, ES256, EdDSA (key pairs). ``target.jwks_path`` (a file) or ``target.jwks_ref`` (a
reference) receives a JWKS of the public keys: it is written at ``set``, before the new key signs anything, so
verifiers know the key first. A store that holds a bare secret (``JWT_SECRET`` in a .env) is rotated as such,
like ``static``, with the previous one at ``target.publish_previous``. The test signs a token with the new key
and verifies it with the key set, the written JWKS, and (overlap) a token of the previous key too.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import secrets
import time

from ansible_collections.agentarea.secrets.plugins.module_utils.core._backend import decode_structured, iso
from ansible_collections.agentarea.secrets.plugins.module_utils.core._deps import requires
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import InvalidOption
from ansible_collections.agentarea.secrets.plugins.module_utils.core._fileio import atomic_write
from ansible_collections.agentarea.secrets.plugins.module_utils.core._generate import pem_pair, private_key
from ansible_collections.agentarea.secrets.plugins.module_utils.rotation.targets._static import StaticTarget

ALGORITHMS = {'HS256': ('hmac', 256), 'HS512': ('hmac', 512), 'RS256': ('rsa', 3072), 'ES256': ('ec', 'P-256'),
              'EdDSA': ('ed25519', None)}


def _jwt():
    return requires('jwt', package='PyJWT', backend='jwt')


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode('ascii')


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + '=' * (-len(text) % 4))


def signing_key(entry):
    return b64url_decode(entry['k']) if 'k' in entry else entry['private_key']


def verification_key(entry):
    return b64url_decode(entry['k']) if 'k' in entry else entry['public_key']


def public_jwk(entry):
    """The JWK of a key pair's public half (None for HMAC secrets, which are never published)."""
    if 'public_key' not in entry:
        return None
    jwt = _jwt()
    from cryptography.hazmat.primitives.serialization import load_pem_public_key
    key = load_pem_public_key(entry['public_key'].encode('ascii'))
    algo = {'RS256': jwt.algorithms.RSAAlgorithm, 'ES256': jwt.algorithms.ECAlgorithm,
            'EdDSA': jwt.algorithms.OKPAlgorithm}[entry['alg']]
    jwk = algo.to_jwk(key, as_dict=True)
    jwk.update(kid=entry['kid'], alg=entry['alg'], use='sig')
    return jwk


def jwks(keyset):
    return {'keys': [j for j in (public_jwk(e) for e in keyset.get('keys', [])) if j is not None]}


class JwtTarget(StaticTarget):
    KIND = 'jwt'
    STRATEGIES = ('single', 'overlap')
    STORE_ONLY = True
    DRIVER = (('jwt',), 'PyJWT')
    OPTIONS = dict(
        algorithm=dict(type='str', default='HS256', choices=list(ALGORITHMS)),
        format=dict(type='str', default='auto', choices=['auto', 'keyset', 'secret']),
        jwks_path=dict(type='path'),
        jwks_ref=dict(type='str'),
    )

    def __init__(self, *args, **kwargs):
        super(JwtTarget, self).__init__(*args, **kwargs)
        self.alg = self.opt('algorithm', 'HS256')
        if self.alg not in ALGORITHMS:
            raise InvalidOption("target.algorithm must be one of %s" % ', '.join(sorted(ALGORITHMS)))
        self.bare = False
        self._jwks_before = None

    def keyset(self, value):
        data = decode_structured(value)
        if data in (None, ''):
            return {'active': None, 'keys': []}
        if not isinstance(data, dict) or not isinstance(data.get('keys'), list):
            raise InvalidOption('the store does not hold a JWT key set ({"active": kid, "keys": [...]})')
        return data

    def prepare(self, current):
        fmt = self.opt('format', 'auto')
        data = decode_structured(current)
        self.bare = fmt == 'secret' or (fmt == 'auto' and isinstance(data, str))
        if self.bare:
            if ALGORITHMS[self.alg][0] != 'hmac':
                raise InvalidOption('a bare secret can only hold an HS256/HS512 key; use a key set for %s' % self.alg)
            return super(JwtTarget, self).prepare(current)
        self.keyset(current)
        return current

    def new_entry(self, policy):
        family, size = ALGORITHMS[self.alg]
        policy = dict(policy or {})
        kid = '%s-%s' % (time.strftime('%Y%m%d', time.gmtime()), secrets.token_hex(4))
        entry = {'kid': kid, 'alg': self.alg, 'use': 'sig', 'created': iso(time.time())}
        if family == 'hmac':
            entry['k'] = b64url(secrets.token_bytes(int(policy.get('bits', size)) // 8))
        else:
            key = private_key(family, bits=policy.get('bits', size if family == 'rsa' else None),
                              curve=policy.get('curve', size if family == 'ec' else None))
            entry.update(pem_pair(key))
        return entry

    def new_value(self, current, policy):
        if self.bare:
            bits = int((policy or {}).get('bits', ALGORITHMS[self.alg][1]))
            return b64url(secrets.token_bytes(bits // 8))
        old = self.keyset(current)
        entry = self.new_entry(policy)
        keys = []
        if self.strategy == 'overlap':
            retire = iso(time.time() + float(self.opt('overlap_seconds') or 0))
            now = iso(time.time())
            for key in old['keys']:
                if key.get('retire_after') and key['retire_after'] <= now:
                    continue  # its overlap is over: drop it now
                key = dict(key)
                key.setdefault('retire_after', retire)
                keys.append(key)
        return {'active': entry['kid'], 'keys': keys + [entry]}

    # -- JWKS ---------------------------------------------------------------------------------------------------
    def publish(self, keyset):
        doc = jwks(keyset)
        path, ref = self.opt('jwks_path'), self.opt('jwks_ref')
        if not (path or ref):
            return None
        if not doc['keys']:
            self.note('HMAC keys are secret: the JWKS lists no key for them')
        text = json.dumps(doc, sort_keys=True, indent=2) + '\n'
        self.touched = True
        if path:
            atomic_write(path, text, mode=0o644)
        if ref:
            self.stores.write(ref, text)
        return doc

    def apply(self, new, old):
        if self.bare:
            return super(JwtTarget, self).apply(new, old)
        self.publish(self.keyset(new))

    def revert(self, new, old, previous=None):
        if self.bare:
            return super(JwtTarget, self).revert(new, old, previous)
        self.publish(self.keyset(old))

    def check(self, value, login_only=False):
        jwt = _jwt()
        if self.bare:
            key = value.encode('utf-8')
            token = jwt.encode({'iss': 'agentarea.secrets rotation test', 'exp': int(time.time()) + 60}, key,
                               algorithm=self.alg)
            return bool(jwt.decode(token, key, algorithms=[self.alg]))
        keyset = self.keyset(value)
        by_kid = dict((e['kid'], e) for e in keyset['keys'])
        active = by_kid.get(keyset.get('active'))
        if active is None:
            return False
        published = None
        if self.opt('jwks_path') or self.opt('jwks_ref'):
            published = jwt.PyJWKSet.from_dict(jwks(keyset))
        for entry in [active] + [e for e in keyset['keys'] if e is not active]:
            token = jwt.encode({'iss': 'agentarea.secrets rotation test', 'exp': int(time.time()) + 60},
                               signing_key(entry), algorithm=entry['alg'], headers={'kid': entry['kid']})
            kid = jwt.get_unverified_header(token)['kid']
            try:
                jwt.decode(token, verification_key(by_kid[kid]), algorithms=[entry['alg']])
                if published is not None and 'public_key' in entry:
                    jwt.decode(token, published[kid].key, algorithms=[entry['alg']])
            except (jwt.PyJWTError, KeyError):
                self.note("key '%s' failed the sign/verify test" % entry['kid'])
                return False
        return True

    def contract(self, previous, current):
        if self.bare:
            return super(JwtTarget, self).contract(previous, current)
        keyset = self.keyset(current)
        kept = [e for e in keyset['keys'] if e['kid'] == keyset.get('active')]
        if len(kept) == len(keyset['keys']):
            return None
        removed = sorted(e['kid'] for e in keyset['keys'] if e not in kept)
        self.note('removed key(s) %s' % ', '.join(removed))
        new = {'active': keyset.get('active'), 'keys': kept}
        self.publish(new)
        return new

    def describe(self, value):
        if self.bare:
            return {}
        try:
            keyset = self.keyset(value)
        except InvalidOption:
            return {}
        return {'active_kid': keyset.get('active'), 'kids': [e.get('kid') for e in keyset['keys']]}
