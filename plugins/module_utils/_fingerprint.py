# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keyed fingerprints: HMAC-SHA256 under a key that never leaves the operator's machines.

A fingerprint stands in for a value in diffs, drift reports, audit records and Docker labels. Unlike a bare
hash (community.docker labels secrets with an unsalted SHA-224), it cannot be checked offline against a list
of guesses without the key.

The key, first found wins: the ``fingerprint_key`` option, ``AGENTAREA_SECRETS_FINGERPRINT_KEY``, the file named
by ``AGENTAREA_SECRETS_FINGERPRINT_KEY_FILE``, else ``~/.config/agentarea-secrets/fingerprint.key``, created with
32 random bytes (0600) on first use. Fingerprints are comparable only between hosts that share the key.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import hmac
import json
import os

PREFIX = 'hmac-sha256:'
LENGTH = 32  # hex characters kept: 128 bits

DEFAULT_KEY_FILE = os.path.join('~', '.config', 'agentarea-secrets', 'fingerprint.key')


def _load_or_create(path):
    path = os.path.expanduser(path)
    try:
        with open(path, 'rb') as handle:
            data = handle.read().strip()
        if data:
            return data
    except (IOError, OSError):
        pass
    directory = os.path.dirname(path)
    if directory and not os.path.isdir(directory):
        os.makedirs(directory, mode=0o700)
    key = os.urandom(32).hex().encode('ascii')
    tmp = '%s.%d.tmp' % (path, os.getpid())
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, 'wb') as handle:
        handle.write(key)
    try:
        os.link(tmp, path)  # never replace a key another process created first
    except OSError:
        pass
    os.unlink(tmp)
    with open(path, 'rb') as handle:
        return handle.read().strip()


def resolve_key(key=None, environ=None):
    env = os.environ if environ is None else environ
    if key:
        return key.encode('utf-8') if isinstance(key, str) else key
    if env.get('AGENTAREA_SECRETS_FINGERPRINT_KEY'):
        return env['AGENTAREA_SECRETS_FINGERPRINT_KEY'].encode('utf-8')
    return _load_or_create(env.get('AGENTAREA_SECRETS_FINGERPRINT_KEY_FILE') or DEFAULT_KEY_FILE)


def canonical_bytes(value):
    """The bytes a value is fingerprinted as: text as UTF-8, maps and lists as sorted compact JSON."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, separators=(',', ':')).encode('utf-8')
    if value is None:
        return b''
    return str(value).encode('utf-8')


def fingerprint(value, key=None, environ=None):
    """``hmac-sha256:<32 hex>`` of the value under the fingerprint key."""
    digest = hmac.new(resolve_key(key, environ), canonical_bytes(value), hashlib.sha256).hexdigest()
    return PREFIX + digest[:LENGTH]


def matches(value, fp, key=None, environ=None):
    return hmac.compare_digest(fingerprint(value, key, environ), fp or '')
