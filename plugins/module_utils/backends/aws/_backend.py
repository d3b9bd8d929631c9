# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``aws://<name or ARN>[#key][?stage=AWSCURRENT|version=<version id>]``: AWS Secrets Manager.

Credentials and error mapping live in ``_aws_auth.py``. Staging labels are first-class for the rotation engine:
:meth:`AwsBackend.put_pending`, :meth:`~AwsBackend.promote`, :meth:`~AwsBackend.clear_pending`,
:meth:`~AwsBackend.pending` and :meth:`~AwsBackend.stages`. Every read names its ``VersionStage`` (or
``VersionId``): moto's server keeps returning the old value for a stage-less read after a promotion, and being
explicit costs nothing against the real service.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import json
import os

from ansible_collections.agentarea.secrets.plugins.module_utils.core._backend import (
    CAP_CAS, CAP_DELETE, CAP_LIST, CAP_METADATA, CAP_READ, CAP_STAGES, CAP_VERSIONS, CAP_WRITE, CAS_CREATE,
    Secret, SecretBackend, iso, to_datetime, utc_now,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import (
    BackendMisconfigured, BackendUnavailable, InvalidReference, SecretConflict, SecretDeleted, SecretError,
    SecretNotFound,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.core._refs import SecretRef
from ansible_collections.agentarea.secrets.plugins.module_utils.backends.aws._auth import (
    DEFAULT_RETRIES, RETRY_MODE_CHOICES, RETRY_MODES, botocore_config, context_of, error_code, is_throttled,
    make_session, to_error, warm, who,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.backends._cloud import (
    flag, flag_params, stored_text, string_tags, with_field, without_field,
)

AWSCURRENT = 'AWSCURRENT'
AWSPENDING = 'AWSPENDING'
AWSPREVIOUS = 'AWSPREVIOUS'
PROPERTY_OPTIONS = ('description', 'resource_policy', 'replica_regions', 'rotation_lambda')
BATCH_SIZE = 20  # BatchGetSecretValue takes at most 20 ids


class AwsBackend(SecretBackend):
    NAME = 'aws'
    CAPABILITIES = frozenset((CAP_READ, CAP_WRITE, CAP_DELETE, CAP_VERSIONS, CAP_STAGES, CAP_CAS, CAP_LIST,
                              CAP_METADATA))
    ARGSPEC = {
        'region': {'type': 'str'},
        'profile': {'type': 'str'},
        'access_key': {'type': 'str', 'no_log': False},
        'secret_key': {'type': 'str', 'no_log': True},
        'session_token': {'type': 'str', 'no_log': True},
        'assume_role_arn': {'type': 'str'},
        'assume_role_session_name': {'type': 'str', 'default': 'agentarea-secrets'},
        'endpoint_url': {'type': 'str'},
        'version_stage': {'type': 'str'},
        'version_id': {'type': 'str'},
        'recovery_window_days': {'type': 'int'},
        'force_delete': {'type': 'bool', 'default': False},
        'kms_key_id': {'type': 'str', 'no_log': False},
        'description': {'type': 'str'},
        'resource_policy': {'type': 'raw'},
        'replica_regions': {'type': 'list', 'elements': 'raw'},
        'binary_encoding': {'type': 'str', 'choices': ['bytes', 'base64']},
        'rotation_lambda': {'type': 'str'},
        'rotation_interval': {'type': 'int'},
        'rotate_lambda_managed': {'type': 'bool', 'default': False},
        'timeout': {'type': 'int', 'default': 30},
        'retries': {'type': 'raw', 'default': DEFAULT_RETRIES},  # declared as the Vault backend declares it (a count here)
        'retry_mode': {'type': 'str', 'choices': RETRY_MODE_CHOICES},
    }
    CONNECTION = ('region', 'profile', 'access_key', 'secret_key', 'session_token', 'assume_role_arn',
                  'assume_role_session_name', 'endpoint_url', 'timeout', 'retries', 'retry_mode')
    _OWN = 'ANSIBLE_AGENTAREA_SECRETS_AWS_'
    ENV = {
        'region': (_OWN + 'REGION', 'AWS_REGION', 'AWS_DEFAULT_REGION'),
        'profile': (_OWN + 'PROFILE', 'AWS_PROFILE'),
        'access_key': (_OWN + 'ACCESS_KEY',),
        'secret_key': (_OWN + 'SECRET_KEY',),
        'session_token': (_OWN + 'SESSION_TOKEN',),
        'assume_role_arn': (_OWN + 'ASSUME_ROLE_ARN',),
        'endpoint_url': (_OWN + 'ENDPOINT_URL', 'AWS_ENDPOINT_URL_SECRETSMANAGER', 'AWS_ENDPOINT_URL'),
        'retries': (_OWN + 'RETRIES',),
        'retry_mode': (_OWN + 'RETRY_MODE', 'AWS_RETRY_MODE'),
    }

    #: Set by a module that creates or deletes the secret it reads (agentarea.secrets.secret): there a region that
    #: holds no secret yet is where the first one goes, not a configuration error.
    creating = False

    def __init__(self, options=None, environ=None):
        super(AwsBackend, self).__init__(options, environ)
        self._environ = os.environ if environ is None else environ
        self._region_holds = None  # whether the region holds any secret (asked once, when a secret is missing)

    # -- connection -------------------------------------------------------------------------------------------
    @classmethod
    def preload(cls):
        warm()

    def validate(self):
        o = self.options
        if bool(o.get('access_key')) != bool(o.get('secret_key')):
            raise self.invalid('access_key and secret_key must be given together')
        if o.get('session_token') and not o.get('access_key'):
            raise self.invalid('session_token needs access_key and secret_key')
        window = o.get('recovery_window_days')
        if window is not None:
            if not 7 <= int(window) <= 30:
                raise self.invalid('recovery_window_days must be between 7 and 30 (AWS limits)')
            if o.get('force_delete'):
                raise self.invalid('recovery_window_days and force_delete exclude each other')
        for name, low in (('timeout', 1), ('retries', 0)):
            try:
                o[name] = int(o.get(name) if o.get(name) is not None else self.ARGSPEC[name]['default'])
            except (TypeError, ValueError):
                raise self.invalid('%s must be an integer' % name)
            if o[name] < low:
                raise self.invalid('%s must be at least %d' % (name, low))
        if o.get('retry_mode') not in (None, '') + RETRY_MODES:
            raise self.invalid('retry_mode must be one of %s' % ', '.join(RETRY_MODES))
        if o.get('resource_policy') not in (None, '', {}):
            self._policy_text(o['resource_policy'])
        if o.get('replica_regions') is not None:
            self._replicas_wanted()
        if o.get('rotation_interval') is not None and not 1 <= int(o['rotation_interval']) <= 1000:
            raise self.invalid('rotation_interval must be between 1 and 1000 days (AWS limits)')
        if o.get('rotation_interval') is not None and o.get('rotation_lambda') is None:
            raise self.invalid('rotation_interval needs rotation_lambda (the Lambda function that rotates)')

    def identity(self):
        o = self.options
        parts = ('aws', o.get('region'), o.get('endpoint_url'), who(o, self._environ), o.get('assume_role_arn'),
                 o.get('version_stage'), o.get('version_id'))
        return '|'.join(str(x or '') for x in parts)

    def connect(self):
        try:
            session = make_session(self.options, self.cache, self.identity(), self._environ)
            return session.client('secretsmanager', endpoint_url=self.options.get('endpoint_url') or None,
                                  config=botocore_config(self.options, self._environ))
        except Exception as exc:  # pylint: disable=broad-except
            raise self._error(exc, None, 'connecting')

    def _error(self, exc, ref, action):
        return to_error(exc, ref, action, self.NAME, context=context_of(self.options, self._environ))

    def _call(self, ref, action, method, special=None, **kwargs):
        """One API call; SDK errors become typed errors (never with a request body, which may hold a value).
        ``special`` maps an error code to a function of the exception that returns the error to raise."""
        client = self.client()
        try:
            return getattr(client, method)(**kwargs)
        except Exception as exc:  # pylint: disable=broad-except
            handler = (special or {}).get(error_code(exc))
            raise handler(exc) if handler else self._error(exc, ref, action)

    def _misplaced(self, exc):
        """A SecretNotFound from a read, or the BackendMisconfigured it stands for: when the region holds no secret
        at all (asked once per run with ListSecrets, MaxResults=1), the region or endpoint is wrong, and that is not
        a "missing" secret that ``on_missing: skip`` may hide. When the question cannot be answered (no
        secretsmanager:ListSecrets permission, a store that is down), the secret stays missing."""
        if self.creating or not isinstance(exc, SecretNotFound):
            return exc
        client = self.client()
        region = getattr(getattr(client, 'meta', None), 'region_name', None) or self.options.get('region')
        parts = ('aws', region, self.options.get('endpoint_url'), who(self.options, self._environ),
                 self.options.get('assume_role_arn'))
        ident = '|'.join(str(x or '') for x in parts)
        if self._region_holds is None and self.cache is not None:
            if (self.cache.get('aws-region', ident) or {}).get('holds'):
                self._region_holds = True
        if self._region_holds is None:
            try:
                resp = client.list_secrets(MaxResults=1, IncludePlannedDeletion=True)
            except Exception:  # pylint: disable=broad-except
                return exc  # cannot tell
            self._region_holds = bool(resp.get('SecretList') or resp.get('NextToken'))
            if self._region_holds and self.cache is not None:
                self.cache.put('aws-region', ident, {'holds': True})
        if self._region_holds:
            return exc
        where = ' at %s' % self.options['endpoint_url'] if self.options.get('endpoint_url') else ''
        return BackendMisconfigured('no such secret, and region %s%s holds no secrets at all: wrong region (region, '
                                    'AWS_REGION, the profile\'s region) or wrong account?' % (region, where),
                                    ref=exc.ref, backend=self.NAME)

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
        """A lookup term; ``version_stage``/``version_id`` become ``?stage=``/``?version=`` (so the run cache keeps
        AWSCURRENT and AWSPENDING apart), the ``bypath`` option ``?bypath=true``."""
        flag_params(params, 'bypath')
        if flag(params.pop('nested', None)):
            # amazon.aws's nested form: 'name.key1.key2' is the secret 'name' and a path into its JSON (a plain term
            # without #key or key=; otherwise the key itself is the dotted path)
            plain = not term.startswith(('aws://', 'arn:')) and '#' not in term
            if plain and key is None and '.' in term:
                term, key = term.split('.', 1)
            params['nested'] = 'true'
        ref = super(AwsBackend, self).ref_from_term(term, key=key, version=version, **params)
        if ref.param('stage') is None and ref.version is None:
            ref = ref.replace(params={'stage': self.options.get('version_stage'),
                                      'version': self.options.get('version_id')})
        return ref

    def _selector(self, ref):
        """(VersionStage, VersionId) of a read: the reference's, else the options', else AWSCURRENT."""
        stage, version = ref.param('stage'), ref.version
        if stage is None and version is None:
            stage, version = self.options.get('version_stage'), self.options.get('version_id')
        if stage is None and version is None:
            stage = AWSCURRENT
        return stage, version

    # -- reading ------------------------------------------------------------------------------------------------
    def _get(self, ref):
        stage, version = self._selector(ref)
        kwargs = dict((k, v) for k, v in (('VersionStage', stage), ('VersionId', version)) if v)
        return self._secret(self._call(ref, 'reading', 'get_secret_value', SecretId=ref.location,
                                       special={'InvalidRequestException': lambda exc: self._deleted(ref, exc)},
                                       **kwargs))

    def _secret(self, resp):
        value = resp['SecretString'] if resp.get('SecretString') is not None else bytes(resp.get('SecretBinary') or b'')
        if isinstance(value, bytes) and self.options.get('binary_encoding') == 'base64':
            value = base64.b64encode(value).decode('ascii')
        facts = {'arn': resp.get('ARN'), 'name': resp.get('Name'), 'stages': list(resp.get('VersionStages') or [])}
        return Secret(value, resp.get('VersionId'), None, resp.get('CreatedDate'), facts)

    def _deleted(self, ref, exc):
        """InvalidRequestException on a read: scheduled for deletion (-> SecretDeleted), or another refusal."""
        try:
            desc = self.client().describe_secret(SecretId=ref.location)
        except Exception:  # pylint: disable=broad-except
            desc = {}
        if desc.get('DeletedDate'):
            return SecretDeleted('scheduled for deletion on %s; restore it (restore-secret) to use it again'
                                 % iso(desc['DeletedDate']), ref=ref, backend=self.NAME)
        return to_error(exc, ref, 'reading', self.NAME)

    def _describe(self, ref, missing_ok=False):
        try:
            return self._call(ref, 'describing', 'describe_secret', SecretId=ref.location)
        except SecretNotFound:
            if missing_ok:
                return None
            raise

    def _add_facts(self, secret, desc):
        secret.created = to_datetime(desc.get('CreatedDate'))
        secret.metadata.update({
            'arn': desc.get('ARN'), 'name': desc.get('Name'),
            'tags': dict((t['Key'], t['Value']) for t in desc.get('Tags') or []),
            'kms_key_id': desc.get('KmsKeyId'), 'description': desc.get('Description'),
            'rotation_enabled': bool(desc.get('RotationEnabled')),
            'rotation_lambda': desc.get('RotationLambdaARN') or None,
            'rotation_interval': (desc.get('RotationRules') or {}).get('AutomaticallyAfterDays'),
            'replica_regions': sorted(r.get('Region') for r in desc.get('ReplicationStatus') or []),
            'last_changed': iso(desc.get('LastChangedDate')),
            'stages_by_version': dict((k, list(v)) for k, v in (desc.get('VersionIdsToStages') or {}).items()),
        })
        return secret

    @staticmethod
    def _bypath(ref):
        return flag(ref.param('bypath'))

    def select(self, secret, ref):
        """``#key`` of a JSON secret; with ``?nested=true`` a dotted path into it (amazon.aws's ``nested``)."""
        return secret.select(ref.key, ref=ref, backend=self.NAME, nested=flag(ref.param('nested')))

    def read(self, ref):
        """The value at the stage or version the reference names, with the secret's tags and times; with
        ``?bypath=true`` every secret under the location as a path (see :meth:`read_path`)."""
        if self._bypath(ref):
            return self.read_path(ref)
        try:
            secret = self._get(ref)
        except SecretNotFound as exc:
            raise self._misplaced(exc)
        return self._add_facts(secret, self._describe(ref))

    def read_path(self, ref):
        """``{name: value}`` of every secret under the reference's location as a path (names that start with it and
        a ``/``; ListSecrets with a name filter, paged; then the current values 20 per BatchGetSecretValue call, the
        rest one by one). Secrets scheduled for deletion are not listed. A binary secret's value is its base64 text
        (a dict holds text). A path that holds none is missing: an empty dict would be a run that read nothing."""
        if ref.version is not None or ref.param('stage') not in (None, AWSCURRENT):
            raise InvalidReference('?bypath= reads the current values (AWSCURRENT): remove ?version=/?stage=',
                                   ref=ref, backend=self.NAME)
        prefix = ref.location.rstrip('/') + '/'
        names = self.list(prefix=prefix)
        if not names:
            raise SecretNotFound('reading by path: no secret under %s' % prefix, ref=ref, backend=self.NAME)
        found = {}
        for start in range(0, len(names), BATCH_SIZE):
            self._batch(names[start:start + BATCH_SIZE], found)
        values, versions = {}, {}
        for name in names:
            secret = found.get(name)
            if secret is None:
                try:
                    secret = self._get(SecretRef(self.NAME, name, params={'stage': AWSCURRENT}))
                except (SecretNotFound, SecretDeleted):
                    continue  # deleted between the listing and the read
            value = secret.value
            if isinstance(value, bytes):
                value = base64.b64encode(value).decode('ascii')
            values[name], versions[name] = value, secret.version
        if not values:
            raise SecretNotFound('reading by path: no secret under %s' % prefix, ref=ref, backend=self.NAME)
        return Secret(values, None, None, None, {'path': prefix, 'versions': versions})

    def _batch(self, ids, found):
        """BatchGetSecretValue for ``ids`` (botocore retries a throttled call); still throttled, the batch is split
        in halves, each tried once more. Ids the answer lists under ``Errors`` (a partial failure), and those of a
        batch that failed otherwise (no secretsmanager:BatchGetSecretValue permission), are left to single reads."""
        try:
            resp = self.client().batch_get_secret_value(SecretIdList=ids)
        except Exception as exc:  # pylint: disable=broad-except
            if is_throttled(exc) and len(ids) > 1:
                half = len(ids) // 2
                self._batch(ids[:half], found)
                self._batch(ids[half:], found)
            return
        for item in resp.get('SecretValues') or []:
            # moto answers a batch from its stale default version after a promotion; the real service always
            # returns AWSCURRENT. Only a value that says it is AWSCURRENT is taken.
            if AWSCURRENT in (item.get('VersionStages') or []) and (item.get('Name') or item.get('ARN')):
                found[item.get('Name')] = found[item.get('ARN')] = self._secret(item)

    def read_many(self, refs):
        """Lookups: AWSCURRENT values of up to 20 secrets per BatchGetSecretValue call, without tags; anything the
        batch did not answer (errors, other stages, an unexpected stage) is read one by one for a typed error. Once
        the store is unavailable (down, throttled after every retry, too slow), the remaining references are not
        tried again one by one: each gets that error, so a run against a store in trouble ends in bounded time."""
        out = [None] * len(refs)
        batchable = [i for i, ref in enumerate(refs)
                     if self._selector(ref) == (AWSCURRENT, None) and not self._bypath(ref)]
        ids = sorted(set(refs[i].location for i in batchable))
        found = {}
        if len(ids) > 1:
            for start in range(0, len(ids), BATCH_SIZE):
                self._batch(ids[start:start + BATCH_SIZE], found)
        found.pop(None, None)
        for i in batchable:
            loc = refs[i].location
            out[i] = found.get(loc) or next((s for arn, s in found.items() if arn and loc.startswith('arn:')
                                             and arn.startswith(loc)), None)
        down = None
        for i, ref in enumerate(refs):
            if out[i] is not None:
                continue
            if down is not None:
                out[i] = BackendUnavailable('not read: %s' % down.cause, ref=ref, backend=self.NAME)
                continue
            try:
                out[i] = self.read_path(ref) if self._bypath(ref) else self._get(ref)
            except SecretNotFound as exc:
                out[i] = exc if self._bypath(ref) else self._misplaced(exc)
            except SecretError as exc:
                out[i] = exc
                if getattr(exc, 'store_down', False):
                    down = exc
        return out

    # -- writing ------------------------------------------------------------------------------------------------
    def _payload(self, value, ref=None):
        """SecretString for text, SecretBinary for bytes; with ``binary_encoding: base64`` a text value is the
        base64 form of the bytes to store as SecretBinary (what reads with that option return)."""
        text = stored_text(value)
        if not isinstance(text, bytes) and self.options.get('binary_encoding') == 'base64':
            try:
                text = base64.b64decode(text.encode('ascii'), validate=True)
            except (binascii.Error, UnicodeEncodeError, ValueError):
                raise InvalidReference('binary_encoding=base64: the value is not valid base64 (the value is not '
                                       'shown)', ref=ref, backend=self.NAME)
        return {'SecretBinary': text} if isinstance(text, bytes) else {'SecretString': text}

    def _for_reads_only(self, ref):
        if flag(ref.param('nested')) or self._bypath(ref):
            raise InvalidReference('?nested= and ?bypath= are for reads: write the secret by its name (#key for one '
                                   'field)', ref=ref, backend=self.NAME)

    def _write_stage(self, ref):
        self._for_reads_only(ref)
        stage, version = self._selector(ref)
        if version is not None:
            raise InvalidReference('a write creates a new version: remove ?version=/version_id (use ?stage= or '
                                   'version_stage to label it)', ref=ref, backend=self.NAME)
        return stage or AWSCURRENT

    @staticmethod
    def _holder(desc, stage):
        for version, stages in (desc.get('VersionIdsToStages') or {}).items():
            if stage in stages:
                return version
        return None

    def _field_value(self, ref, value, stage):
        """For a ``#key`` write: the whole document with that field set, the other fields as ``stage`` has them
        (or, for a stage no version carries yet, as AWSCURRENT has them)."""
        if ref.key is None:
            return value
        current = None
        for label in (stage, AWSCURRENT) if stage != AWSCURRENT else (stage,):
            try:
                current = self._get(ref.without_key().replace(params={'stage': label, 'version': None})).value
                break
            except SecretNotFound:
                continue
        return with_field(current, ref.key, value, ref, self.NAME)

    # -- properties set by options: description, resource policy, replicas, Lambda rotation ----------------------
    def _policy_text(self, policy):
        """The resource policy as normalised JSON (sorted keys, no spaces), from a dict or a JSON string."""
        if isinstance(policy, (str, bytes)):
            try:
                policy = json.loads(policy)
            except ValueError:
                raise self.invalid('resource_policy must be a JSON document (a dict or its JSON text)')
        if not isinstance(policy, dict):
            raise self.invalid('resource_policy must be a JSON object (a dict or its JSON text)')
        return json.dumps(policy, sort_keys=True, separators=(',', ':'))

    def _replicas_wanted(self):
        """``{region: kms key id or None}`` from ``replica_regions`` (region names, or dicts with ``region`` and
        ``kms_key_id``)."""
        out = {}
        for item in self.options.get('replica_regions') or []:
            if isinstance(item, dict) and item.get('region'):
                extra = set(item) - set(('region', 'kms_key_id'))
                if extra:
                    raise self.invalid('replica_regions: unknown key(s) %s (region, kms_key_id)' % ', '.join(sorted(extra)))
                out[str(item['region'])] = item.get('kms_key_id') or None
            elif isinstance(item, str) and item:
                out[item] = None
            else:
                raise self.invalid('replica_regions takes region names or dicts with region (and kms_key_id)')
        return out

    def _wanted_properties(self, desc, policy=None):
        """``{property: (now, wanted)}`` for the options that differ from the secret ``desc`` (DescribeSecret);
        ``policy`` is the current resource policy's normalised JSON (asked only when ``resource_policy`` is set)."""
        o, changes = self.options, {}
        if o.get('description') is not None and (desc.get('Description') or '') != o['description']:
            changes['description'] = (desc.get('Description'), o['description'])
        if o.get('resource_policy') is not None:
            wanted = None if o['resource_policy'] in ('', {}) else self._policy_text(o['resource_policy'])
            if wanted != policy:
                changes['resource_policy'] = (policy, wanted)
        if o.get('replica_regions') is not None:
            now = dict((r.get('Region'), r.get('KmsKeyId')) for r in desc.get('ReplicationStatus') or [])
            wanted = self._replicas_wanted()
            if set(now) != set(wanted) or any(k and now.get(r) != k for r, k in wanted.items()):
                changes['replica_regions'] = (sorted(now), sorted(wanted))
        if o.get('rotation_lambda') is not None:
            now = (desc.get('RotationLambdaARN') or None, (desc.get('RotationRules') or {}).get('AutomaticallyAfterDays'))
            enabled = bool(desc.get('RotationEnabled'))
            if o['rotation_lambda'] == '':
                if enabled:
                    changes['rotation'] = ({'lambda': now[0], 'interval': now[1]}, None)
            else:
                interval = o.get('rotation_interval') if o.get('rotation_interval') is not None else now[1]
                if not enabled or now != (o['rotation_lambda'], interval):
                    changes['rotation'] = ({'lambda': now[0], 'interval': now[1]} if enabled else None,
                                           {'lambda': o['rotation_lambda'], 'interval': interval})
        return changes

    def _current_policy(self, ref):
        resp = self._call(ref, 'reading the resource policy', 'get_resource_policy', SecretId=ref.location)
        text = resp.get('ResourcePolicy')
        return self._policy_text(text) if text else None

    def property_changes(self, secret):
        """What the module's options would change on ``secret`` (read with its facts): description, resource policy
        (compared as normalised JSON), replica regions, Lambda rotation. Applied by :meth:`write`/:meth:`set_tags`."""
        if secret is None or not secret.metadata.get('arn') or all(
                self.options.get(k) is None for k in PROPERTY_OPTIONS):
            return {}
        ref = SecretRef(self.NAME, secret.metadata['arn'])
        desc = self._describe(ref)
        policy = self._current_policy(ref) if self.options.get('resource_policy') is not None else None
        return self._wanted_properties(desc, policy)

    def _apply_properties(self, ref, desc, created=False):
        """Apply what :meth:`_wanted_properties` finds different; on a new secret the description and replicas went
        with CreateSecret already."""
        policy = None
        if self.options.get('resource_policy') is not None and not created:
            policy = self._current_policy(ref)
        changes = self._wanted_properties(desc, policy)
        if 'description' in changes:
            self._call(ref, 'setting the description', 'update_secret', SecretId=ref.location,
                       Description=self.options['description'])
        if 'resource_policy' in changes:
            if changes['resource_policy'][1] is None:
                self._call(ref, 'deleting the resource policy', 'delete_resource_policy', SecretId=ref.location)
            else:
                self._call(ref, 'putting the resource policy', 'put_resource_policy', SecretId=ref.location,
                           ResourcePolicy=changes['resource_policy'][1])
        if 'replica_regions' in changes:
            now = dict((r.get('Region'), r.get('KmsKeyId')) for r in desc.get('ReplicationStatus') or [])
            wanted = self._replicas_wanted()
            gone = sorted(r for r in now if r not in wanted or (wanted[r] and wanted[r] != now[r]))
            if gone:
                self._call(ref, 'removing replica regions', 'remove_regions_from_replication', SecretId=ref.location,
                           RemoveReplicaRegions=gone)
            add = [dict([('Region', r)] + ([('KmsKeyId', k)] if k else [])) for r, k in sorted(wanted.items())
                   if r not in now or r in gone]
            if add:
                self._call(ref, 'adding replica regions', 'replicate_secret_to_regions', SecretId=ref.location,
                           AddReplicaRegions=add)
        if 'rotation' in changes:
            wanted = changes['rotation'][1]
            if wanted is None:
                self._call(ref, 'turning Lambda rotation off', 'cancel_rotate_secret', SecretId=ref.location)
            else:
                kwargs = {'SecretId': ref.location, 'RotationLambdaARN': wanted['lambda'], 'RotateImmediately': False}
                if wanted['interval']:
                    kwargs['RotationRules'] = {'AutomaticallyAfterDays': int(wanted['interval'])}
                self._call(ref, 'configuring Lambda rotation', 'rotate_secret', **kwargs)
        return changes

    def write(self, ref, value, cas=None, metadata=None):
        """Create the secret (tags and ``kms_key_id`` with it) or put a new version labelled AWSCURRENT (or the
        reference's ``?stage=``). ``cas``: CAS_CREATE, or the version id that must still hold the stage.
        ``metadata``: tags to set (None keeps them). Returns the new version."""
        stage = self._write_stage(ref)
        desc = self._describe(ref, missing_ok=True)
        if desc is not None and desc.get('DeletedDate'):
            raise SecretDeleted('scheduled for deletion on %s; restore it (restore-secret) before writing'
                                % iso(desc['DeletedDate']), ref=ref, backend=self.NAME)
        if desc is None:
            return self._create(ref, value, cas, metadata, stage)
        holder = self._holder(desc, stage)
        if cas is not None and holder != (None if cas == CAS_CREATE else cas):  # CAS_CREATE: no version has it
            raise SecretConflict('the secret changed since it was read (%s is now on version %s, expected %s)'
                                 % (stage, holder, 'none' if cas == CAS_CREATE else cas), ref=ref, backend=self.NAME)
        kwargs = dict(SecretId=ref.location, **self._payload(self._field_value(ref, value, stage), ref))
        if stage != AWSCURRENT:
            kwargs['VersionStages'] = [stage]
        kms = self.options.get('kms_key_id')
        if kms and kms != desc.get('KmsKeyId') and stage == AWSCURRENT:
            resp = self._call(ref, 'writing', 'update_secret', KmsKeyId=kms, **kwargs)
        else:
            resp = self._call(ref, 'writing', 'put_secret_value', **kwargs)
        if metadata is not None:
            self._apply_tags(ref, desc, metadata)
        if stage == AWSCURRENT:
            self._apply_properties(ref, desc)
        return Secret(None, resp.get('VersionId'), desc.get('CreatedDate'), utc_now(),
                      {'arn': desc.get('ARN'), 'stages': list(resp.get('VersionStages') or [stage]),
                       'previous_version': holder})

    def _create(self, ref, value, cas, metadata, stage):
        if cas not in (None, CAS_CREATE):
            raise SecretConflict('the secret no longer exists (expected version %s)' % cas, ref=ref, backend=self.NAME)
        if stage != AWSCURRENT:
            raise SecretNotFound('the secret does not exist; create it (AWSCURRENT) before writing %s' % stage,
                                 ref=ref, backend=self.NAME)
        if ref.location.startswith('arn:'):
            raise InvalidReference('a secret is created by name, not by ARN', ref=ref, backend=self.NAME)
        kwargs = dict(Name=ref.location, **self._payload(self._field_value(ref, value, stage), ref))
        if metadata:
            kwargs['Tags'] = [{'Key': k, 'Value': v} for k, v in sorted(string_tags(metadata).items())]
        if self.options.get('kms_key_id'):
            kwargs['KmsKeyId'] = self.options['kms_key_id']
        if self.options.get('description') is not None:
            kwargs['Description'] = self.options['description']
        if self.options.get('replica_regions'):
            kwargs['AddReplicaRegions'] = [dict([('Region', r)] + ([('KmsKeyId', k)] if k else []))
                                           for r, k in sorted(self._replicas_wanted().items())]
        resp = self._call(ref, 'creating', 'create_secret', special={
            'ResourceExistsException': lambda exc: SecretConflict('the secret was created by someone else meanwhile',
                                                                  ref=ref, backend=self.NAME),
            'InvalidRequestException': lambda exc: SecretDeleted(
                'a secret with this name is scheduled for deletion; restore it (restore-secret) or wait until it is '
                'gone', ref=ref, backend=self.NAME)}, **kwargs)
        if any(self.options.get(k) is not None for k in ('resource_policy', 'rotation_lambda')):
            self._apply_properties(ref, self._describe(ref), created=True)
        return Secret(None, resp.get('VersionId'), utc_now(), utc_now(),
                      {'arn': resp.get('ARN'), 'stages': [AWSCURRENT], 'previous_version': None})

    def _apply_tags(self, ref, desc, tags):
        current = dict((t['Key'], t['Value']) for t in desc.get('Tags') or [])
        wanted = string_tags(tags)
        remove = sorted(k for k in current if k not in wanted)
        changed = sorted(k for k in wanted if current.get(k) != wanted[k])
        if remove:
            self._call(ref, 'untagging', 'untag_resource', SecretId=ref.location, TagKeys=remove)
        if changed:
            self._call(ref, 'tagging', 'tag_resource', SecretId=ref.location,
                       Tags=[{'Key': k, 'Value': wanted[k]} for k in changed])
        return bool(remove or changed)

    def set_tags(self, ref, tags):
        """Replace the tags and apply the property options (description, policy, replicas, rotation)."""
        self._for_reads_only(ref)
        desc = self._describe(ref)
        self._apply_tags(ref, desc, tags)
        self._apply_properties(ref, desc)
        return Secret(None, self._holder(desc, AWSCURRENT), desc.get('CreatedDate'), None, {'tags': string_tags(tags)})

    def delete(self, ref, **kwargs):
        """Schedule the secret for deletion (``recovery_window_days``, AWS's default 30) or, with ``force_delete``,
        delete it at once. With ``#key`` only that field of the JSON secret goes (a new AWSCURRENT version)."""
        self._for_reads_only(ref)
        if ref.key is not None:
            try:
                current = self._get(ref.without_key()).value
            except (SecretNotFound, SecretDeleted):
                return False
            text, existed = without_field(current, ref.key, ref, self.NAME)
            if existed:
                self.write(ref.without_key(), text)
            return existed
        desc = self._describe(ref, missing_ok=True)
        force = bool(self.options.get('force_delete'))
        if desc is None or (desc.get('DeletedDate') and not force):
            return False
        kwargs = {'SecretId': ref.location}
        if force:
            kwargs['ForceDeleteWithoutRecovery'] = True
        elif self.options.get('recovery_window_days'):
            kwargs['RecoveryWindowInDays'] = int(self.options['recovery_window_days'])
        self._call(ref, 'deleting', 'delete_secret', **kwargs)
        return True

    def versions(self, ref):
        """Every version that has a staging label, oldest first. Unlabelled (deprecated) versions are left out, as
        ``IncludeDeprecated=False`` asks; moto lists them anyway, so they are filtered here too."""
        rows = [{'version': v.get('VersionId'), 'created': iso(v.get('CreatedDate')),
                 'stages': sorted(v.get('VersionStages') or []), 'last_accessed': iso(v.get('LastAccessedDate'))}
                for v in self._pages(ref, 'listing versions', 'list_secret_version_ids', 'Versions',
                                     SecretId=ref.location, IncludeDeprecated=False) if v.get('VersionStages')]
        order = {AWSPREVIOUS: 0, AWSCURRENT: 1, AWSPENDING: 2}
        return sorted(rows, key=lambda r: (r['created'] or '', min([order.get(s, 0) for s in r['stages']] or [0])))

    def list(self, prefix=''):
        kwargs = {'Filters': [{'Key': 'name', 'Values': [prefix]}]} if prefix else {}
        return sorted(s['Name'] for s in self._pages(None, 'listing', 'list_secrets', 'SecretList', **kwargs)
                      if s['Name'].startswith(prefix or ''))

    def inventory(self, location='', prefix=''):
        """What ``agentarea.secrets.secret_list`` lists: one row per secret of the region (ListSecrets, paged; no
        values) whose name starts with ``prefix``."""
        kwargs = {'Filters': [{'Key': 'name', 'Values': [prefix]}]} if prefix else {}
        rows = [{'name': s['Name'], 'ref': 'aws://%s' % s['Name'], 'arn': s.get('ARN'),
                 'tags': dict((t['Key'], t['Value']) for t in s.get('Tags') or []),
                 'description': s.get('Description'), 'rotation_enabled': bool(s.get('RotationEnabled')),
                 'created': iso(s.get('CreatedDate')), 'updated': iso(s.get('LastChangedDate'))}
                for s in self._pages(None, 'listing', 'list_secrets', 'SecretList', **kwargs)]
        return sorted((r for r in rows if r['name'].startswith(prefix or '')), key=lambda r: r['name'])

    # -- staging labels: the rotation engine's API ---------------------------------------------------------------
    def stages(self, ref):
        """``{version_id: [staging labels]}`` of the secret (from DescribeSecret)."""
        return dict((k, sorted(v)) for k, v in (self._describe(ref).get('VersionIdsToStages') or {}).items())

    def pending(self, ref):
        """The AWSPENDING version (a Secret with its value), or None when no version carries the label."""
        try:
            return self._get(ref.without_key().replace(params={'stage': AWSPENDING, 'version': None}))
        except SecretNotFound:
            return None

    def put_pending(self, ref, value, token=None):
        """Write ``value`` as a new version labelled AWSPENDING; AWSCURRENT (what readers get) does not move.

        ``ref.key`` sets one field of the JSON secret (the others as AWSCURRENT has them). ``token`` (a UUID, e.g.
        the rotation's id) makes the call idempotent: the same token and value again is a no-op, the same token with
        another value raises SecretConflict. An older AWSPENDING label moves to the new version. Returns the new
        Secret (no value) whose ``version`` is what :meth:`promote` takes."""
        ref = ref.replace(params={'stage': AWSPENDING, 'version': None})
        desc = self._describe(ref)
        if desc.get('DeletedDate'):
            raise SecretDeleted('scheduled for deletion; restore it first', ref=ref, backend=self.NAME)
        kwargs = dict(SecretId=ref.location, VersionStages=[AWSPENDING],
                      **self._payload(self._field_value(ref, value, AWSCURRENT), ref))
        if token:
            kwargs['ClientRequestToken'] = token
        resp = self._call(ref, 'writing AWSPENDING', 'put_secret_value', special={
            'ResourceExistsException': lambda exc: SecretConflict('token %s was already used for another value'
                                                                  % token, ref=ref, backend=self.NAME)}, **kwargs)
        return Secret(None, resp.get('VersionId'), None, utc_now(),
                      {'stages': list(resp.get('VersionStages') or [AWSPENDING]),
                       'current_version': self._holder(desc, AWSCURRENT)})

    def promote(self, ref, version_id=None, cas=None):
        """Make ``version_id`` (default: the AWSPENDING version) AWSCURRENT; AWSPREVIOUS moves to the version that
        was current, and the AWSPENDING label is removed from the promoted version. ``cas``: the version id the
        caller expects to be AWSCURRENT now (SecretConflict otherwise). Idempotent: promoting the current version
        again only clears its AWSPENDING label. Returns a Secret whose ``version`` is the new current one and
        ``metadata['previous_version']`` the old one, ``metadata['changed']`` whether anything moved."""
        desc = self._describe(ref)
        stages = desc.get('VersionIdsToStages') or {}
        target = version_id or self._holder(desc, AWSPENDING)
        if not target or target not in stages:
            raise SecretNotFound('no version %s to promote' % (target or 'labelled AWSPENDING'), ref=ref,
                                 backend=self.NAME)
        current = self._holder(desc, AWSCURRENT)
        if cas is not None and current not in (cas, target):
            raise SecretConflict('AWSCURRENT is on version %s, expected %s' % (current, cas), ref=ref,
                                 backend=self.NAME)
        changed = False
        if current != target:
            kwargs = {'SecretId': ref.location, 'VersionStage': AWSCURRENT, 'MoveToVersionId': target}
            if current:
                kwargs['RemoveFromVersionId'] = current
            self._call(ref, 'promoting', 'update_secret_version_stage', **kwargs)
            changed = True
        if AWSPENDING in stages[target]:
            self._call(ref, 'clearing AWSPENDING', 'update_secret_version_stage', SecretId=ref.location,
                       VersionStage=AWSPENDING, RemoveFromVersionId=target)
            changed = True
        return Secret(None, target, desc.get('CreatedDate'), utc_now(),
                      {'previous_version': current if current != target else None, 'changed': changed})

    def clear_pending(self, ref, version_id=None):
        """Remove the AWSPENDING label (a stale or abandoned rotation); with ``version_id`` only from that version.
        Returns True when a label was removed. The unlabelled version is deprecated and later removed by AWS."""
        holder = self._holder(self._describe(ref), AWSPENDING)
        if holder is None or (version_id is not None and holder != version_id):
            return False
        self._call(ref, 'clearing AWSPENDING', 'update_secret_version_stage', SecretId=ref.location,
                   VersionStage=AWSPENDING, RemoveFromVersionId=holder)
        return True
