# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keyed fingerprints: HMAC-SHA256 under a key that never leaves the operator's machines.

A fingerprint stands in for a value in diffs, drift reports, audit records and Docker labels. Unlike a bare
hash (community.docker labels secrets with an unsalted SHA-224), it cannot be checked offline against a list
of guesses without the key.

The key, first found wins: the ``fingerprint_key`` option, ``AGENTAREA_SECRETS_FINGERPRINT_KEY``, the file named
by ``AGENTAREA_SECRETS_FINGERPRINT_KEY_FILE``, else ``~/.config/agentarea-secrets/fingerprint.key``, created with
32 random bytes (0600) on first use. A key file is never created through a symbolic link nor read through one that
another user owns, and a key (file or environment variable) of fewer than 16 bytes is refused. Fingerprints are
comparable only between hosts that share the key.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import hashlib
import hmac
import json
import os

from ansible_collections.agentarea.secrets.plugins.module_utils.core import _fileio
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import InvalidOption

PREFIX = 'hmac-sha256:'
LENGTH = 32  # hex characters kept: 128 bits
MIN_KEY_BYTES = 16  # a shorter configured key (an empty or truncated file) is refused, not silently weak

DEFAULT_KEY_FILE = os.path.join('~', '.config', 'agentarea-secrets', 'fingerprint.key')


def _read_key(path):
    """The key in ``path`` (stripped), at least MIN_KEY_BYTES long."""
    fd = _fileio.open_for_read(path, backend='fingerprint')  # a link only if root or we own it
    with os.fdopen(fd, 'rb') as handle:
        data = handle.read().strip()
    if len(data) < MIN_KEY_BYTES:
        raise InvalidOption('the fingerprint key file %s holds fewer than %d bytes, too weak a key for HMAC; '
                            'remove it to have a new random key created, or write at least 32 random bytes to it'
                            % (path, MIN_KEY_BYTES), backend='fingerprint')
    return data


def _load_or_create(path):
    path = os.path.expanduser(path)
    try:
        return _read_key(path)
    except (IOError, OSError) as exc:
        if exc.errno != errno.ENOENT:
            raise _fileio.file_error(exc, path, backend='fingerprint')
    key = os.urandom(32).hex().encode('ascii')
    tmp = '%s.%d.%s.tmp' % (path, os.getpid(), os.urandom(4).hex())
    try:
        fd = _fileio.safe_open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600, create_dirs=True,
                               backend='fingerprint')
        with os.fdopen(fd, 'wb') as handle:
            handle.write(key)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, path)  # never replace a key (or anything else) another process put there first
        except OSError as exc:
            if exc.errno != errno.EEXIST:
                raise
        finally:
            os.unlink(tmp)
        return _read_key(path)
    except (IOError, OSError) as exc:
        raise _fileio.file_error(exc, path, backend='fingerprint')


def resolve_key(key=None, environ=None):
    env = os.environ if environ is None else environ
    if key:
        return key.encode('utf-8') if isinstance(key, str) else key
    if env.get('AGENTAREA_SECRETS_FINGERPRINT_KEY'):
        key = env['AGENTAREA_SECRETS_FINGERPRINT_KEY'].encode('utf-8')
        if len(key) < MIN_KEY_BYTES:
            raise InvalidOption('AGENTAREA_SECRETS_FINGERPRINT_KEY is shorter than %d bytes, too weak a key for HMAC'
                                % MIN_KEY_BYTES, backend='fingerprint')
        return key
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
