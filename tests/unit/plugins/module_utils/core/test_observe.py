# -*- coding: utf-8 -*-
"""observe(): the one "read, select the key, fingerprint it (or take the store's label)" shared by secret,
secret_info, catalog_info and distribute."""
import hashlib

import pytest

from ansible_collections.agentarea.secrets.plugins.module_utils.core._backend import CAP_WRITE, Secret, observe
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import SecretAccessDenied, SecretNotFound
from ansible_collections.agentarea.secrets.plugins.module_utils.core._refs import parse_ref
from ansible_collections.agentarea.secrets.plugins.module_utils.backends._dotenv import DotenvBackend


def fp(value):
    return hashlib.sha256(str(value).encode()).hexdigest()[:16]


def test_present_missing_key_and_missing_file(tmp_path):
    env = tmp_path / '.env'
    env.write_text('A=canary-1\n')
    backend = DotenvBackend({})
    seen = observe(backend, parse_ref('dotenv://%s#A' % env), fp)
    assert (seen.state, seen.exists, seen.value, seen.fingerprint) == ('present', True, 'canary-1', fp('canary-1'))
    assert seen.secret is not None and 'canary-1' not in repr(seen)
    no_key = observe(backend, parse_ref('dotenv://%s#B' % env), fp)
    assert (no_key.state, no_key.exists, no_key.value, no_key.fingerprint) == ('missing', False, None, None)
    assert no_key.secret is not None, 'the secret exists even though its key does not'
    no_file = observe(backend, parse_ref('dotenv://%s#A' % (tmp_path / 'absent.env')), fp)
    assert (no_file.state, no_file.secret) == ('missing', None)


class WriteOnly(DotenvBackend):
    """A store that cannot return values but keeps a fingerprint label (what Docker does)."""
    CAPABILITIES = frozenset((CAP_WRITE,))

    def describe(self, ref):
        if ref.location.endswith('absent'):
            raise SecretNotFound('no such secret', ref=ref, backend=self.NAME)
        return Secret(None, '7', metadata={'fingerprint': 'label-fp'})

    def read(self, ref):
        raise AssertionError('a write-only store is never read')


def test_write_only_store_gives_its_label():
    seen = observe(WriteOnly({}), parse_ref('dotenv://db_password'), fp)
    assert (seen.state, seen.value, seen.fingerprint, seen.secret.version) == ('present', None, 'label-fp', '7')
    assert observe(WriteOnly({}), parse_ref('dotenv://absent'), fp).state == 'missing'


def test_denied_is_raised_not_a_state(tmp_path):
    class Denied(DotenvBackend):
        def read(self, ref):
            raise SecretAccessDenied('permission denied', ref=ref, backend=self.NAME)
    with pytest.raises(SecretAccessDenied):
        observe(Denied({}), parse_ref('dotenv://%s#A' % (tmp_path / '.env')), fp)
