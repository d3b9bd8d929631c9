# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The contract every backend implements, and the value object it returns."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json

from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import (
    InvalidOption,
    InvalidReference,
    NotSupported,
    SecretDeleted,
    SecretNotFound,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.core._refs import parse_ref

#: ``write(..., cas=CAS_CREATE)``: write only if the secret does not exist yet
CAS_CREATE = 'create'

# Capabilities a backend may declare.
CAP_READ = 'read'            # values can be read back
CAP_WRITE = 'write'
CAP_DELETE = 'delete'
CAP_VERSIONS = 'versions'    # old versions are kept and addressable
CAP_STAGES = 'stages'        # named stages such as AWSCURRENT / AWSPENDING
CAP_CAS = 'cas'              # check-and-set writes
CAP_LIST = 'list'
CAP_METADATA = 'metadata'    # tags, labels or custom metadata


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc)


def to_datetime(value):
    """Accept an aware/naive datetime, an epoch number or an ISO 8601 string; return an aware UTC datetime."""
    if value is None or value == '':
        return None
    if isinstance(value, datetime.datetime):
        return value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)
    if isinstance(value, (int, float)):
        return datetime.datetime.fromtimestamp(value, datetime.timezone.utc)
    text = str(value).strip()
    if text.endswith('Z'):
        text = text[:-1] + '+00:00'
    # Vault and Kubernetes give nanoseconds; fromisoformat takes at most microseconds on old Pythons.
    if '.' in text:
        head, frac = text.split('.', 1)
        digits = ''.join(ch for ch in frac if ch.isdigit())
        rest = frac[len(digits):]
        text = '%s.%s%s' % (head, (digits + '000000')[:6], rest)
    try:
        parsed = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.timezone.utc)


def iso(value):
    value = to_datetime(value)
    return value.isoformat().replace('+00:00', 'Z') if value else None


def decode_structured(value):
    """A string that holds a JSON object becomes a dict; everything else is returned as it is."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith('{') and text.endswith('}'):
            try:
                parsed = json.loads(text)
            except ValueError:
                return value
            if isinstance(parsed, dict):
                return parsed
    return value


def encode_value(value):
    """How a structured value is stored in a backend that holds one string: compact, sorted JSON."""
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, separators=(',', ':'))
    return value


def select_path(data, path, ref=None, backend=None):
    """The part of ``data`` (a decoded JSON value) at the dotted ``path``; a missing step is SecretNotFound naming
    the path walked so far and the keys that were there (never a value)."""
    walked = []
    for step in path.split('.'):
        where = "'%s'" % '.'.join(walked) if walked else 'the secret'
        if isinstance(data, dict) and step in data:
            data = data[step]
        elif isinstance(data, list) and step.isdigit() and int(step) < len(data):
            data = data[int(step)]
        elif isinstance(data, (dict, list)):
            have = ', '.join(sorted(str(k) for k in data)) if isinstance(data, dict) else '%d items' % len(data)
            raise SecretNotFound("%s has no '%s' (the nested path '%s'; it has: %s)"
                                 % (where, step, path, have or 'none'), ref=ref, backend=backend)
        else:
            raise InvalidReference("the nested path '%s' goes into %s, which is a single value, not a map or a JSON "
                                   "object" % (path, where), ref=ref, backend=backend)
        walked.append(step)
    return data


class Secret:
    """A value with its metadata. ``repr`` never shows the value.

    ``value`` is a string, bytes, or a dict (map secrets, or JSON objects). ``version`` is the backend's version
    identifier as a string (or None), ``created``/``updated`` aware datetimes, ``metadata`` a dict of
    value-free facts (tags, labels, stages, lease ids ...).
    """

    __slots__ = ('value', 'version', 'created', 'updated', 'metadata')

    def __init__(self, value=None, version=None, created=None, updated=None, metadata=None):
        self.value = value
        self.version = None if version is None else str(version)
        self.created = to_datetime(created)
        self.updated = to_datetime(updated) or self.created
        self.metadata = dict(metadata or {})

    def __repr__(self):
        return 'Secret(version=%r, keys=%r)' % (
            self.version, sorted(self.value) if isinstance(self.value, dict) else None)

    def select(self, key, ref=None, backend=None, nested=False):
        """The whole value (a dict for JSON objects), or one field of it; ``nested``: ``key`` is a dotted path into
        the JSON (``database.primary.password``; a number indexes a list)."""
        data = decode_structured(self.value)
        if key is None:
            return data
        if nested:
            return select_path(data, key, ref=ref, backend=backend)
        if not isinstance(data, dict):
            raise InvalidReference("'#%s' selects a field, but the secret is a single value, not a map or a JSON "
                                   "object" % key, ref=ref, backend=backend)
        if key not in data:
            raise SecretNotFound("the secret has no key '%s' (keys: %s)" % (key, ', '.join(sorted(data)) or 'none'),
                                 ref=ref, backend=backend)
        return data[key]

    def describe(self):
        """The value-free part, for module results."""
        now = utc_now()
        return {
            'version': self.version,
            'created': iso(self.created),
            'updated': iso(self.updated),
            'age_days': round((now - self.updated).total_seconds() / 86400.0, 3) if self.updated else None,
            'metadata': self.metadata,
        }

    def to_dict(self):
        """Serialisable form, value included: only for the encrypted run cache."""
        value = self.value
        if isinstance(value, bytes):
            value = {'__bytes__': value.hex()}
        return {'value': value, 'version': self.version, 'created': iso(self.created),
                'updated': iso(self.updated), 'metadata': self.metadata}

    @classmethod
    def from_dict(cls, data):
        value = data.get('value')
        if isinstance(value, dict) and list(value) == ['__bytes__']:
            value = bytes.fromhex(value['__bytes__'])
        return cls(value, data.get('version'), data.get('created'), data.get('updated'), data.get('metadata'))


class SecretBackend:
    """Base class of the backends.

    Subclasses set ``NAME`` (also the scheme), ``ARGSPEC`` (connection and auth options in Ansible argument-spec
    form: the single source for module argspecs; lookups document the same names), ``ENV`` (option -> the
    store's native environment variables, read when the option is not set), ``CAPABILITIES``, and implement
    the operations they support. Construction does no I/O; :meth:`client` connects once and is cached.
    """

    NAME = None
    ARGSPEC = {}
    ENV = {}
    CAPABILITIES = frozenset((CAP_READ,))
    #: a lookup's term is a location inside this scheme (``agentarea/database`` for vault)
    SCHEME = None

    def __init__(self, options=None, environ=None):
        import os
        env = os.environ if environ is None else environ
        options = options or {}
        self.options = {}
        for name, spec in self.ARGSPEC.items():
            value = options.get(name)
            if value is None:
                for var in self.ENV.get(name, ()):
                    if env.get(var) not in (None, ''):
                        value = env[var]
                        break
            if value is None:
                value = spec.get('default')
            self.options[name] = value
        self._client = None

    # -- connection -------------------------------------------------------------------------------------------
    def validate(self):
        """Check options without touching the network; raise InvalidOption."""

    def identity(self):
        """Who talks to which store: the cache key of clients and of values. Never contains a credential."""
        return self.NAME

    def client(self):
        if self._client is None:
            self.validate()
            self._client = self.connect()
        return self._client

    def connect(self):
        return None

    def close(self):
        self._client = None

    #: set by the lookup base to the run cache (get/put/lock/on_finish), or None; backends keep logins there
    cache = None
    #: whether values read through this backend may be kept in the run cache at all
    CACHEABLE = True

    def freshness(self, ref):
        """A cheap token that changes when the stored secret changes without a new version (a file's inode,
        size and mtime). A cached value whose token differs is read again. None: no such check."""
        return None

    @classmethod
    def preload(cls):
        """Called in the controller's main process (the run_cache callback) before workers fork, after the SDK's
        modules are imported: warm what every worker would otherwise build again (parsed SDK data). Never
        credentials or connections: the main process does not know them, and sockets must not cross a fork."""
        return None

    @classmethod
    def cleanup_run(cls, record):
        """Undo at the end of a run what ``record`` (registered with ``cache.on_finish``) describes."""
        return None

    # -- references ---------------------------------------------------------------------------------------------
    def ref_from_term(self, term, key=None, version=None, **params):
        """A reference for a term of this backend's own lookup (a bare location or a full reference)."""
        ref = parse_ref(term, default_scheme=self.SCHEME or self.NAME)
        if ref.scheme != (self.SCHEME or self.NAME):
            raise InvalidReference("this lookup reads %s:// references only; use agentarea.secrets.secret for "
                                   "others" % (self.SCHEME or self.NAME), ref=term, backend=self.NAME)
        changes = {}
        if key is not None and ref.key is None:
            changes['key'] = key
        merged = dict((k, v) for k, v in params.items() if v is not None and ref.param(k) is None)
        if version is not None and ref.version is None:
            merged['version'] = str(version)
        if merged:
            changes['params'] = merged
        return ref.replace(**changes) if changes else ref

    # -- operations -------------------------------------------------------------------------------------------
    def _unsupported(self, what, ref=None):
        raise NotSupported('%s is not supported by the %s backend' % (what, self.NAME), ref=ref, backend=self.NAME)

    def read(self, ref):
        """Return a :class:`Secret` with the value (``ref.key`` is applied by the caller)."""
        self._unsupported('reading', ref)

    def read_many(self, refs):
        """Read several references; backends with a batch API override this. Returns a list of Secret or
        SecretError, in order (errors are returned, not raised, so one missing term does not hide the others)."""
        from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import SecretError
        out = []
        for ref in refs:
            try:
                out.append(self.read(ref))
            except SecretError as exc:
                out.append(exc)
        return out

    def select(self, secret, ref):
        """The part of ``secret`` that ``ref`` asks for (``#key``); backends with their own field rules override."""
        return secret.select(ref.key, ref=ref, backend=self.NAME)

    def describe(self, ref):
        """Metadata without the value (versions, times, tags); raise SecretNotFound when missing."""
        secret = self.read(ref)
        return Secret(None, secret.version, secret.created, secret.updated, secret.metadata)

    def write(self, ref, value, cas=None, metadata=None):
        """Store ``value`` (str, bytes or dict) and return the new Secret (value may be omitted).

        With ``ref.key`` only that field of a map secret changes, the others are kept. ``cas`` is the version the
        caller read (or CAS_CREATE): the write fails with SecretConflict when the store moved on. ``metadata`` is
        a dict of tags/labels to set with the value (``Secret.metadata['tags']`` when read)."""
        self._unsupported('writing', ref)

    def delete(self, ref, **kwargs):
        """Delete the secret (or the ``#key`` field of it); return True when something was deleted."""
        self._unsupported('deleting', ref)

    def property_changes(self, secret):
        """``{property: (now, wanted)}`` for store properties set by options (Azure's content type and expiry) that
        differ from ``secret``'s; :meth:`set_tags` applies them. None here."""
        return {}

    def set_tags(self, ref, tags):
        """Replace the secret's tags/labels/custom metadata (``Secret.metadata['tags']``) without a new value."""
        self._unsupported('tags', ref)

    def list(self, prefix=''):
        self._unsupported('listing')

    def versions(self, ref):
        """A list of dicts: version, created, and backend facts (stages, state), newest last."""
        self._unsupported('listing versions', ref)

    def require(self, capability, ref=None):
        if capability not in self.CAPABILITIES:
            self._unsupported(capability, ref)

    def invalid(self, message, ref=None):
        return InvalidOption(message, ref=ref, backend=self.NAME)


class Observed:
    """What a store holds at a reference, told without the value leaving the caller: ``state`` is ``present``,
    ``missing`` (no secret, or no ``#key`` in it) or ``deleted``; ``secret`` is the secret read (metadata included)
    whenever one exists, even when its ``#key`` does not; ``value`` the selected value where the store returns
    values; ``fingerprint`` that value's fingerprint, or the one a write-only store keeps in its metadata (Docker's
    label), or None."""

    __slots__ = ('secret', 'value', 'fingerprint', 'state')

    def __init__(self, secret=None, value=None, fingerprint=None, state='missing'):
        self.secret, self.value, self.fingerprint, self.state = secret, value, fingerprint, state

    @property
    def exists(self):
        return self.state == 'present'

    def __repr__(self):
        return 'Observed(state=%r, secret=%r)' % (self.state, self.secret)


def observe(backend, ref, fp):
    """Read ``ref`` once and say what is there: the one "read, select the key, fingerprint it (or take the store's
    fingerprint label where it cannot return values)" that modules, distribution and reports share. ``fp`` turns a
    value into its fingerprint. Missing and deleted secrets are states; every other error (access denied, a store
    that is down or misconfigured) is raised."""
    try:
        if CAP_READ not in backend.CAPABILITIES:
            secret = backend.describe(ref)
            return Observed(secret, None, secret.metadata.get('fingerprint'), 'present')
        secret = backend.read(ref.without_key())
    except SecretNotFound:
        return Observed()
    except SecretDeleted:
        return Observed(state='deleted')
    try:
        value = backend.select(secret, ref)
    except SecretNotFound:
        return Observed(secret)
    return Observed(secret, value, fp(value), 'present')
