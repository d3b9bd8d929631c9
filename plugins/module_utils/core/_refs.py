# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secret references: one parser and one formatter for every backend.

    scheme://location[#key][?param=value&...]      (``?`` may also come before ``#``)

Examples::

    vault://secret/agentarea/database#url?version=3
    aws://agentarea/prod/database#password?stage=AWSCURRENT
    azure://agentarea-vault/database-url?version=<id>
    gcp://my-project/database-url?version=latest
    k8s://agentarea/agentarea-secrets#database-url
    pass://agentarea/database-url
    dotenv://.env.local#DATABASE_URL
    file:///run/secrets/db_password
    env://DATABASE_URL
    docker://db_password

Components are percent-decoded, so a ``#``, ``?`` or ``/`` inside a name is written ``%23``, ``%3F``, ``%2F``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    from urllib.parse import quote, unquote
except ImportError:  # pragma: no cover - Python 2 is not supported, kept for the import sanity test
    from urllib import quote, unquote  # type: ignore

from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import InvalidReference


class _Scheme:
    """What a scheme's location looks like."""

    def __init__(self, min_parts=1, max_parts=None, params=('version',), path_like=False, what='name'):
        self.min_parts = min_parts
        self.max_parts = max_parts
        self.params = frozenset(params)
        self.path_like = path_like  # a file system path: kept as written (absolute or relative)
        self.what = what


SCHEMES = {
    'vault': _Scheme(2, params=('version', 'kv_version', 'mount'), what='mount/path'),
    'aws': _Scheme(1, params=('version', 'stage', 'bypath', 'nested'), what='secret name, path or ARN'),
    'ssm': _Scheme(1, params=('version', 'label', 'bypath', 'recursive'), what='parameter name, path or ARN'),
    'azure': _Scheme(2, 2, params=('version',), what='vault/name'),
    'gcp': _Scheme(2, 2, params=('version',), what='project/name'),
    'k8s': _Scheme(2, 2, params=(), what='namespace/name'),
    'pass': _Scheme(1, params=(), what='entry'),
    'dotenv': _Scheme(1, params=(), path_like=True, what='path'),
    'file': _Scheme(1, params=(), path_like=True, what='path'),
    'env': _Scheme(1, 1, params=(), what='variable name'),
    'docker': _Scheme(1, 1, params=(), what='secret name'),
}


class SecretRef:
    """A parsed reference. Immutable and hashable; ``str(ref)`` gives the canonical form."""

    __slots__ = ('scheme', 'location', 'key', 'params')

    def __init__(self, scheme, location, key=None, params=None):
        object.__setattr__(self, 'scheme', scheme)
        object.__setattr__(self, 'location', location)
        object.__setattr__(self, 'key', key if key not in ('',) else None)
        items = tuple(sorted((str(k), str(v)) for k, v in (params or {}).items() if v is not None))
        object.__setattr__(self, 'params', items)

    def __setattr__(self, name, value):
        raise AttributeError('SecretRef is immutable')

    @property
    def parts(self):
        """The location's segments (``namespace/name`` -> ``['namespace', 'name']``)."""
        return [p for p in self.location.split('/') if p]

    def param(self, name, default=None):
        for k, v in self.params:
            if k == name:
                return v
        return default

    @property
    def version(self):
        return self.param('version')

    def replace(self, **changes):
        """A copy with some fields changed; ``params`` given as a dict merges (a ``None`` value removes)."""
        params = dict(self.params)
        params.update(changes.pop('params', {}) or {})
        fields = {'scheme': self.scheme, 'location': self.location, 'key': self.key}
        fields.update(changes)
        return SecretRef(fields['scheme'], fields['location'], fields['key'],
                         dict((k, v) for k, v in params.items() if v is not None))

    def without_key(self):
        return self.replace(key=None)

    def __eq__(self, other):
        return isinstance(other, SecretRef) and self._tuple() == other._tuple()

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash(self._tuple())

    def _tuple(self):
        return (self.scheme, self.location, self.key, self.params)

    def __repr__(self):
        return 'SecretRef(%r)' % str(self)

    def __str__(self):
        spec = SCHEMES.get(self.scheme)
        if spec is not None and spec.path_like:
            loc = quote(self.location, safe="/.~_-+:@=,")
        else:
            loc = '/'.join(quote(p, safe=".~_-+:@=,") for p in self.location.split('/'))
        text = '%s://%s' % (self.scheme, loc)
        if self.key is not None:
            text += '#' + quote(self.key, safe="/.~_-+:@=,")
        if self.params:
            text += '?' + '&'.join('%s=%s' % (k, quote(v, safe=".~_-+:@,/")) for k, v in self.params)
        return text


def _split_tail(text):
    """Split ``loc#key?query`` or ``loc?query#key`` into its three parts."""
    key = query = None
    hash_at, q_at = text.find('#'), text.find('?')
    if hash_at >= 0 and (q_at < 0 or hash_at < q_at):
        loc, tail = text[:hash_at], text[hash_at + 1:]
        if '?' in tail:
            key, query = tail.split('?', 1)
        else:
            key = tail
    elif q_at >= 0:
        loc, tail = text[:q_at], text[q_at + 1:]
        if '#' in tail:
            query, key = tail.split('#', 1)
        else:
            query = tail
    else:
        loc = text
    return loc, key, query


def parse_ref(text, default_scheme=None):
    """Parse a reference string; raise :class:`InvalidReference` naming the reference and what is wrong.

    ``default_scheme`` lets a backend's own lookup accept bare locations (``agentarea/database``).
    """
    if isinstance(text, SecretRef):
        return text
    if not isinstance(text, str):
        raise InvalidReference('a reference must be a string, got %s' % type(text).__name__)
    raw = text.strip()
    if not raw:
        raise InvalidReference('the reference is empty', ref="")
    try:
        raw.encode('utf-8')
    except UnicodeEncodeError:
        raise InvalidReference('the reference is not valid UTF-8 text (a lone surrogate)', ref=repr(raw)[:80])
    if '://' in raw:
        scheme, rest = raw.split('://', 1)
        scheme = scheme.lower()
    elif default_scheme:
        scheme, rest = default_scheme, raw
    else:
        raise InvalidReference("not a reference: expected scheme://location (schemes: %s)"
                               % ', '.join(sorted(SCHEMES)), ref=raw)
    spec = SCHEMES.get(scheme)
    if spec is None:
        raise InvalidReference("unknown scheme '%s' (known: %s)" % (scheme, ', '.join(sorted(SCHEMES))), ref=raw)

    loc, key, query = _split_tail(rest)
    params = {}
    if query:
        for item in query.split('&'):
            if not item:
                continue
            if '=' not in item:
                raise InvalidReference("parameter '%s' has no value (write name=value)" % unquote(item), ref=raw)
            name, value = item.split('=', 1)
            name = unquote(name)
            if name not in spec.params:
                allowed = ', '.join(sorted(spec.params)) or 'none'
                raise InvalidReference("unknown parameter '%s' for %s:// (allowed: %s)" % (name, scheme, allowed),
                                       ref=raw)
            if name in params:
                raise InvalidReference("parameter '%s' is given twice" % name, ref=raw)
            params[name] = unquote(value)
            if params[name] == '':
                raise InvalidReference("parameter '%s' is empty" % name, ref=raw)

    if key is not None:
        key = unquote(key)
        if key == '':
            raise InvalidReference("'#' must be followed by a key name", ref=raw)

    if spec.path_like:
        location = unquote(loc)
        if not location:
            raise InvalidReference('%s:// needs a %s' % (scheme, spec.what), ref=raw)
        if '\x00' in location:
            raise InvalidReference('the path contains a NUL byte', ref=raw)
    else:
        segments = [unquote(p) for p in loc.strip('/').split('/')] if loc.strip('/') else []
        if any(s == '' for s in segments):
            raise InvalidReference("empty segment in '%s' (a '//' inside the location)" % loc, ref=raw)
        if len(segments) < spec.min_parts or (spec.max_parts and len(segments) > spec.max_parts):
            raise InvalidReference('%s:// expects %s, got %r' % (scheme, spec.what, loc), ref=raw)
        location = '/'.join(segments)
    return SecretRef(scheme, location, key, params)


def format_ref(ref):
    return str(ref)
