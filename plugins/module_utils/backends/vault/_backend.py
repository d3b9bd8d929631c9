# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``vault://<mount>/<path>[#key][?version=N&kv_version=1|2&mount=<mount>]``: HashiCorp Vault and OpenBao.

KV v1 and v2 (the version is detected from ``sys/internal/ui/mounts/<path>`` unless given), which also finds
mounts with a ``/`` in their name; ``?mount=`` names such a mount explicitly. KV v2 writes use check-and-set,
custom metadata holds tags, versions can be pinned, listed, soft-deleted and destroyed. ``engine=dynamic``
reads a dynamic credential (``database/creds/<role>``) with its lease, revoked at the end of the run.
Connection, login and error mapping are in ``_vault_client.py``, auth methods in ``_vault_auth.py``, KV writes,
deletes and versions in ``_vault_kv.py``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.parsing.convert_bool import boolean

try:
    from urllib.parse import quote
except ImportError:  # pragma: no cover
    from urllib import quote  # type: ignore

from ansible_collections.agentarea.secrets.plugins.module_utils.core._audit import note_retries
from ansible_collections.agentarea.secrets.plugins.module_utils.core._backend import (
    CAP_CAS,
    CAP_DELETE,
    CAP_LIST,
    CAP_METADATA,
    CAP_READ,
    CAP_VERSIONS,
    CAP_WRITE,
    Secret,
    SecretBackend,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import (
    InvalidReference,
    SecretDeleted,
    SecretNotFound,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.backends.vault._api import (
    API_ENGINES,
    API_LIST,
    VaultApi,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.backends.vault._auth import (
    DEFAULT_K8S_TOKEN_PATH,
    METHODS,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.backends.vault._client import (
    VaultConnection,
    import_hvac,
    misconfigured,
    parse_retries,
    warm,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.backends.vault._kv import VaultKvChanges

_ENV = 'ANSIBLE_AGENTAREA_SECRETS_VAULT_'
#: run-cache kind of the mounts (path -> KV version) found by the preflight, per login identity
MOUNTS_KIND = 'vault-mounts'


class VaultBackend(VaultApi, VaultKvChanges, VaultConnection, SecretBackend):
    NAME = 'vault'
    CAPABILITIES = frozenset((CAP_READ, CAP_WRITE, CAP_DELETE, CAP_VERSIONS, CAP_CAS, CAP_LIST, CAP_METADATA))
    ARGSPEC = {
        'url': {'type': 'str'},
        'namespace': {'type': 'str'},
        # no default here: modules must see ANSIBLE_AGENTAREA_SECRETS_VAULT_AUTH_METHOD (AWX injects it); unset = token
        'auth_method': {'type': 'str', 'choices': sorted(METHODS)},
        'mount_point': {'type': 'str'},
        'token': {'type': 'str', 'no_log': True},
        'token_file': {'type': 'path', 'no_log': False},
        'token_validate': {'type': 'bool', 'default': False, 'no_log': False},
        'role_id': {'type': 'str'},
        'secret_id': {'type': 'str', 'no_log': True},
        'username': {'type': 'str'},
        'password': {'type': 'str', 'no_log': True},
        'role': {'type': 'str'},
        'jwt': {'type': 'str', 'no_log': True},
        'kubernetes_token_path': {'type': 'path', 'default': DEFAULT_K8S_TOKEN_PATH, 'no_log': False},
        'aws_access_key': {'type': 'str', 'no_log': False},
        'aws_secret_key': {'type': 'str', 'no_log': True},
        'aws_session_token': {'type': 'str', 'no_log': True},
        'aws_profile': {'type': 'str'},
        'aws_region': {'type': 'str'},
        'aws_iam_server_id': {'type': 'str'},
        'azure_tenant_id': {'type': 'str'},
        'azure_client_id': {'type': 'str'},
        'azure_client_secret': {'type': 'str', 'no_log': True},
        'azure_resource': {'type': 'str'},  # unset: DEFAULT_AZURE_RESOURCE (so that the environment can set it)
        'azure_subscription_id': {'type': 'str'},
        'azure_resource_group_name': {'type': 'str'},
        'azure_vm_name': {'type': 'str'},
        'azure_vmss_name': {'type': 'str'},
        'gcp_credentials_file': {'type': 'path', 'no_log': False},
        'gcp_service_account_info': {'type': 'raw', 'no_log': True},
        'ca_cert': {'type': 'path'},
        'validate_certs': {'type': 'bool'},  # None: verify (declared as the k8s backend does)
        'client_cert': {'type': 'path'},
        'client_key': {'type': 'path', 'no_log': True},
        'timeout': {'type': 'int', 'default': 30},
        'retries': {'type': 'raw', 'default': 3},  # a count, or community.hashi_vault's dict (as the AWS backend declares it)
        'proxies': {'type': 'raw', 'no_log': True},  # a proxy URL may hold user:password
        'mount': {'type': 'str', 'default': 'secret'},
        'kv_version': {'type': 'int', 'choices': [1, 2]},
        'engine': {'type': 'str', 'default': 'kv', 'choices': ['kv', 'dynamic']},
        'keep_token': {'type': 'bool', 'default': False, 'no_log': False},
        'keep_lease': {'type': 'bool', 'default': False},
        'destroy_versions': {'type': 'list', 'elements': 'str'},
    }
    #: the ARGSPEC names that connect and log in (what a module that talks to Vault but reads no secret offers)
    CONNECTION = ('url', 'namespace', 'auth_method', 'mount_point', 'token', 'token_file', 'token_validate', 'role_id',
                  'secret_id', 'username', 'password', 'role', 'jwt', 'kubernetes_token_path', 'aws_access_key',
                  'aws_secret_key', 'aws_session_token', 'aws_profile', 'aws_region', 'aws_iam_server_id',
                  'azure_tenant_id', 'azure_client_id', 'azure_client_secret', 'azure_resource',
                  'azure_subscription_id', 'azure_resource_group_name', 'azure_vm_name', 'azure_vmss_name',
                  'gcp_credentials_file', 'gcp_service_account_info', 'ca_cert', 'validate_certs', 'client_cert',
                  'client_key', 'timeout', 'retries', 'proxies', 'keep_token')
    ENV = dict((name, (_ENV + name.upper(),) + native) for name, native in (
        ('url', ('VAULT_ADDR',)), ('token', ('VAULT_TOKEN',)), ('namespace', ('VAULT_NAMESPACE',)),
        ('ca_cert', ('VAULT_CACERT',)), ('auth_method', ()), ('mount_point', ()), ('role_id', ()),
        ('secret_id', ()), ('username', ()), ('password', ()), ('role', ()), ('jwt', ()), ('client_cert', ()),
        ('client_key', ()), ('proxies', ()), ('kv_version', ()), ('validate_certs', ()), ('token_file', ()),
        ('token_validate', ()), ('aws_access_key', ()), ('aws_secret_key', ()), ('aws_session_token', ()),
        ('aws_profile', ()), ('aws_region', ()), ('aws_iam_server_id', ()), ('azure_tenant_id', ()),
        ('azure_client_id', ()), ('azure_client_secret', ()), ('azure_resource', ()), ('azure_subscription_id', ()),
        ('azure_resource_group_name', ()), ('azure_vm_name', ()), ('azure_vmss_name', ()),
        ('gcp_credentials_file', ()), ('gcp_service_account_info', ())))

    def __init__(self, options=None, environ=None):
        super(VaultBackend, self).__init__(options, environ)
        self._mounts = {}
        if (self.options.get('token_file') or self.options.get('auth_method') == 'none') and not (options or {}).get('token'):
            # token_file or auth_method=none, when asked for, win over a token that is only in the environment
            self.options['token'] = None

    @classmethod
    def preload(cls):
        warm()

    # -- options --------------------------------------------------------------------------------------------
    def validate(self):
        opts = self.options
        url = opts.get('url')
        if not url:
            raise self.invalid('no Vault address: set url (or VAULT_ADDR)')
        if not str(url).startswith(('http://', 'https://')):
            raise self.invalid("url must start with http:// or https:// (got a value of %d characters)" % len(url))
        for name in ('validate_certs', 'keep_token', 'keep_lease', 'token_validate'):
            if isinstance(opts.get(name), str):  # from the environment
                try:
                    opts[name] = boolean(opts[name], strict=True)
                except TypeError:
                    raise self.invalid('%s must be a boolean' % name)
        if opts.get('kv_version') not in (None, ''):
            try:
                opts['kv_version'] = int(opts['kv_version'])
            except (TypeError, ValueError):
                opts['kv_version'] = 0
            if opts['kv_version'] not in (1, 2):
                raise self.invalid('kv_version must be 1 or 2')
        else:
            opts['kv_version'] = None
        try:
            opts['timeout'] = int(opts.get('timeout') if opts.get('timeout') is not None else self.ARGSPEC['timeout']['default'])
        except (TypeError, ValueError):
            raise self.invalid('timeout must be an integer')
        if opts['timeout'] < 1:
            raise self.invalid('timeout must be at least 1')
        opts['retries'] = parse_retries(opts.get('retries'), self.ARGSPEC['retries']['default'])
        self.auth().validate()
        if opts.get('client_key') and not opts.get('client_cert'):
            raise self.invalid('client_key needs client_cert')
        if opts.get('proxies') is not None and not isinstance(opts['proxies'], (str, dict)):
            raise self.invalid('proxies must be a URL or a dict of scheme: URL')
        # the api engines are the vault_read/vault_list lookups' own (any API path), never a documented choice
        if opts.get('engine', 'kv') not in ('kv', 'dynamic') + API_ENGINES:
            raise self.invalid("engine must be 'kv' or 'dynamic'")
        if opts.get('engine') == 'dynamic' and not opts.get('keep_lease') and self.run_cache() is None:
            raise self.invalid('engine=dynamic needs the agentarea.secrets.run_cache callback, which revokes the '
                               'lease at the end of the run; enable it, or set keep_lease=true to let the lease '
                               'run to its TTL')
        self.destroy_versions()

    def destroy_versions(self):
        """``None``, ``'all'`` or a sorted list of version numbers."""
        raw = self.options.get('destroy_versions')
        if not raw:
            return None
        items = [str(v).strip() for v in (raw if isinstance(raw, (list, tuple)) else str(raw).split(','))]
        if 'all' in items:
            return 'all'
        try:
            versions = sorted(set(int(v) for v in items if v))
        except ValueError:
            raise self.invalid("destroy_versions must be 'all' or version numbers")
        if any(v < 1 for v in versions):
            raise self.invalid('destroy_versions must be positive version numbers')
        return versions

    def dynamic(self):
        return self.options.get('engine') == 'dynamic'

    def identity(self):
        return '%s|engine=%s|kv=%s' % (self.login_identity(), self.options.get('engine') or 'kv',
                                       self.options.get('kv_version') or 'auto')

    # -- references -------------------------------------------------------------------------------------------
    def ref_from_term(self, term, key=None, version=None, **params):
        """A bare term of the vault lookup is a path under ``mount`` (or, with engine=dynamic, an API path)."""
        if isinstance(term, str) and '://' not in term and (self.options.get('engine') or 'kv') == 'kv':
            term = '%s/%s' % ((self.options.get('mount') or 'secret').strip('/'), term.strip().lstrip('/'))
        return super(VaultBackend, self).ref_from_term(term, key=key, version=version, **params)

    def _known_mount(self, location):
        for mount, kv in self._mounts.items():
            if location == mount or location.startswith(mount + '/'):
                return mount, kv
        return None

    def _preflight(self, location):
        """(mount, kv_version) of the mount that holds ``location``, as the vault CLI finds it. Mounts found are
        shared with the run's other tasks through the run cache (one question per mount and identity per run)."""
        known = self._known_mount(location)
        cache = self.run_cache()
        if known is None and cache is not None:
            self._mounts.update(cache.get(MOUNTS_KIND, self.login_identity()) or {})
            known = self._known_mount(location)
        if known is not None:
            return known
        hvac, requests, _retry = import_hvac()
        since = self.retry_tally()
        try:
            client = self.client()
            data = self.with_login(lambda: client.adapter.get('/v1/sys/internal/ui/mounts/%s' % quote(location)))
            data = data['data']
        except (hvac.exceptions.Forbidden, hvac.exceptions.InvalidPath, hvac.exceptions.InvalidRequest) as exc:
            config = misconfigured(exc, self.where(what='finding the mount of %s' % location))
            if config is not None:
                raise config from None
            # not allowed to ask (or an old server): assume the first segment is a KV v2 mount
            return location.split('/', 1)[0], 2
        except (hvac.exceptions.VaultError, requests.exceptions.RequestException) as exc:
            raise self.error(exc, self.where(what='finding the mount of %s' % location), since=since) from None
        mount = (data.get('path') or location.split('/', 1)[0]).strip('/')
        if data.get('type') not in ('kv', 'generic'):
            raise InvalidReference("mount '%s' is a %s secrets engine, not KV (for dynamic credentials set "
                                   "engine=dynamic; any other path: the agentarea.secrets.vault_read lookup or "
                                   "the vault_write module)" % (mount, data.get('type')), backend=self.NAME)
        kv = int((data.get('options') or {}).get('version') or 1)
        self._mounts[mount] = kv
        if cache is not None:
            cache.put(MOUNTS_KIND, self.login_identity(), self._mounts)
        return mount, kv

    def locate(self, ref):
        """(mount, path, kv_version) of a KV reference."""
        loc = ref.location.strip('/')
        mount = (ref.param('mount') or '').strip('/')
        kv = ref.param('kv_version') or self.options.get('kv_version')
        kv = int(kv) if kv not in (None, '') else None
        if mount:
            if not loc.startswith(mount + '/'):
                raise InvalidReference("the location must start with the mount '%s'" % mount, ref=ref,
                                       backend=self.NAME)
            if kv is None:
                kv = self._preflight(mount)[1]
        elif kv is None:
            mount, kv = self._preflight(loc)
        else:
            option = (self.options.get('mount') or '').strip('/')
            mount = option if option and loc.startswith(option + '/') else loc.split('/', 1)[0]
        if kv not in (1, 2):
            raise InvalidReference('kv_version must be 1 or 2', ref=ref, backend=self.NAME)
        path = loc[len(mount) + 1:]
        if not path:
            raise InvalidReference("no path after the mount '%s'" % mount, ref=ref, backend=self.NAME)
        return mount, path, kv

    def _call(self, ref, mount, path, what, func, *args, **kwargs):
        hvac, requests, _retry = import_hvac()
        since = self.retry_tally()
        try:
            return self.with_login(func, *args, **kwargs)
        except (hvac.exceptions.VaultError, requests.exceptions.RequestException) as exc:
            raise self.error(exc, self.where(mount, path, what), ref=ref, since=since) from None

    def _meta(self, mount, path, kv):
        return {'mount': mount, 'path': path, 'kv_version': kv, 'namespace': self.options.get('namespace')}

    # -- reading ----------------------------------------------------------------------------------------------
    def read_many(self, refs):
        try:
            return super(VaultBackend, self).read_many(refs)
        finally:
            if self.run_cache() is None:
                self._release()  # a lookup without the run cache: its login ends with the lookup

    def read(self, ref):
        since = self.retry_tally()
        try:
            return self._read(ref)
        finally:
            # the audit event of this read says how many retries it took (a count, never a value)
            note_retries(ref, self.retry_tally() - since)

    def _read(self, ref):
        if self.dynamic():
            return self._read_dynamic(ref)
        if self.options.get('engine') in API_ENGINES:
            return self._read_api(ref)
        mount, path, kv = self.locate(ref)
        version = ref.version
        if version is not None and not str(version).isdigit():
            raise InvalidReference('version must be a number', ref=ref, backend=self.NAME)
        client = self.client()
        if kv == 1:
            if version is not None:
                raise InvalidReference('KV v1 keeps no versions (mount %s)' % mount, ref=ref, backend=self.NAME)
            resp = self._call(ref, mount, path, 'read', client.secrets.kv.v1.read_secret, path, mount_point=mount)
            return Secret(resp.get('data') or {}, None, metadata=dict(self._meta(mount, path, 1), tags={}))
        hvac, requests, _retry = import_hvac()
        since = self.retry_tally()
        try:
            resp = self.with_login(client.secrets.kv.v2.read_secret_version, path,
                                   version=int(version) if version else None, mount_point=mount,
                                   raise_on_deleted_version=True)
        except hvac.exceptions.InvalidPath as exc:
            raise self._missing(exc, ref, mount, path, version) from None
        except (hvac.exceptions.VaultError, requests.exceptions.RequestException) as exc:
            raise self.error(exc, self.where(mount, path, 'read'), ref=ref, since=since) from None
        data, meta = resp['data']['data'] or {}, resp['data']['metadata'] or {}
        return Secret(data, meta.get('version'), None, meta.get('created_time'),
                      dict(self._meta(mount, path, 2), tags=dict(meta.get('custom_metadata') or {})))

    def _missing(self, exc, ref, mount, path, version):
        """KV v2 answers 404 for a deleted or destroyed version too, with its metadata in the body; a 404 for a
        namespace or mount that does not exist is a configuration error."""
        config = misconfigured(exc, self.where(mount, path, 'read'), ref)
        if config is not None:
            return config
        meta = ((exc.json or {}).get('data') or {}).get('metadata') if isinstance(exc.json, dict) else None
        where = self.where(mount, path)
        if meta:
            state = 'destroyed' if meta.get('destroyed') else 'deleted'
            return SecretDeleted('version %s is %s (%s)' % (meta.get('version'), state, where), ref=ref,
                                 backend=self.NAME)
        if version:
            return SecretNotFound('version %s does not exist (%s)' % (version, where), ref=ref, backend=self.NAME)
        return SecretNotFound('no secret at this path (%s)' % where, ref=ref, backend=self.NAME)

    def _read_dynamic(self, ref):
        client = self.client()
        path = ref.location.strip('/')
        if ref.version is not None:
            raise InvalidReference('dynamic credentials have no versions', ref=ref, backend=self.NAME)
        resp = self._call(ref, None, path, 'dynamic credential', client.read, path)
        if not resp or not resp.get('lease_id'):
            raise SecretNotFound('no dynamic credential at this path (%s)' % self.where(None, path), ref=ref,
                                 backend=self.NAME)
        lease = {'lease_id': resp['lease_id'], 'lease_duration': resp.get('lease_duration'),
                 'renewable': bool(resp.get('renewable'))}
        value = dict(resp.get('data') or {})
        value.update(lease)
        self._register_lease(client, resp['lease_id'], path)
        return Secret(value, None, metadata=dict(lease, engine='dynamic', path=path, tags={}))

    def _read_api(self, ref):
        """Any API path (the vault_read and vault_list lookups): the response's ``data`` (a list of keys for a
        list), with a lease the response carries revoked at the end of the run like a dynamic credential's."""
        if ref.version is not None:
            raise InvalidReference('an API path has no versions', ref=ref, backend=self.NAME)
        path = ref.location.strip('/')
        if self.options.get('engine') == API_LIST:
            return Secret(self.api_list(path, ref=ref), None, metadata={'path': path, 'engine': 'list', 'tags': {}})
        resp = self.api_read(path, ref=ref)
        meta = {'path': path, 'engine': 'read', 'tags': {}}
        if resp.get('lease_id'):
            meta.update(lease_id=resp['lease_id'], lease_duration=resp.get('lease_duration'),
                        renewable=bool(resp.get('renewable')))
            if self.run_cache() is not None:
                self._register_lease(self.client(), resp['lease_id'], path)
        data = resp.get('data')
        return Secret(data if data is not None else {}, None, metadata=meta)

    def _register_lease(self, client, lease_id, path):
        if self.options.get('keep_lease'):
            self.keep_login_token()
            return
        self.run_cache().on_finish('vault-lease|%s' % lease_id, dict(
            backend='vault', kind='lease', conn=self.conn(), token=client.token, lease_id=lease_id,
            via_run_token=self.token_is_run_owned(), what="the Vault lease of '%s'" % path))
