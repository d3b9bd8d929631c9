# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``gcp://<project>/<secret>[#key][?version=<n>|latest]``: Google Secret Manager.

Credentials, first found wins: ``access_token`` (an OAuth 2.0 token obtained elsewhere, such as
``gcloud auth print-access-token``), ``credentials_file`` (a service account key or any credentials JSON that
google-auth loads), then Application Default Credentials. The project is the reference's, else ``project``, else
the credentials'. The REST transport is the default (it needs no gRPC and works through HTTP proxies).

``latest`` is the service's alias for the newest version; when that version is disabled or destroyed, a read
fails as deleted (the real service does not fall back to an older version). Payload checksums are verified when the
service sends one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import warnings

from ansible_collections.agentarea.secrets.plugins.module_utils.core._backend import (
    CAP_CAS, CAP_DELETE, CAP_LIST, CAP_METADATA, CAP_READ, CAP_VERSIONS, CAP_WRITE, CAS_CREATE,
    Secret, SecretBackend, iso, utc_now,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import (
    BackendUnavailable, InvalidOption, InvalidReference, SecretAccessDenied, SecretConflict, SecretDeleted,
    SecretError, SecretNotFound, describe_exception,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.core._deps import requires
from ansible_collections.agentarea.secrets.plugins.module_utils.backends._cloud import (
    hashed, stored_text, string_tags, with_field, without_field,
)

SCOPES = ('https://www.googleapis.com/auth/cloud-platform',)
_CRC_TABLE = []


def crc32c(data):
    """CRC32C (Castagnoli) as Secret Manager computes ``data_crc32c``; google-crc32c when installed."""
    try:
        import google_crc32c  # pylint: disable=import-outside-toplevel
        return google_crc32c.value(bytes(data))
    except ImportError:
        pass
    if not _CRC_TABLE:
        for i in range(256):
            c = i
            for _bit in range(8):
                c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
            _CRC_TABLE.append(c)
    crc = 0xFFFFFFFF
    for byte in bytearray(data):
        crc = _CRC_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


class GcpBackend(SecretBackend):
    NAME = 'gcp'
    CAPABILITIES = frozenset((CAP_READ, CAP_WRITE, CAP_DELETE, CAP_VERSIONS, CAP_CAS, CAP_LIST, CAP_METADATA))
    ARGSPEC = {
        'project': {'type': 'str'},
        'credentials_file': {'type': 'path'},
        'service_account_info': {'type': 'raw', 'no_log': True},
        'location': {'type': 'str'},
        'access_token': {'type': 'str', 'no_log': True},
        'api_endpoint': {'type': 'str'},
        'transport': {'type': 'str', 'choices': ['rest', 'grpc']},  # no default: modules honour the environment
        'timeout': {'type': 'int', 'default': 30},
    }
    _OWN = 'ANSIBLE_AGENTAREA_SECRETS_GCP_'
    ENV = {
        'project': (_OWN + 'PROJECT', 'GOOGLE_CLOUD_PROJECT', 'CLOUDSDK_CORE_PROJECT'),
        'credentials_file': (_OWN + 'CREDENTIALS_FILE', 'GOOGLE_APPLICATION_CREDENTIALS'),
        'service_account_info': (_OWN + 'SERVICE_ACCOUNT_INFO',),
        'location': (_OWN + 'LOCATION',),
        'access_token': (_OWN + 'ACCESS_TOKEN', 'CLOUDSDK_AUTH_ACCESS_TOKEN'),
        'api_endpoint': (_OWN + 'API_ENDPOINT',),
        'transport': (_OWN + 'TRANSPORT',),
    }

    _default_project = None

    # -- connection -------------------------------------------------------------------------------------------
    def _account_info(self):
        """``service_account_info`` as a dict (given as a dict, or as its JSON text as AWX credentials inject it).
        It stays in memory: never written to disk. Errors never quote it."""
        info = self.options.get('service_account_info')
        if info in (None, ''):
            return None
        if isinstance(info, (str, bytes)):
            try:
                info = json.loads(info)
            except ValueError:
                raise self.invalid('service_account_info must be the credentials JSON (a dict or its JSON text); '
                                   'it is not valid JSON (its content is not shown)')
        if not isinstance(info, dict) or not info.get('type'):
            raise self.invalid('service_account_info must be a credentials JSON object with a "type" (such as '
                               'service_account)')
        return info

    def validate(self):
        self._account_info()
        location = self.options.get('location')
        if location is not None and (not location or not location.replace('-', '').isalnum()):
            raise self.invalid("location must be a Google Cloud region such as 'europe-west1'")

    def identity(self):
        o = self.options
        info = self._account_info()
        if o.get('access_token'):
            who = 'token:' + hashed(o['access_token'])
        elif info is not None:
            who = 'info:' + hashed('%s|%s' % (info.get('client_email') or info.get('client_id') or '',
                                              info.get('private_key_id') or hashed(json.dumps(info, sort_keys=True))))
        elif o.get('credentials_file'):
            who = 'file:' + hashed(o['credentials_file'])
        else:
            who = 'adc'
        where = '@' + o['location'] if o.get('location') else ''
        return 'gcp|%s|%s|%s%s' % (o.get('api_endpoint') or '', o.get('transport') or 'rest', who, where)

    def endpoint(self):
        """``api_endpoint``, else the regional endpoint ``secretmanager.<location>.rep.googleapis.com`` for
        ``location``, else the library's global one (None)."""
        o = self.options
        if o.get('api_endpoint'):
            return o['api_endpoint']
        if o.get('location'):
            return 'secretmanager.%s.rep.googleapis.com' % o['location']
        return None

    def _credentials(self, google_auth, oauth2):
        o = self.options
        info = self._account_info()
        if o.get('access_token'):
            return oauth2.Credentials(token=o['access_token'])
        if info is not None:
            self._default_project = info.get('project_id') or info.get('quota_project_id')
            if info.get('type') == 'service_account':
                service_account = requires('google.oauth2.service_account', package='google-auth',
                                           backend=self.NAME)
                return service_account.Credentials.from_service_account_info(info, scopes=list(SCOPES))
            with warnings.catch_warnings():  # a warning about untrusted credential sources: these are the user's
                warnings.simplefilter('ignore')
                creds, project = google_auth.load_credentials_from_dict(info, scopes=list(SCOPES))
            self._default_project = self._default_project or project
            return creds
        if o.get('credentials_file'):
            creds, self._default_project = google_auth.load_credentials_from_file(o['credentials_file'],
                                                                                  scopes=list(SCOPES))
            return creds
        creds, self._default_project = google_auth.default(scopes=list(SCOPES))
        return creds

    def connect(self):
        o = self.options
        google_auth, secretmanager, oauth2 = requires('google.auth', 'google.cloud.secretmanager',
                                                      'google.oauth2.credentials',
                                                      package='google-cloud-secret-manager', backend=self.NAME)
        try:
            creds = self._credentials(google_auth, oauth2)
            endpoint = self.endpoint()
            client_options = {'api_endpoint': endpoint} if endpoint else None
            return secretmanager.SecretManagerServiceClient(credentials=creds, transport=o.get('transport') or 'rest',
                                                            client_options=client_options)
        except SecretError:
            raise
        except Exception as exc:  # pylint: disable=broad-except
            raise self._error(exc, None, 'connecting')

    def _error(self, exc, ref, action):
        if isinstance(exc, SecretError):
            return exc
        name = type(exc).__name__
        code = getattr(exc, 'code', None)
        where = dict(ref=ref, backend=self.NAME)
        if name == 'NotFound' or code == 404:
            return SecretNotFound('%s: no such secret or version' % action, **where)
        if name in ('PermissionDenied', 'Unauthenticated', 'Forbidden', 'Unauthorized') or code in (401, 403):
            message = str(getattr(exc, 'message', '') or '')[:300]
            return SecretAccessDenied('%s: access denied (%s)%s' % (action, name, ': ' + message if message else ''),
                                      **where)
        if name in ('DefaultCredentialsError', 'RefreshError'):
            return InvalidOption('%s: no usable Google credentials (set access_token or credentials_file, or '
                                 'configure Application Default Credentials): %s' % (action, name), **where)
        if name in ('Conflict', 'AlreadyExists') or code == 409:
            return SecretConflict('%s: already exists' % action, **where)
        if name in ('InvalidArgument', 'BadRequest') and action != 'reading':
            return InvalidReference('%s: Secret Manager rejected the request (%s)' % (action, name), **where)
        return BackendUnavailable('%s: %s' % (action, describe_exception(exc)), **where)

    def _call(self, ref, action, method, **request):
        client = self.client()
        try:
            return getattr(client, method)(request=request, timeout=self.options.get('timeout') or 30)
        except Exception as exc:  # pylint: disable=broad-except
            raise self._error(exc, ref, action)

    # -- references -------------------------------------------------------------------------------------------
    def ref_from_term(self, term, key=None, version=None, **params):
        """A lookup term: ``name`` (in ``project``), ``project/name``, ``projects/P/secrets/N[/versions/V]``."""
        text = str(term).strip()
        if '://' not in text:
            head = text.split('#', 1)[0].split('?', 1)[0]
            tail = text[len(head):]
            parts = head.strip('/').split('/')
            if len(parts) in (6, 8) and parts[0] == 'projects' and parts[2] == 'locations' and parts[4] == 'secrets':
                if parts[3] != self.options.get('location'):
                    raise InvalidOption('%s is a regional secret: set location to %s to read it'
                                        % (head, parts[3]), ref=text, backend=self.NAME)
                parts = parts[:2] + parts[4:]
            if len(parts) in (4, 6) and parts[0] == 'projects' and parts[2] == 'secrets':
                if len(parts) == 6 and version is None:
                    version = parts[5]
                head = '%s/%s' % (parts[1], parts[3])
            elif len(parts) == 1:
                head = '%s/%s' % (self.project(text), head)
            text = head + tail
        return super(GcpBackend, self).ref_from_term(text, key=key, version=version, **params)

    def project(self, ref=None):
        """The project of a bare name: ``project``, else the credentials' (ADC, the credentials file)."""
        if self.options.get('project'):
            return self.options['project']
        self.client()
        if not self._default_project:
            raise InvalidOption('no project: set project (or GOOGLE_CLOUD_PROJECT), or write gcp://<project>/<name>',
                                ref=ref, backend=self.NAME)
        return self._default_project

    def _parent(self, project):
        """Where secrets live: ``projects/P``, or ``projects/P/locations/L`` for regional secrets (``location``)."""
        if self.options.get('location'):
            return 'projects/%s/locations/%s' % (project, self.options['location'])
        return 'projects/%s' % project

    def _names(self, ref):
        project, secret = ref.parts
        parent = '%s/secrets/%s' % (self._parent(project), secret)
        return parent, '%s/versions/%s' % (parent, ref.version or 'latest')

    # -- reading ------------------------------------------------------------------------------------------------
    def _access(self, ref):
        parent, name = self._names(ref)
        client = self.client()
        try:
            resp = client.access_secret_version(request={'name': name}, timeout=self.options.get('timeout') or 30)
        except Exception as exc:  # pylint: disable=broad-except
            if type(exc).__name__ in ('FailedPrecondition', 'BadRequest') or getattr(exc, 'code', None) == 400:
                raise self._state_error(ref, name, exc)
            raise self._error(exc, ref, 'reading')
        data = bytes(resp.payload.data)
        # Only a non-zero checksum is checked: emulators (drongo) send 0, the real service always sends one.
        if resp.payload.data_crc32c and crc32c(data) != resp.payload.data_crc32c:
            raise BackendUnavailable('the payload does not match its checksum (corrupted in transit)', ref=ref,
                                     backend=self.NAME)
        try:
            value = data.decode('utf-8')
        except UnicodeDecodeError:
            value = data
        return Secret(value, resp.name.rsplit('/', 1)[-1], None, None,
                      {'name': parent, 'project': ref.parts[0]})

    def _state_error(self, ref, name, exc):
        """FAILED_PRECONDITION on access: the version is disabled or destroyed (-> deleted), or another refusal."""
        try:
            state = self.client().get_secret_version(request={'name': name}).state.name
        except Exception:  # pylint: disable=broad-except
            return self._error(exc, ref, 'reading')
        if state in ('DISABLED', 'DESTROYED'):
            return SecretDeleted('version %s is %s' % (ref.version or 'latest', state.lower()), ref=ref,
                                 backend=self.NAME)
        return self._error(exc, ref, 'reading')

    def read_many(self, refs):
        """Lookups: the values only (one access call each), without labels and times."""
        out = []
        for ref in refs:
            try:
                out.append(self._access(ref))
            except SecretError as exc:
                out.append(exc)
        return out

    def read(self, ref):
        """The value with the secret's labels (``tags``), annotations and times."""
        secret = self._access(ref)
        parent, _name = self._names(ref)
        meta = self._call(ref, 'describing', 'get_secret', name=parent)
        version = self._call(ref, 'describing', 'get_secret_version', name='%s/versions/%s' % (parent, secret.version))
        secret.created, secret.updated = meta.create_time, version.create_time
        secret.metadata.update(tags=dict(meta.labels or {}), annotations=dict(meta.annotations or {}),
                               state=version.state.name)
        return secret

    def versions(self, ref):
        """Every version, oldest first (the service lists newest first), with its state."""
        parent, _name = self._names(ref)
        try:
            rows = [{'version': v.name.rsplit('/', 1)[-1], 'created': iso(v.create_time), 'state': v.state.name,
                     'destroyed': iso(v.destroy_time) if v.destroy_time else None}
                    for v in self._call(ref, 'listing versions', 'list_secret_versions', parent=parent)]
        except SecretError:
            raise
        except Exception as exc:  # pylint: disable=broad-except
            # later pages are fetched while iterating
            raise self._error(exc, ref, 'listing versions')
        return sorted(rows, key=lambda r: int(r['version']) if r['version'].isdigit() else 0)

    def list(self, prefix=''):
        try:
            names = [s.name.rsplit('/', 1)[-1] for s in
                     self._call(None, 'listing', 'list_secrets', parent=self._parent(self.project()))]
        except SecretError:
            raise
        except Exception as exc:  # pylint: disable=broad-except
            raise self._error(exc, None, 'listing')
        return sorted(n for n in names if n.startswith(prefix or ''))

    # -- writing ------------------------------------------------------------------------------------------------
    def _latest(self, ref):
        """(latest version number or None, its value or None): what a CAS or ``#key`` write builds on."""
        try:
            secret = self._access(ref.without_key().replace(params={'version': None}))
            return secret.version, secret.value
        except (SecretNotFound, SecretDeleted):
            return None, None

    def write(self, ref, value, cas=None, metadata=None):
        """Add a version (creating the secret, with ``metadata`` as labels, when it is missing). ``cas``:
        CAS_CREATE, or the version number that must still be the latest one. ``metadata`` replaces the labels."""
        if ref.version is not None:
            raise InvalidReference('a write adds a new version: remove ?version=', ref=ref, backend=self.NAME)
        parent, _name = self._names(ref)
        labels = string_tags(metadata) if metadata is not None else None
        try:
            existing = self._call(ref, 'describing', 'get_secret', name=parent)
        except SecretNotFound:
            existing = None
        latest, current = self._latest(ref) if existing is not None else (None, None)
        if cas is not None and (latest is not None if cas == CAS_CREATE else latest != str(cas)):
            raise SecretConflict('the secret changed since it was read (latest version %s, expected %s)'
                                 % (latest or 'none', cas), ref=ref, backend=self.NAME)
        if existing is None:
            try:
                secret = {'labels': labels or {}}
                if not self.options.get('location'):  # a regional secret has no replication policy
                    secret['replication'] = {'automatic': {}}
                self._call(ref, 'creating', 'create_secret', parent=self._parent(ref.parts[0]),
                           secret_id=ref.parts[1], secret=secret)
            except SecretConflict:
                if cas == CAS_CREATE:
                    raise
        elif labels is not None and dict(existing.labels or {}) != labels:
            self._call(ref, 'labelling', 'update_secret', secret={'name': parent, 'labels': labels},
                       update_mask={'paths': ['labels']})
        if ref.key is not None:
            value = with_field(current, ref.key, value, ref, self.NAME)
        text = stored_text(value)
        data = text if isinstance(text, bytes) else text.encode('utf-8')
        version = self._call(ref, 'writing', 'add_secret_version', parent=parent,
                             payload={'data': data, 'data_crc32c': crc32c(data)})
        return Secret(None, version.name.rsplit('/', 1)[-1], None, utc_now(),
                      {'name': parent, 'previous_version': latest})

    def set_tags(self, ref, tags):
        parent, _name = self._names(ref)
        meta = self._call(ref, 'labelling', 'update_secret', secret={'name': parent, 'labels': string_tags(tags)},
                          update_mask={'paths': ['labels']})
        return Secret(None, None, meta.create_time, None, {'tags': dict(meta.labels or {})})

    def delete(self, ref, **kwargs):
        """Delete the secret with all its versions (Secret Manager keeps nothing to recover), or with ``?version=``
        destroy that version, or with ``#key`` remove that field of the JSON secret (a new version)."""
        parent, name = self._names(ref)
        if ref.key is not None:
            latest, current = self._latest(ref)
            if latest is None:
                return False
            text, existed = without_field(current, ref.key, ref, self.NAME)
            if existed:
                self.write(ref.without_key(), text)
            return existed
        try:
            if ref.version is not None:
                if self._call(ref, 'reading', 'get_secret_version', name=name).state.name == 'DESTROYED':
                    return False
                self._call(ref, 'destroying', 'destroy_secret_version', name=name)
            else:
                self._call(ref, 'deleting', 'delete_secret', name=parent)
        except SecretNotFound:
            return False
        return True
