# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``azure://<vault name or host[:port]>/<secret name>[#key][?version=<id>]``: Azure Key Vault secrets.

A vault name means ``https://<name>.vault.azure.net`` (``.vault.azure.cn``, ``.vault.usgovcloudapi.net`` with the
``authority`` of that cloud; or ``vault_url`` when its host starts with that name); a host (with a dot or a port)
means ``https://<host>``, such as a private endpoint.

Credentials (``auth``, built in ``_azure_auth``): ``default`` (azure-identity's DefaultAzureCredential: environment,
workload identity, managed identity, Azure CLI ...), ``client_secret`` and ``client_certificate`` (a service
principal), ``managed_identity``, or ``access_token`` (a bearer token for ``https://vault.azure.net`` obtained
elsewhere). ``authority`` names the Entra ID of a sovereign cloud or Azure Stack. Tokens are kept in the encrypted
run cache, so a playbook run asks Entra ID once per identity.

The SDK checks that the resource named in the vault's 401 challenge belongs to the vault's domain; for hosts outside
the Key Vault domains (private DNS names, test servers) that check cannot pass and is turned off
(``verify_challenge_resource=False``). In exchange, the credential handed to the SDK only ever issues tokens for
Key Vault scopes, so a host that challenges for another resource (Azure Resource Manager, Graph) gets nothing.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.agentarea.secrets.plugins.module_utils.core._backend import (
    CAP_CAS, CAP_DELETE, CAP_LIST, CAP_METADATA, CAP_READ, CAP_VERSIONS, CAP_WRITE, CAS_CREATE,
    Secret, SecretBackend, iso, to_datetime,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import (
    BackendUnavailable, InvalidOption, InvalidReference, SecretAccessDenied, SecretConflict, SecretDeleted,
    SecretError, SecretNotFound, describe_exception,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.core._deps import requires
from ansible_collections.agentarea.secrets.plugins.module_utils.core._refs import SecretRef
from ansible_collections.agentarea.secrets.plugins.module_utils.backends._cloud import (
    hashed, stored_text, string_tags, with_field, without_field,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.backends._azure_auth import (
    KV_SUFFIXES, VaultCredential as _VaultCredential, authority_url, credential, token_error,
    vault_suffix,
)

try:
    from urllib.parse import urlsplit
except ImportError:  # pragma: no cover
    from urlparse import urlsplit  # type: ignore


def _sdk(ref=None):
    secrets, exceptions = requires('azure.keyvault.secrets', 'azure.core.exceptions', package='azure-keyvault-secrets',
                                   ref=ref, backend='azure')
    return secrets.SecretClient, exceptions


class AzureBackend(SecretBackend):
    NAME = 'azure'
    CAPABILITIES = frozenset((CAP_READ, CAP_WRITE, CAP_DELETE, CAP_VERSIONS, CAP_CAS, CAP_LIST, CAP_METADATA))
    ARGSPEC = {
        'vault_url': {'type': 'str'},
        'auth': {'type': 'str', 'choices': ['default', 'client_secret', 'client_certificate', 'managed_identity',
                                            'access_token']},
        'tenant_id': {'type': 'str'},
        'client_id': {'type': 'str'},
        'client_secret': {'type': 'str', 'no_log': True},
        'client_certificate': {'type': 'path'},
        'client_certificate_password': {'type': 'str', 'no_log': True},
        'authority': {'type': 'str'},
        'access_token': {'type': 'str', 'no_log': True},
        'ca_cert': {'type': 'path'},
        'validate_certs': {'type': 'bool'},
        'content_type': {'type': 'str'},
        'expires': {'type': 'str'},
        'valid_from': {'type': 'str'},
        'recover_if_need': {'type': 'bool', 'default': False},
        'force_delete': {'type': 'bool', 'default': False},
        'timeout': {'type': 'int', 'default': 30},
    }
    _OWN = 'ANSIBLE_AGENTAREA_SECRETS_AZURE_'
    ENV = {
        'vault_url': (_OWN + 'VAULT_URL', 'AZURE_KEYVAULT_URL'),
        'auth': (_OWN + 'AUTH',),
        'tenant_id': (_OWN + 'TENANT_ID', 'AZURE_TENANT_ID'),
        'client_id': (_OWN + 'CLIENT_ID', 'AZURE_CLIENT_ID'),
        'client_secret': (_OWN + 'CLIENT_SECRET', 'AZURE_CLIENT_SECRET'),
        'client_certificate': (_OWN + 'CLIENT_CERTIFICATE', 'AZURE_CLIENT_CERTIFICATE_PATH'),
        'client_certificate_password': (_OWN + 'CLIENT_CERTIFICATE_PASSWORD', 'AZURE_CLIENT_CERTIFICATE_PASSWORD'),
        'authority': (_OWN + 'AUTHORITY', 'AZURE_AUTHORITY_HOST'),
        'access_token': (_OWN + 'ACCESS_TOKEN',),
        'ca_cert': (_OWN + 'CA_CERT',),
        'validate_certs': (_OWN + 'VALIDATE_CERTS',),
    }

    def __init__(self, options=None, environ=None):
        super(AzureBackend, self).__init__(options, environ)
        self._clients = {}

    # -- connection -------------------------------------------------------------------------------------------
    def _auth(self):
        o = self.options
        if o.get('auth'):
            return o['auth']
        if o.get('access_token'):
            return 'access_token'
        # azure-identity's EnvironmentCredential order: a client secret, then a certificate
        return 'client_secret' if o.get('client_secret') else \
            'client_certificate' if o.get('client_certificate') else 'default'

    def validate(self):
        o, auth = self.options, self._auth()
        if auth in ('client_secret', 'client_certificate'):
            missing = [n for n in ('tenant_id', 'client_id', auth) if not o.get(n)]
            if missing:
                raise self.invalid('auth=%s needs %s' % (auth, ', '.join(missing)))
        try:
            authority_url(o.get('authority'))
        except ValueError as exc:
            raise self.invalid(str(exc))
        if auth == 'access_token' and not o.get('access_token'):
            raise self.invalid('auth=access_token needs access_token')
        for name in ('expires', 'valid_from'):
            if o.get(name) not in (None, '') and to_datetime(o[name]) is None:
                raise self.invalid("%s must be an ISO 8601 date and time, such as '2027-01-31T00:00:00Z'" % name)
        if o.get('vault_url') and not str(o['vault_url']).startswith('https://'):
            raise self.invalid('vault_url must start with https:// (Key Vault refuses tokens over plain HTTP)')
        if isinstance(o.get('validate_certs'), str):
            o['validate_certs'] = o['validate_certs'].lower() not in ('0', 'false', 'no', 'off')

    def identity(self):
        o = self.options
        principal = '%s@%s' % (o.get('client_id'), o.get('tenant_id'))
        who = {'client_secret': principal,
               # which certificate file: a wrong one in the same run must not get the right one's token
               'client_certificate': '%s|%s' % (principal, hashed(str(o.get('client_certificate') or ''))),
               'managed_identity': o.get('client_id') or 'system', 'default': o.get('client_id') or '',
               'access_token': hashed(o.get('access_token') or '')}[self._auth()]
        try:
            authority = authority_url(o.get('authority'))
        except ValueError:
            authority = None
        return 'azure|%s|%s%s' % (self._auth(), who, '|' + authority if authority else '')

    def connect(self):
        """The credential (clients are per vault: :meth:`_kv`)."""
        o, auth = self.options, self._auth()
        _sdk()
        if auth == 'access_token':
            return _VaultCredential(token=o['access_token'])
        return _VaultCredential(credential(o, auth), cache=self.cache, ident=self.identity())

    def vault_url(self, ref):
        vault, option = ref.parts[0], (self.options.get('vault_url') or '').rstrip('/')
        if '.' in vault or ':' in vault:
            return 'https://' + vault
        if option and urlsplit(option).hostname and urlsplit(option).hostname.split('.')[0] == vault:
            return option
        return 'https://%s%s' % (vault, vault_suffix(self.options.get('authority')))

    def _kv(self, ref):
        url = self.vault_url(ref)
        if url not in self._clients:
            SecretClient, _exc = _sdk(ref)
            o = self.options
            try:
                cred = self.client()
            except InvalidOption as exc:  # a certificate that does not load: name the reference too
                raise InvalidOption(exc.cause, ref=exc.ref if exc.ref is not None else ref, backend=self.NAME)
            verify = o.get('ca_cert') or True
            if o.get('validate_certs') is False:
                verify = False
            host = (urlsplit(url).hostname or '').lower()
            self._clients[url] = SecretClient(
                url, cred, verify_challenge_resource=host.endswith(KV_SUFFIXES), connection_verify=verify,
                connection_timeout=o.get('timeout') or 30, read_timeout=o.get('timeout') or 30, retry_total=3)
        return self._clients[url]

    def close(self):
        for client in self._clients.values():
            client.close()
        self._clients = {}
        super(AzureBackend, self).close()

    def _error(self, exc, ref, action):
        if isinstance(exc, SecretError):
            return exc
        _client, ae = _sdk(ref)
        status = getattr(exc, 'status_code', None)
        error = getattr(exc, 'error', None)
        code = getattr(error, 'code', None) or ''
        inner = (getattr(error, 'innererror', None) or {}).get('code') or ''
        message = str(getattr(error, 'message', '') or '')[:300]
        where = dict(ref=ref, backend=self.NAME)
        if isinstance(exc, ae.ResourceNotFoundError) or status == 404:
            return SecretNotFound('%s: no such secret or version' % action, **where)
        if status == 403 and (inner == 'SecretDisabled' or 'disabled' in message.lower()):
            return SecretDeleted('%s: the secret (this version) is disabled; enable it to use it' % action, **where)
        if type(exc).__name__ == 'CredentialUnavailableError':
            return InvalidOption('%s: no Azure credential available (auth=%s): %s'
                                 % (action, self._auth(), describe_exception(exc)), **where)
        if isinstance(exc, ae.ClientAuthenticationError) and getattr(exc, 'response', None) is None:
            # raised by the credential, not by the vault: no token (Entra ID refused it, or was not reached)
            return SecretAccessDenied('%s %s: %s' % (action, self.vault_url(ref) if ref is not None else 'the vault',
                                                     token_error(exc, self._auth(), self.options)), **where)
        if isinstance(exc, ae.ClientAuthenticationError) or status in (401, 403):
            why = code or status or type(exc).__name__
            return SecretAccessDenied('%s: access denied (%s)%s' % (action, why, ': ' + message if message else ''),
                                      **where)
        if status == 409 and 'Deleted' in inner + code + message:
            return SecretDeleted('%s: the secret is soft-deleted; recover or purge it first' % action, **where)
        if status == 409:
            return SecretConflict('%s: %s' % (action, code or 'conflict'), **where)
        if isinstance(exc, ValueError):  # e.g. a challenge for a resource outside the vault's domain
            return InvalidOption('%s: %s' % (action, describe_exception(exc)), **where)
        return BackendUnavailable('%s: %s%s' % (action, describe_exception(exc), ' ' + code if code else ''),
                                  **where)

    def _call(self, ref, action, method, *args, **kwargs):
        try:
            return getattr(self._kv(ref), method)(*args, **kwargs)
        except Exception as exc:  # pylint: disable=broad-except
            raise self._error(exc, ref, action)

    # -- references -------------------------------------------------------------------------------------------
    def ref_from_term(self, term, key=None, version=None, **params):
        """A lookup term: ``name`` (in ``vault_url``), ``vault/name`` or ``azure://vault/name``."""
        text = str(term).strip()
        if '://' not in text and '/' not in text.split('#', 1)[0].split('?', 1)[0]:
            url = self.options.get('vault_url')
            if not url:
                raise InvalidOption('a bare secret name needs vault_url (or write azure://<vault>/<name>)',
                                    ref=text, backend=self.NAME)
            host = (urlsplit(url).netloc or '').lower()
            suffix = vault_suffix(self.options.get('authority'))
            if host.endswith(suffix):  # canonical form: azure://<vault name>/<name>
                host = host[:-len(suffix)]
            text = '%s/%s' % (host, text)
        return super(AzureBackend, self).ref_from_term(text, key=key, version=version, **params)

    @staticmethod
    def _name(ref):
        name = ref.parts[1]
        if not name.replace('-', '').isalnum() or len(name) > 127 or not name.isascii():
            raise InvalidReference('Key Vault secret names are 1-127 letters, digits and dashes', ref=ref,
                                   backend='azure')
        return name

    # -- reading ------------------------------------------------------------------------------------------------
    def _get(self, ref):
        kv = self._call(ref, 'reading', 'get_secret', self._name(ref), ref.version)
        return self._secret(kv.value, kv.properties, ref)

    def _secret(self, value, props, ref):
        return Secret(value, props.version, props.created_on, props.updated_on, {
            'tags': dict(props.tags or {}), 'content_type': props.content_type, 'enabled': props.enabled,
            'expires': iso(props.expires_on), 'not_before': iso(props.not_before),
            'recovery_level': str(getattr(props.recovery_level, 'value', props.recovery_level) or '') or None,
            'vault_url': self.vault_url(ref), 'name': props.name})

    def _not_found(self, ref, exc):
        """A 404 may be a soft-deleted secret: say so (deleted) when the vault lets us see it."""
        if not isinstance(exc, SecretNotFound) or ref.version is not None:
            return exc
        try:
            deleted = self._kv(ref).get_deleted_secret(self._name(ref))
        except Exception:  # pylint: disable=broad-except
            return exc
        return SecretDeleted('soft-deleted on %s (purge scheduled %s); recover it (recover-deleted) to use it again'
                             % (iso(deleted.deleted_date), iso(deleted.scheduled_purge_date)), ref=ref,
                             backend=self.NAME)

    def read_many(self, refs):
        out = []
        for ref in refs:
            try:
                out.append(self._get(ref))
            except SecretError as exc:
                out.append(self._not_found(ref, exc))
        return out

    def read(self, ref):
        """The value with its properties; ``created`` is when the secret's first version was made."""
        try:
            secret = self._get(ref)
        except SecretError as exc:
            raise self._not_found(ref, exc)
        firsts = [v['created'] for v in self.versions(ref) if v['created']]
        secret.created = to_datetime(min(firsts)) if firsts else secret.created
        return secret

    def versions(self, ref):
        """Every version, oldest first, with its state (enabled, expiry, content type) and tags."""
        try:  # pages are fetched while iterating, so errors surface here
            rows = [{'version': p.version, 'created': iso(p.created_on), 'updated': iso(p.updated_on),
                     'enabled': p.enabled, 'expires': iso(p.expires_on), 'content_type': p.content_type,
                     'tags': dict(p.tags or {})}
                    for p in self._kv(ref).list_properties_of_secret_versions(self._name(ref))]
        except Exception as exc:  # pylint: disable=broad-except
            raise self._error(exc, ref, 'listing versions')
        return sorted(rows, key=lambda r: r['created'] or '')

    def list(self, prefix=''):
        """Secret names in ``vault_url`` (certificate-backed secrets left out)."""
        if not self.options.get('vault_url'):
            raise self.invalid('listing needs vault_url')
        probe = SecretRef('azure', '%s/x' % urlsplit(self.options['vault_url']).netloc)
        try:
            return sorted(p.name for p in self._kv(probe).list_properties_of_secrets()
                          if p.name.startswith(prefix or '') and not p.managed)
        except Exception as exc:  # pylint: disable=broad-except
            raise self._error(exc, None, 'listing')

    def inventory(self, location, prefix=''):
        """What ``agentarea.secrets.secret_list`` lists: one row per secret of the vault ``location`` (a vault name
        or host, as in a reference) whose name starts with ``prefix``: name, reference, tags, enabled, expiry, not
        before, content type, times. One GET ``{vault}/secrets`` (``nextLink`` pages followed by the SDK), which
        returns no values; certificate-backed (managed) secrets are left out."""
        probe = SecretRef('azure', '%s/x' % location)
        try:
            props = [p for p in self._kv(probe).list_properties_of_secrets()
                     if p.name.startswith(prefix or '') and not p.managed]
        except Exception as exc:  # pylint: disable=broad-except
            raise self._error(exc, None, 'listing %s' % self.vault_url(probe))
        return sorted(({'name': p.name, 'ref': 'azure://%s/%s' % (location, p.name), 'tags': dict(p.tags or {}),
                        'enabled': p.enabled, 'expires': iso(p.expires_on), 'not_before': iso(p.not_before),
                        'content_type': p.content_type, 'created': iso(p.created_on), 'updated': iso(p.updated_on)}
                       for p in props), key=lambda row: row['name'])

    # -- writing ------------------------------------------------------------------------------------------------
    def _wanted_properties(self):
        o = self.options
        wanted = {}
        if o.get('content_type') is not None:
            wanted['content_type'] = o['content_type']
        if o.get('expires'):
            wanted['expires'] = iso(o['expires'])
        if o.get('valid_from'):
            wanted['not_before'] = iso(o['valid_from'])
        return wanted

    def property_changes(self, secret):
        """``{property: (now, wanted)}`` for ``content_type``/``expires``/``valid_from`` (``not_before``) options
        that differ from ``secret``'s
        (what :meth:`set_tags` and :meth:`write` apply; the Azure anchor never notices these)."""
        current = secret.metadata if secret is not None else {}
        return dict((k, (current.get(k), v)) for k, v in self._wanted_properties().items() if current.get(k) != v)

    @staticmethod
    def _dates(wanted, kwargs):
        """``expires``/``not_before`` of :meth:`_wanted_properties` as the SDK's ``expires_on``/``not_before``."""
        if wanted.get('expires'):
            kwargs['expires_on'] = to_datetime(wanted['expires'])
        if wanted.get('not_before'):
            kwargs['not_before'] = to_datetime(wanted['not_before'])
        return kwargs

    def _recover(self, ref):
        """With ``recover_if_need``: when the secret is soft-deleted, recover it (POST
        ``{vault}/deletedsecrets/{name}/recover``) and wait until it is readable. Returns whether it was recovered.
        Without the option a soft-deleted secret stays as it is (writing it fails as deleted, naming the option)."""
        if not self.options.get('recover_if_need'):
            return False
        name = self._name(ref)
        try:
            self._kv(ref).get_deleted_secret(name)
        except Exception as exc:  # pylint: disable=broad-except
            err = self._error(exc, ref, 'looking for a soft-deleted secret')
            if isinstance(err, SecretNotFound):
                return False
            raise err
        self._call(ref, 'recovering the soft-deleted secret', 'begin_recover_deleted_secret', name).wait()
        return True

    def write(self, ref, value, cas=None, metadata=None):
        """A new version with ``value``. Tags are ``metadata`` when given, else the current version's (Azure keeps
        tags per version); ``content_type`` likewise; ``expires`` and ``valid_from`` (``nbf``) only from the options.
        ``cas``: CAS_CREATE or the version that must still be the current one. A soft-deleted secret is recovered
        first with ``recover_if_need`` (``metadata['recovered']``; its tags and content type are kept like any
        current version's), else the write fails as deleted."""
        if ref.version is not None:
            raise InvalidReference('a write creates a new version: remove ?version=', ref=ref, backend=self.NAME)
        recovered = False
        try:
            current = self._get(ref.without_key())
        except SecretNotFound:
            current = None
            if self._recover(ref):
                recovered = True
                current = self._get(ref.without_key())
        except SecretDeleted:
            current = None  # disabled: a new version is enabled
        expected = None if recovered and cas == CAS_CREATE else cas  # the caller saw it missing: it was deleted
        if expected is not None and (current is not None if expected == CAS_CREATE else (
                current is None or current.version != expected)):
            raise SecretConflict('the secret changed since it was read (current version %s, expected %s)'
                                 % (current.version if current else 'none', cas), ref=ref, backend=self.NAME)
        if ref.key is not None:
            value = with_field(current.value if current else None, ref.key, value, ref, self.NAME)
        text = stored_text(value)
        if isinstance(text, bytes):
            try:
                text = text.decode('utf-8')
            except UnicodeDecodeError:
                raise InvalidReference('Key Vault secrets hold text: base64-encode binary values', ref=ref,
                                       backend=self.NAME)
        old = current.metadata if current else {}
        wanted = self._wanted_properties()
        kwargs = self._dates(wanted, {
            'tags': string_tags(metadata) if metadata is not None else (old.get('tags') or None),
            'content_type': wanted.get('content_type', old.get('content_type'))})
        try:
            kv = self._call(ref, 'writing', 'set_secret', self._name(ref), text, **kwargs)
        except SecretDeleted:
            raise SecretDeleted('writing: the secret is soft-deleted; recover or purge it first, or set recover_if_need'
                                ' to recover it and write (Azure answers 409 ObjectIsDeletedButRecoverable)',
                                ref=ref, backend=self.NAME)
        secret = self._secret(None, kv.properties, ref)
        secret.metadata['previous_version'] = current.version if current else None
        secret.metadata['recovered'] = recovered
        return secret

    def set_tags(self, ref, tags):
        """Replace the current version's tags (and apply ``content_type``/``expires``/``valid_from``) without a new
        version."""
        wanted = self._wanted_properties()
        kwargs = {'tags': string_tags(tags)}
        if 'content_type' in wanted:
            kwargs['content_type'] = wanted['content_type']
        props = self._call(ref, 'updating properties', 'update_secret_properties', self._name(ref),
                           **self._dates(wanted, kwargs))
        return self._secret(None, props, ref)

    def set_properties(self, ref, tags=None):
        """Apply the ``content_type``/``expires`` options (and ``tags`` when given) to the current version."""
        current = self._get(ref.without_key())
        return self.set_tags(ref, current.metadata.get('tags') if tags is None else tags)

    def delete(self, ref, **kwargs):
        """Soft-delete the secret (all versions) and wait until it is deleted; ``force_delete`` purges it too.
        With ``#key`` only that field of the JSON secret goes (a new version)."""
        name = self._name(ref)
        if ref.key is not None:
            try:
                current = self._get(ref.without_key())
            except (SecretNotFound, SecretDeleted):
                return False
            text, existed = without_field(current.value, ref.key, ref, self.NAME)
            if existed:
                self.write(ref.without_key(), text)
            return existed
        force = bool(self.options.get('force_delete'))
        try:
            self._call(ref, 'deleting', 'begin_delete_secret', name).wait()
        except SecretNotFound:
            if not force or not isinstance(self._not_found(ref, SecretNotFound('', ref=ref)), SecretDeleted):
                return False
        if force:
            self._call(ref, 'purging', 'purge_deleted_secret', name)
        return True
