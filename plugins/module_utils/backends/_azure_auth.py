# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Credentials of the Azure Key Vault backend (``_azure``): the clouds and their Entra ID authorities, the
azure-identity credential for each ``auth``, what the SDK gets (:class:`VaultCredential`: Key Vault scopes only,
tokens from the run cache), and value-free descriptions of what went wrong while getting a token."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import time

from ansible_collections.agentarea.secrets.plugins.module_utils.core._deps import requires
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import InvalidOption, describe_exception

try:
    from urllib.parse import urlsplit
except ImportError:  # pragma: no cover
    from urlparse import urlsplit  # type: ignore

# Key Vault (and Managed HSM) DNS suffixes of the public and sovereign clouds, and their token resources.
KV_SUFFIXES = ('.vault.azure.net', '.vault.azure.cn', '.vault.usgovcloudapi.net', '.vault.microsoftazure.de',
               '.managedhsm.azure.net', '.managedhsm.azure.cn', '.managedhsm.usgovcloudapi.net')
KV_RESOURCES = tuple('https://' + s[1:] for s in KV_SUFFIXES)

#: azure.azcollection's ``cloud_environment`` names -> Entra ID authority hosts (azure-identity's AzureAuthorityHosts)
CLOUDS = {'azurecloud': 'login.microsoftonline.com', 'azurechinacloud': 'login.chinacloudapi.cn',
          'azureusgovernment': 'login.microsoftonline.us'}
#: authority host -> the Key Vault DNS suffix of a bare vault name in that cloud
VAULT_SUFFIX = {'login.microsoftonline.com': '.vault.azure.net', 'login.chinacloudapi.cn': '.vault.azure.cn',
                'login.microsoftonline.us': '.vault.usgovcloudapi.net'}

AADSTS_RE = re.compile(r'(AADSTS\d+)[:\s]+([^\r\n\[]{0,240})')


def authority_url(value):
    """``authority`` as an https URL: a cloud name (``AzureChinaCloud``), a host, or a URL; None when unset.
    Raises ValueError for another scheme."""
    if not value:
        return None
    text = str(value).strip().rstrip('/')
    if text.lower() in CLOUDS:
        return 'https://' + CLOUDS[text.lower()]
    if '://' not in text:
        return 'https://' + text
    if not text.lower().startswith('https://'):
        raise ValueError('authority must be an https URL, a host or a cloud name (%s)' % ', '.join(
            ('AzureCloud', 'AzureChinaCloud', 'AzureUSGovernment')))
    return text


def authority_host(value):
    url = authority_url(value)
    return (urlsplit(url).hostname or '').lower() if url else None


def vault_suffix(authority):
    """The DNS suffix of a bare vault name: the public cloud's, or that of the sovereign cloud of ``authority``."""
    try:
        host = authority_host(authority)
    except ValueError:  # a bad authority: validate() says so
        host = None
    return VAULT_SUFFIX.get(host or '', KV_SUFFIXES[0])


def credential(options, auth):
    """The azure-identity credential of ``auth`` (not ``access_token``). Certificates are read here: a file that
    cannot be loaded raises InvalidOption naming the file and the cause, never its content or password."""
    identity = requires('azure.identity', package='azure-identity', backend='azure')
    o = options
    authority = authority_url(o.get('authority'))
    kwargs = {}
    if authority:
        kwargs['authority'] = authority
    if auth in ('client_secret', 'client_certificate') and authority:
        # MSAL validates an authority it does not know (Azure Stack, a private cloud, a test server) by asking the
        # public cloud, which fails; the authority is the user's own setting, not something a server told us.
        kwargs['disable_instance_discovery'] = authority_host(authority) not in VAULT_SUFFIX
        if kwargs['disable_instance_discovery'] and o.get('ca_cert'):
            kwargs['connection_verify'] = os.path.expanduser(o['ca_cert'])  # a private authority's CA
    if auth == 'client_secret':
        return identity.ClientSecretCredential(o['tenant_id'], o['client_id'], o['client_secret'], **kwargs)
    if auth == 'client_certificate':
        path = os.path.expanduser(str(o['client_certificate']))
        password = o.get('client_certificate_password')
        try:
            return identity.CertificateCredential(o['tenant_id'], o['client_id'], path,
                                                  password=password.encode('utf-8') if password else None, **kwargs)
        except (OSError, ValueError, TypeError) as exc:
            raise InvalidOption('client_certificate %s (client %s, tenant %s): cannot load the certificate and its '
                                'key: %s' % (path, o['client_id'], o['tenant_id'], load_error(exc, password)),
                                backend='azure')
    if auth == 'managed_identity':
        return identity.ManagedIdentityCredential(client_id=o.get('client_id'))
    return identity.DefaultAzureCredential(managed_identity_client_id=o.get('client_id'), **kwargs)


def load_error(exc, password):
    """Why a certificate file did not load (the libraries' messages name no key material)."""
    if isinstance(exc, OSError):
        return (exc.strerror or describe_exception(exc)).lower()
    text = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
    if password and password in text:  # never expected; a password is never echoed
        return type(exc).__name__
    if isinstance(exc, TypeError) and 'not encrypted' in text.lower():
        return 'the key is not encrypted: unset client_certificate_password (%s)' % text
    if isinstance(exc, TypeError) and 'password' in text.lower():
        return 'the key is encrypted: set client_certificate_password (%s)' % text
    if 'password' in text.lower() or 'decrypt' in text.lower():
        return 'wrong client_certificate_password, or not a PEM/PKCS#12 file with a key (%s)' % text
    return text


def token_error(exc, auth, options):
    """A credential's failure to get a token (Entra ID refused it, or could not be reached), value-free: the AADSTS
    code and its sentence when Entra ID answered."""
    text = str(getattr(exc, 'message', '') or exc)
    found = AADSTS_RE.search(text)
    cause = '%s: %s' % (found.group(1), found.group(2).strip()) if found else describe_exception(exc)
    if text.startswith('refusing a token for '):  # ours (VaultCredential): names only scopes
        return text[:300]
    who = 'client %s, tenant %s' % (options.get('client_id'), options.get('tenant_id')) \
        if auth in ('client_secret', 'client_certificate') else 'client %s' % (options.get('client_id') or 'default')
    return 'Entra ID gave no token to the %s credential (%s, authority %s): %s' % (
        auth, who, authority_url(options.get('authority')) or 'https://login.microsoftonline.com', cause)


class VaultCredential:
    """What the SDK gets as its credential: tokens for Key Vault scopes only, from the run cache while they have
    five minutes left, else from the configured credential (``inner``, or the static ``token``)."""

    def __init__(self, inner=None, token=None, cache=None, ident=''):
        self.inner, self.token, self.cache, self.ident = inner, token, cache, ident

    def get_token(self, *scopes, **kwargs):
        from azure.core.credentials import AccessToken  # pylint: disable=import-outside-toplevel
        from azure.core.exceptions import ClientAuthenticationError  # pylint: disable=import-outside-toplevel
        if not scopes or not all(s.rstrip('/').startswith(KV_RESOURCES) for s in scopes):
            raise ClientAuthenticationError('refusing a token for %s: only Key Vault scopes are served'
                                            % ', '.join(scopes))
        if self.token is not None:
            return AccessToken(self.token, int(time.time()) + 3600)
        ident = '%s|%s|%s' % (self.ident, ' '.join(scopes), kwargs.get('tenant_id') or '')
        got = self._cached(ident)
        if got is not None:
            return got
        if self.cache is None:
            return self.inner.get_token(*scopes, **kwargs)
        with self.cache.lock('azure-token', ident):  # single flight: workers that miss together ask Entra ID once
            got = self._cached(ident)
            if got is None:
                got = self.inner.get_token(*scopes, **kwargs)
                self.cache.put('azure-token', ident, {'token': got.token, 'expires_on': got.expires_on})
        return got

    def _cached(self, ident):
        from azure.core.credentials import AccessToken  # pylint: disable=import-outside-toplevel
        cached = self.cache.get('azure-token', ident) if self.cache is not None else None
        if cached and cached['expires_on'] - time.time() > 300:
            return AccessToken(cached['token'], cached['expires_on'])
        return None
