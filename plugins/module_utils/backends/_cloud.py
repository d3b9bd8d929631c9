# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small helpers the three cloud backends (AWS, Azure, GCP) share: fields of JSON secrets, tags, identities.

All three stores hold one string (or bytes) per version; a map is stored as compact sorted JSON, and
``#key`` in a reference reads or writes one field of it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib

from ansible_collections.agentarea.secrets.plugins.module_utils.core._backend import decode_structured, encode_value
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import InvalidReference


_TRUE = ('1', 'true', 'yes', 'on')


def flag(value):
    """A reference parameter such as ``?bypath=`` / ``?recursive=`` (or the lookup option it came from) as a bool."""
    if isinstance(value, bool) or value is None:
        return bool(value)
    return str(value).strip().lower() in _TRUE


def flag_params(params, *names):
    """Lookup options that become reference parameters when true (``bypath=true`` -> ``?bypath=true``); false or
    unset leaves the parameter out, so the run cache keys a plain read the same either way."""
    for name in names:
        if name in params:
            params[name] = 'true' if flag(params[name]) else None
    return params


def as_map(current, ref=None, backend=None):
    """The current value as a dict, for a ``#key`` write (None or empty -> {})."""
    if current is None or current == '':
        return {}
    data = decode_structured(current.decode('utf-8') if isinstance(current, bytes) else current)
    if not isinstance(data, dict):
        raise InvalidReference("'#%s' writes a field of a JSON object, but the secret holds a single value"
                               % (ref.key if ref is not None else ''), ref=ref, backend=backend)
    return dict(data)


def with_field(current, key, value, ref=None, backend=None):
    """The stored text after setting field ``key`` of the JSON object ``current`` to ``value``."""
    data = as_map(current, ref, backend)
    data[key] = value
    return encode_value(data)


def without_field(current, key, ref=None, backend=None):
    """(stored text without field ``key``, whether it was there)."""
    data = as_map(current, ref, backend)
    if key not in data:
        return None, False
    del data[key]
    return encode_value(data), True


def stored_text(value):
    """A value as the one string these stores hold: dicts and lists as JSON, bytes kept as bytes."""
    value = encode_value(value)
    if isinstance(value, (bytes, str)):
        return value
    return str(value)


def string_tags(tags):
    """Tags/labels as a dict of strings (what every store keeps)."""
    return dict((str(k), '' if v is None else str(v)) for k, v in (tags or {}).items())


def hashed(text):
    """A short digest for identities (cache keys). Only ever applied to identifiers such as an access key id or a
    file path, never to a credential's secret part."""
    if not text:
        return ''
    return hashlib.sha256(text.encode('utf-8')).hexdigest()[:16]
