# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``ssm://<name>[#key][?version=<n>|label=<label>][?bypath=true&recursive=true]``: AWS Systems Manager Parameter Store.

Names: a location with a slash is a hierarchical name, which SSM only knows fully qualified, so
``ssm://agentarea/db/password`` and ``ssm:///agentarea/db/password`` are both the parameter
``/agentarea/db/password``; a location without a slash is a top-level name as written (``ssm://db_password``). An ARN
(``ssm://arn:aws:ssm:eu-west-1:123456789012:parameter/agentarea/db/password``) is passed on as it is. (A one-level
name that starts with a slash, ``/db_password``, is another parameter than ``db_password`` in SSM and cannot be
named by a reference: use a hierarchy or no slash.)

``?version=`` or ``?label=`` select one version (SSM's ``name:version`` / ``name:label`` selector); a write with
``?label=`` labels the version it creates. ``?bypath=true`` reads every parameter under the path (``&recursive=true``:
the whole tree below it) as one dict ``{full name: value}``, page by page.

SecureString values are always read decrypted (``WithDecryption``); ``ssm_key_id`` is the KMS key of what is
written. Credentials, sessions, retries and the error mapping of AWS are the ``aws`` package's (``_auth.py``); the
SSM error codes are mapped once, in :func:`ssm_error`.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.agentarea.secrets.plugins.module_utils.core._backend import (
    CAP_CAS, CAP_DELETE, CAP_LIST, CAP_METADATA, CAP_READ, CAP_VERSIONS, CAP_WRITE, CAS_CREATE,
    Secret, SecretBackend, iso, utc_now,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import (
    BackendUnavailable, InvalidOption, InvalidReference, NotSupported, SecretConflict, SecretError, SecretNotFound,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.backends.aws._auth import (
    RETRY_MODES, botocore_config, context_of, error_code, make_session, to_error, who,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.backends.aws._backend import AwsBackend
from ansible_collections.agentarea.secrets.plugins.module_utils.backends._cloud import (
    flag, flag_params, stored_text, string_tags, with_field, without_field,
)

TYPES = ('String', 'StringList', 'SecureString')
TIERS = ('Standard', 'Advanced', 'Intelligent-Tiering')
PAGE = 10  # GetParametersByPath and GetParameters take at most 10

#: the AWS connection options, declared as the aws backend declares them (one set of credentials for both stores)
CONNECTION = ('region', 'profile', 'access_key', 'secret_key', 'session_token', 'assume_role_arn',
              'assume_role_session_name', 'endpoint_url', 'ssm_endpoint_url', 'timeout', 'retries', 'retry_mode')
_ARGSPEC = dict((name, dict(AwsBackend.ARGSPEC[name])) for name in CONNECTION if name in AwsBackend.ARGSPEC)
_ARGSPEC.update({
    'ssm_endpoint_url': {'type': 'str'},
    'ssm_type': {'type': 'str', 'choices': list(TYPES)},
    'ssm_tier': {'type': 'str', 'choices': list(TIERS)},
    'ssm_key_id': {'type': 'str', 'no_log': False},
    'ssm_overwrite': {'type': 'bool', 'default': True},
    'description': dict(AwsBackend.ARGSPEC['description']),  # one option for both AWS stores
})
_ENV = dict((name, tuple(AwsBackend.ENV[name])) for name in CONNECTION if name in AwsBackend.ENV and name != 'endpoint_url')
_ENV['ssm_endpoint_url'] = ('ANSIBLE_AGENTAREA_SECRETS_SSM_ENDPOINT_URL', 'AWS_ENDPOINT_URL_SSM')

_MISSING = ('ParameterNotFound', 'ParameterVersionNotFound', 'InvalidResourceId')
_REFUSED = ('ParameterVersionLabelLimitExceeded', 'ParameterMaxVersionLimitExceeded', 'ParameterLimitExceeded',
            'HierarchyLevelLimitExceededException', 'HierarchyTypeMismatchException', 'UnsupportedParameterType',
            'ParameterPatternMismatchException', 'InvalidAllowedPatternException', 'IncompatiblePolicyException',
            'InvalidPolicyTypeException', 'InvalidPolicyAttributeException', 'PoliciesLimitExceededException',
            'TooManyTagsError', 'InvalidFilterValue', 'InvalidFilterKey', 'InvalidFilterOption')


def ssm_error(exc, ref, action, context=None):
    """The one mapping of an SSM exception to a typed error: SSM's own codes here, everything AWS shares (denied,
    throttled, timeouts, credentials, regions) through the aws package's ``to_error``. Never AWS's message (it may
    echo a request value), except for denials, which name the principal and action."""
    if isinstance(exc, SecretError):
        return exc
    code = error_code(exc)
    where = dict(ref=ref, backend='ssm')
    if code in _MISSING:
        return SecretNotFound('%s: no such parameter, or no version or label by that name (%s)' % (action, code),
                              **where)
    if code == 'ParameterAlreadyExists':
        return SecretConflict('%s: the parameter exists already (created meanwhile?)' % action, **where)
    if code == 'InvalidKeyId':
        return InvalidOption('%s: KMS refused the key (%s): check ssm_key_id and kms:Encrypt/kms:Decrypt on it'
                             % (action, code), **where)
    if code == 'TooManyUpdates':
        error = BackendUnavailable('%s: too many concurrent updates of the parameter (TooManyUpdates); try again '
                                   'later' % action, **where)
        error.store_down = True
        return error
    if code in _REFUSED:
        return InvalidReference('%s: Parameter Store refused the request (%s)' % (action, code), **where)
    return to_error(exc, ref, action, 'ssm', context=context)


class SsmBackend(SecretBackend):
    NAME = 'ssm'
    #: stores of one family share their options (one AWS identity), so ``region`` is no per-store option
    FAMILY = 'aws'
    CAPABILITIES = frozenset((CAP_READ, CAP_WRITE, CAP_DELETE, CAP_VERSIONS, CAP_CAS, CAP_LIST, CAP_METADATA))
    ARGSPEC = _ARGSPEC
    CONNECTION = CONNECTION
    ENV = _ENV

    def __init__(self, options=None, environ=None):
        super(SsmBackend, self).__init__(options, environ)
        self._environ = os.environ if environ is None else environ

    # -- connection -------------------------------------------------------------------------------------------
    def validate(self):
        o = self.options
        if bool(o.get('access_key')) != bool(o.get('secret_key')):
            raise self.invalid('access_key and secret_key must be given together')
        if o.get('session_token') and not o.get('access_key'):
            raise self.invalid('session_token needs access_key and secret_key')
        for name, low in (('timeout', 1), ('retries', 0)):
            try:
                o[name] = int(o.get(name) if o.get(name) is not None else self.ARGSPEC[name]['default'])
            except (TypeError, ValueError):
                raise self.invalid('%s must be an integer' % name)
            if o[name] < low:
                raise self.invalid('%s must be at least %d' % (name, low))
        for name, allowed in (('retry_mode', RETRY_MODES), ('ssm_type', TYPES), ('ssm_tier', TIERS)):
            if o.get(name) not in (None, '') + tuple(allowed):
                raise self.invalid('%s must be one of %s' % (name, ', '.join(allowed)))
        if o.get('ssm_key_id') and o.get('ssm_type') not in (None, '', 'SecureString'):
            raise self.invalid('ssm_key_id encrypts SecureString parameters only (ssm_type is %s)' % o['ssm_type'])

    def endpoint(self):
        """``ssm_endpoint_url`` (or its variables), else ``endpoint_url`` as given (one emulator serving every
        service), else boto3's own resolution (AWS_ENDPOINT_URL_SSM, AWS_ENDPOINT_URL, the region's)."""
        return self.options.get('ssm_endpoint_url') or self.options.get('endpoint_url') or None

    def identity(self):
        o = self.options
        parts = ('ssm', o.get('region'), self.endpoint(), who(o, self._environ), o.get('assume_role_arn'))
        return '|'.join(str(x or '') for x in parts)

    def connect(self):
        try:
            session = make_session(self.options, self.cache, self.identity(), self._environ)
            return session.client('ssm', endpoint_url=self.endpoint(), config=botocore_config(self.options, self._environ))
        except Exception as exc:  # pylint: disable=broad-except
            raise self._error(exc, None, 'connecting')

    def _error(self, exc, ref, action):
        return ssm_error(exc, ref, action, context=context_of(self.options, self._environ))

    def _call(self, ref, action, method, **kwargs):
        client = self.client()
        try:
            return getattr(client, method)(**kwargs)
        except Exception as exc:  # pylint: disable=broad-except
            raise self._error(exc, ref, action)

    def _pages(self, ref, action, method, key, **kwargs):
        token = None
        while True:
            resp = self._call(ref, action, method, **dict(kwargs, NextToken=token) if token else kwargs)
            yield from resp.get(key) or []
            token = resp.get('NextToken')
            if not token:
                return

    # -- references ---------------------------------------------------------------------------------------------
    def ref_from_term(self, term, key=None, version=None, **params):
        """A lookup term; the ``label``, ``bypath`` and ``recursive`` options become reference parameters."""
        flag_params(params, 'bypath', 'recursive')
        if params.get('label') in ('', None):
            params.pop('label', None)
        return super(SsmBackend, self).ref_from_term(term, key=key, version=version, **params)

    @staticmethod
    def name_of(ref):
        """The SSM name of a reference: hierarchical names fully qualified, top-level names and ARNs as written."""
        loc = ref.location
        if loc.startswith('arn:') or '/' not in loc:
            return loc
        return '/' + loc

    def _selector(self, ref):
        """``name``, ``name:version`` or ``name:label`` (SSM's selector syntax)."""
        version, label = ref.version, ref.param('label')
        if version is not None and label is not None:
            raise InvalidReference('?version= and ?label= exclude each other', ref=ref, backend=self.NAME)
        if version is not None and not str(version).isdigit():
            raise InvalidReference('?version= is a parameter version number', ref=ref, backend=self.NAME)
        if label is not None and (label[:1].isdigit() or ':' in label or label.lower().startswith(('aws', 'ssm'))):
            raise InvalidReference('?label= is a label name (it cannot start with a digit, aws or ssm, nor hold '
                                   'a colon)', ref=ref, backend=self.NAME)
        chosen = version if version is not None else label
        return self.name_of(ref) + (':%s' % chosen if chosen is not None else '')

    @staticmethod
    def _bypath(ref):
        return flag(ref.param('bypath'))

    # -- reading ------------------------------------------------------------------------------------------------
    @staticmethod
    def _secret(param):
        facts = {'name': param.get('Name'), 'arn': param.get('ARN'), 'type': param.get('Type'),
                 'data_type': param.get('DataType'), 'selector': param.get('Selector')}
        return Secret(param.get('Value'), param.get('Version'), None, param.get('LastModifiedDate'),
                      dict((k, v) for k, v in facts.items() if v is not None))

    def _get(self, ref):
        resp = self._call(ref, 'reading', 'get_parameter', Name=self._selector(ref), WithDecryption=True)
        return self._secret(resp['Parameter'])

    def _describe(self, ref, name=None):
        """DescribeParameters of one name (tier, KMS key, description, policies), or None when it is missing."""
        name = name or self.name_of(ref)
        if name.startswith('arn:'):
            return None  # DescribeParameters filters by name only
        resp = self._call(ref, 'describing', 'describe_parameters',
                          ParameterFilters=[{'Key': 'Name', 'Option': 'Equals', 'Values': [name]}])
        found = [p for p in resp.get('Parameters') or [] if p.get('Name') == name]
        return found[0] if found else None

    def _tags(self, ref, name):
        resp = self._call(ref, 'reading tags', 'list_tags_for_resource', ResourceType='Parameter', ResourceId=name)
        return dict((t['Key'], t['Value']) for t in resp.get('TagList') or [])

    def _add_facts(self, secret, ref):
        name = secret.metadata.get('name') or self.name_of(ref)
        desc = self._describe(ref, name) or {}
        secret.metadata.update({
            'tags': self._tags(ref, name),
            'tier': desc.get('Tier'), 'key_id': desc.get('KeyId'), 'description': desc.get('Description'),
            'current_version': str(desc['Version']) if desc.get('Version') is not None else None,
            'policies': [p.get('PolicyText') for p in desc.get('Policies') or []],
        })
        return secret

    def read(self, ref):
        """The value at the version or label the reference names (SecureString decrypted), with the parameter's
        tags, tier and KMS key; with ``?bypath=true`` every parameter under the path (see :meth:`read_path`)."""
        if self._bypath(ref):
            return self.read_path(ref)
        return self._add_facts(self._get(ref), ref)

    def read_path(self, ref):
        """``{full name: value}`` of the parameters under the reference's path (``?recursive=true``: the whole tree),
        SecureStrings decrypted, read 10 at a time. A path that holds none is missing: an empty dict would be a run
        that read nothing."""
        if ref.version is not None or ref.param('label') is not None:
            raise InvalidReference('?bypath= reads the current versions: remove ?version=/?label=', ref=ref,
                                   backend=self.NAME)
        path = '/' + ref.location.strip('/')
        recursive = flag(ref.param('recursive'))
        values, versions = {}, {}
        for param in self._pages(ref, 'reading by path', 'get_parameters_by_path', 'Parameters', Path=path,
                                 Recursive=recursive, WithDecryption=True, MaxResults=PAGE):
            values[param['Name']] = param.get('Value')
            versions[param['Name']] = str(param.get('Version'))
        if not values:
            scope = '' if recursive else ' (recursive=false: direct children only)'
            raise SecretNotFound('reading by path: no parameters under %s%s' % (path, scope), ref=ref, backend=self.NAME)
        return Secret(values, None, None, None, {'path': path, 'recursive': recursive, 'versions': versions})

    def read_many(self, refs):
        """Lookups: current values of plain names 10 per GetParameters call (without tags); versions, labels, ARNs,
        paths and whatever the batch did not answer are read one by one for a typed error. Once the store is
        unavailable, the remaining references get that error without being tried again."""
        out = [None] * len(refs)
        plain = [i for i, ref in enumerate(refs) if not self._bypath(ref) and ref.version is None
                 and ref.param('label') is None and not ref.location.startswith('arn:')]
        names = sorted(set(self.name_of(refs[i]) for i in plain))
        found, invalid = {}, set()
        if len(names) > 1:
            for start in range(0, len(names), PAGE):
                try:
                    resp = self.client().get_parameters(Names=names[start:start + PAGE], WithDecryption=True)
                except Exception:  # pylint: disable=broad-except
                    continue  # read one by one below, for the typed error
                for param in resp.get('Parameters') or []:
                    found[param.get('Name')] = param
                invalid.update(resp.get('InvalidParameters') or [])
        down = None
        for i, ref in enumerate(refs):
            name = self.name_of(ref)
            if i in plain and name in found:
                out[i] = self._secret(found[name])
                continue
            if i in plain and name in invalid:
                out[i] = SecretNotFound('reading: no such parameter', ref=ref, backend=self.NAME)
                continue
            if down is not None:
                out[i] = BackendUnavailable('not read: %s' % down.cause, ref=ref, backend=self.NAME)
                continue
            try:
                out[i] = self.read_path(ref) if self._bypath(ref) else self._get(ref)
            except SecretError as exc:
                out[i] = exc
                if getattr(exc, 'store_down', False):
                    down = exc
        return out

    # -- writing ------------------------------------------------------------------------------------------------
    def _current(self, ref):
        try:
            return self._get(ref.without_key().replace(params={'version': None, 'label': None}))
        except SecretNotFound:
            return None

    def _writable(self, ref):
        if self._bypath(ref):
            raise InvalidReference('?bypath= reads a path; a write names one parameter', ref=ref, backend=self.NAME)
        if ref.version is not None:
            raise InvalidReference('a write creates a new version: remove ?version= (?label= labels the new one)',
                                   ref=ref, backend=self.NAME)
        self._selector(ref)  # validates ?label=

    def write(self, ref, value, cas=None, metadata=None):
        """PutParameter: a new parameter (type ``ssm_type`` or SecureString, ``ssm_tier``, ``ssm_key_id``, tags with
        it) or a new version of an existing one (``Overwrite``; its type kept unless ``ssm_type`` says otherwise).
        ``cas``: CAS_CREATE (only if missing: ``Overwrite=false``, so SSM itself refuses a parameter created
        meanwhile) or the version that must still be current (checked just before writing: SSM has no
        conditional update). ``ssm_overwrite: false`` refuses to replace an existing value. ``metadata``: tags (None
        keeps them). ``?label=`` labels the new version. Returns the new version."""
        self._writable(ref)
        name = self.name_of(ref)
        current = self._current(ref)
        if current is not None and cas == CAS_CREATE:
            raise SecretConflict('the parameter exists already (version %s)' % current.version, ref=ref,
                                 backend=self.NAME)
        if cas not in (None, CAS_CREATE) and (current is None or current.version != str(cas)):
            raise SecretConflict('the parameter changed since it was read (version %s now, expected %s)'
                                 % (current.version if current else 'none', cas), ref=ref, backend=self.NAME)
        if current is not None and not self.options.get('ssm_overwrite', True):
            raise SecretConflict('the parameter exists (version %s) and ssm_overwrite is false' % current.version,
                                 ref=ref, backend=self.NAME)
        if ref.key is not None:
            text = with_field(current.value if current else None, ref.key, value, ref, self.NAME)
        else:
            text = stored_text(value)
        if isinstance(text, bytes):
            raise NotSupported('Parameter Store holds text only: store binary values base64-encoded', ref=ref,
                               backend=self.NAME)
        kwargs = self._put_kwargs(name, text, current)
        if current is None and metadata:
            kwargs['Tags'] = [{'Key': k, 'Value': v} for k, v in sorted(string_tags(metadata).items())]
        resp = self._call(ref, 'writing' if current else 'creating', 'put_parameter', **kwargs)
        version = str(resp.get('Version'))
        if current is not None and metadata is not None:
            self._apply_tags(ref, name, metadata)
        label = ref.param('label')
        if label:
            self._call(ref, 'labelling', 'label_parameter_version', Name=name, ParameterVersion=int(version),
                       Labels=[label])
        return Secret(None, version, None, utc_now(),
                      {'name': name, 'tier': resp.get('Tier'), 'labels': [label] if label else [],
                       'previous_version': current.version if current else None})

    def _put_kwargs(self, name, text, current, tier=None):
        o = self.options
        kind = o.get('ssm_type') or (current.metadata.get('type') if current else None) or 'SecureString'
        kwargs = {'Name': name, 'Value': text, 'Type': kind, 'Overwrite': current is not None}
        if kind == 'SecureString' and o.get('ssm_key_id'):
            kwargs['KeyId'] = o['ssm_key_id']
        if tier or o.get('ssm_tier'):
            kwargs['Tier'] = tier or o['ssm_tier']
        if o.get('description') is not None:
            kwargs['Description'] = o['description']
        return kwargs

    def property_changes(self, secret):
        """``{property: (now, wanted)}`` of ``ssm_type``, ``ssm_tier`` (Standard/Advanced; Intelligent-Tiering lets
        AWS choose), ``ssm_key_id`` and ``description`` against the parameter read. :meth:`set_tags` applies them."""
        o, meta, changes = self.options, secret.metadata, {}
        if o.get('ssm_type') and meta.get('type') and o['ssm_type'] != meta['type']:
            changes['type'] = (meta['type'], o['ssm_type'])
        if o.get('ssm_tier') in ('Standard', 'Advanced') and meta.get('tier') and o['ssm_tier'] != meta['tier']:
            changes['tier'] = (meta['tier'], o['ssm_tier'])
        kind = o.get('ssm_type') or meta.get('type')
        key = o.get('ssm_key_id')
        if key and kind == 'SecureString' and not (meta.get('key_id') or '').endswith(key):
            changes['key_id'] = (meta.get('key_id'), key)
        if o.get('description') is not None and (meta.get('description') or '') != o['description']:
            changes['description'] = (meta.get('description'), o['description'])
        return changes

    def _apply_tags(self, ref, name, tags):
        current = self._tags(ref, name)
        wanted = string_tags(tags)
        remove = sorted(k for k in current if k not in wanted)
        changed = sorted(k for k in wanted if current.get(k) != wanted[k])
        if remove:
            self._call(ref, 'untagging', 'remove_tags_from_resource', ResourceType='Parameter', ResourceId=name,
                       TagKeys=remove)
        if changed:
            self._call(ref, 'tagging', 'add_tags_to_resource', ResourceType='Parameter', ResourceId=name,
                       Tags=[{'Key': k, 'Value': wanted[k]} for k in changed])
        return bool(remove or changed)

    def set_tags(self, ref, tags):
        """Replace the parameter's tags (no new version); a type, tier, KMS key or description that
        :meth:`property_changes` reports is applied by writing the current value again (a new version with the same
        value: PutParameter is SSM's only way to change them)."""
        self._writable(ref)
        current = self._current(ref)
        if current is None:
            raise SecretNotFound('no such parameter', ref=ref, backend=self.NAME)
        name = self.name_of(ref)
        version = current.version
        self._add_facts(current, ref)
        if self.property_changes(current):
            kwargs = self._put_kwargs(name, current.value, current, tier=self.property_changes(current).get(
                'tier', (None, None))[1])
            version = str(self._call(ref, 'changing type, tier, KMS key or description', 'put_parameter', **kwargs).get('Version'))
        self._apply_tags(ref, name, tags)
        return Secret(None, version, None, None, {'tags': string_tags(tags)})

    def delete(self, ref, **kwargs):
        """DeleteParameter (every version at once: SSM keeps no deleted parameters). With ``#key`` only that field
        of the JSON value goes (a new version). True when something was deleted."""
        self._writable(ref)
        if ref.key is not None:
            current = self._current(ref)
            if current is None:
                return False
            text, existed = without_field(current.value, ref.key, ref, self.NAME)
            if existed:
                self.write(ref.without_key(), text)
            return existed
        try:
            self._call(ref, 'deleting', 'delete_parameter', Name=self.name_of(ref))
        except SecretNotFound:
            return False
        return True

    def versions(self, ref):
        """Every version SSM keeps (the last 100), oldest first, with labels; never a value."""
        rows = []
        for param in self._pages(ref, 'listing versions', 'get_parameter_history', 'Parameters',
                                 Name=self.name_of(ref), WithDecryption=False, MaxResults=50):
            rows.append({'version': str(param.get('Version')), 'created': iso(param.get('LastModifiedDate')),
                         'labels': sorted(param.get('Labels') or []), 'tier': param.get('Tier'),
                         'type': param.get('Type')})
        return sorted(rows, key=lambda r: int(r['version']))

    def list(self, prefix=''):
        """Names (as SSM spells them, fully qualified) that begin with ``prefix`` (``a/b`` is ``/a/b``)."""
        prefix = prefix or ''
        if prefix and '/' in prefix and not prefix.startswith('/'):
            prefix = '/' + prefix
        kwargs = {'ParameterFilters': [{'Key': 'Name', 'Option': 'BeginsWith', 'Values': [prefix]}]} if prefix else {}
        return sorted(p['Name'] for p in self._pages(None, 'listing', 'describe_parameters', 'Parameters',
                                                     MaxResults=50, **kwargs) if p['Name'].startswith(prefix))
