# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Vault/OpenBao auth methods, one small class each: ``NAME``, ``validate()`` without network, and
``authenticate(client)`` which logs in and returns Vault's ``auth`` block (``None`` for a given token).

The backend (``_vault.py``) decides when to log in, caches the token in the run cache and revokes it; these
classes only know what each method needs and how it logs in. ``who()`` names the identity without a credential
(it goes into cache keys and error messages); ``secret_material()`` is what distinguishes two identities that
look alike (it is only ever HMAC'd).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import os
import stat
import time

from ansible_collections.agentarea.secrets.plugins.module_utils.core._deps import requires
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import InvalidOption, describe_exception

DEFAULT_K8S_TOKEN_PATH = '/var/run/secrets/kubernetes.io/serviceaccount/token'
#: what community.hashi_vault and Vault's azure auth method (``resource`` of its config) expect by default
DEFAULT_AZURE_RESOURCE = 'https://management.azure.com/'
#: the Azure Instance Metadata Service (a VM's managed identity); azure-identity's override of its host
IMDS_AUTHORITY = 'http://169.254.169.254'
IMDS_TOKEN_PATH = '/metadata/identity/oauth2/token'
#: a service principal's token endpoint (``<authority>/<tenant>/oauth2/v2.0/token``); azure-identity's override
AZURE_AUTHORITY = 'https://login.microsoftonline.com'
#: the GCE metadata server (google-auth honours GCE_METADATA_HOST too)
GCE_METADATA_HOST = 'metadata.google.internal'
#: lifetime of a JWT signed with a service-account key: within the 15 minutes Vault's gcp method accepts
#: (``max_jwt_exp``)
GCP_JWT_LIFETIME = 600


class AuthMethod:
    NAME = None
    #: where the method is mounted when ``mount_point`` is not set
    DEFAULT_MOUNT = None
    #: options that must be set (after environment defaults)
    REQUIRED = ()
    #: options that carry credentials (HMAC'd into the identity, never shown)
    SECRET_OPTIONS = ()
    #: options that name the identity and may be shown
    WHO_OPTIONS = ()

    def __init__(self, options):
        self.options = options

    @property
    def mount(self):
        return (self.options.get('mount_point') or self.DEFAULT_MOUNT or '').strip('/')

    def describe(self):
        """``approle at auth/approle`` — for error messages."""
        if self.DEFAULT_MOUNT is None:
            return self.NAME
        return '%s at auth/%s' % (self.NAME, self.mount)

    def _fail(self, message):
        raise InvalidOption('auth_method=%s %s' % (self.NAME, message), backend='vault')

    def validate(self):
        missing = [name for name in self.REQUIRED if not self.options.get(name)]
        if missing:
            self._fail('needs %s' % ' and '.join(missing))

    def who(self):
        return ','.join('%s=%s' % (name, self.options.get(name)) for name in self.WHO_OPTIONS
                        if self.options.get(name))

    def secret_material(self):
        return '\0'.join(str(self.options.get(name) or '') for name in self.SECRET_OPTIONS)

    def authenticate(self, client):
        raise NotImplementedError


def token_file_path(options):
    """The expanded ``token_file`` (``~`` is the user's home), or None."""
    path = options.get('token_file')
    return os.path.abspath(os.path.expanduser(str(path))) if path else None


def file_stamp(path):
    """What changes when a token file is rewritten (in place, or replaced by a rename as Vault Agent does)."""
    info = os.stat(path)
    return (info.st_dev, info.st_ino, info.st_mtime_ns, info.st_size)


def read_token_file(path):
    """``(token, stamp)`` of a token file (a Vault Agent sink, ``~/.vault-token``). Raises InvalidOption naming the
    file and the cause (missing, not a file, unreadable, readable or writable by other users, empty); never the
    token."""
    def fail(why):
        raise InvalidOption("token_file '%s' %s" % (path, why), backend='vault')
    try:
        info = os.stat(path)
    except OSError as exc:
        if not os.path.exists(path):
            fail('does not exist (for ~/.vault-token: run `vault login` first; for a Vault Agent sink: is the '
                 'agent running and its sink path the same?)')
        fail('cannot be examined: %s' % (exc.strerror or type(exc).__name__))
    if not stat.S_ISREG(info.st_mode):
        fail('is not a regular file')
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o007:
        fail('is accessible to other users (mode %04o): a token file must not be; chmod o-rwx it (Vault Agent '
             'sinks default to 0640, `vault login` writes 0600)' % mode)
    try:
        with open(path, 'rb') as handle:
            raw = handle.read(65536)
    except (IOError, OSError) as exc:
        fail('is not readable: %s' % (exc.strerror or type(exc).__name__))
    try:
        token = raw.decode('utf-8').strip()
    except UnicodeDecodeError:
        fail('does not hold a token (not UTF-8 text)')
    if not token:
        fail('is empty (a Vault Agent sink is empty until the agent has authenticated)')
    if any(c.isspace() for c in token):
        fail('does not hold a single token (it has several words or lines)')
    return token, (info.st_dev, info.st_ino, info.st_mtime_ns, info.st_size)


class TokenAuth(AuthMethod):
    """A token given as ``token`` or ``VAULT_TOKEN`` (AWX's Vault credential), or read from ``token_file`` (a Vault
    Agent sink, re-read when the agent rewrites it; ``~/.vault-token`` only when named): no login, never revoked."""

    NAME = 'token'
    SECRET_OPTIONS = ('token',)

    def validate(self):
        if self.options.get('token') and self.options.get('token_file'):
            self._fail('takes token or token_file, not both')
        if self.options.get('token_file'):
            read_token_file(token_file_path(self.options))
        elif not self.options.get('token'):
            self._fail('needs a token: set token (or VAULT_TOKEN in the environment), or token_file (a Vault Agent '
                       'sink, or ~/.vault-token after `vault login`)')

    def who(self):
        path = token_file_path(self.options)
        return 'token_file=%s' % path if path else ''

    def secret_material(self):
        # the file's token changes during a run (the agent renews it); the path (in who()) names the identity
        return '' if self.options.get('token_file') else str(self.options.get('token') or '')

    def describe(self):
        return 'token from token_file' if self.options.get('token_file') else 'token'

    def token(self):
        """``(token, stamp)``: the stamp of the token file, or None for a given token."""
        if self.options.get('token_file'):
            return read_token_file(token_file_path(self.options))
        return self.options['token'], None

    def authenticate(self, client):
        client.token = self.token()[0]
        return None


class NoneAuth(AuthMethod):
    """No token at all: a Vault Agent (or another proxy) in front of Vault adds its own (``use_auto_auth_token``)."""

    NAME = 'none'

    def validate(self):
        if self.options.get('token') or self.options.get('token_file'):
            self._fail('sends no token; unset token and token_file (or choose auth_method=token)')

    def authenticate(self, client):
        client.token = ''
        return None


class AppRoleAuth(AuthMethod):
    NAME = 'approle'
    DEFAULT_MOUNT = 'approle'
    REQUIRED = ('role_id',)
    SECRET_OPTIONS = ('secret_id',)
    WHO_OPTIONS = ('role_id',)

    def authenticate(self, client):
        # secret_id may be absent for roles created with bind_secret_id=false
        return client.auth.approle.login(self.options['role_id'], self.options.get('secret_id'), use_token=False,
                                         mount_point=self.mount)['auth']


class UserpassAuth(AuthMethod):
    NAME = 'userpass'
    DEFAULT_MOUNT = 'userpass'
    REQUIRED = ('username', 'password')
    SECRET_OPTIONS = ('password',)
    WHO_OPTIONS = ('username',)

    def authenticate(self, client):
        return client.auth.userpass.login(self.options['username'], self.options['password'], use_token=False,
                                          mount_point=self.mount)['auth']


class LdapAuth(AuthMethod):
    NAME = 'ldap'
    DEFAULT_MOUNT = 'ldap'
    REQUIRED = ('username', 'password')
    SECRET_OPTIONS = ('password',)
    WHO_OPTIONS = ('username',)

    def authenticate(self, client):
        return client.auth.ldap.login(self.options['username'], self.options['password'], use_token=False,
                                      mount_point=self.mount)['auth']


class JwtAuth(AuthMethod):
    NAME = 'jwt'
    DEFAULT_MOUNT = 'jwt'
    REQUIRED = ('role', 'jwt')
    SECRET_OPTIONS = ('jwt',)
    WHO_OPTIONS = ('role',)

    def authenticate(self, client):
        return client.auth.jwt.jwt_login(self.options['role'], self.options['jwt'], use_token=False,
                                         path=self.mount)['auth']


class KubernetesAuth(AuthMethod):
    """The pod's service-account token (``kubernetes_token_path``), or ``jwt`` when given."""

    NAME = 'kubernetes'
    DEFAULT_MOUNT = 'kubernetes'
    REQUIRED = ('role',)
    WHO_OPTIONS = ('role', 'kubernetes_token_path')

    def _token_path(self):
        return os.path.expanduser(self.options.get('kubernetes_token_path') or DEFAULT_K8S_TOKEN_PATH)

    def validate(self):
        super(KubernetesAuth, self).validate()
        if not self.options.get('jwt') and not os.access(self._token_path(), os.R_OK):
            self._fail("needs a service-account token: '%s' is not readable (set kubernetes_token_path, or jwt)"
                       % self._token_path())

    def _jwt(self):
        if self.options.get('jwt'):
            return self.options['jwt']
        with open(self._token_path()) as handle:
            return handle.read().strip()

    def secret_material(self):
        # the file's token rotates during a run; the path (in who()) names the identity
        return self.options.get('jwt') or ''

    def authenticate(self, client):
        return client.auth.kubernetes.login(self.options['role'], self._jwt(), use_token=False,
                                            mount_point=self.mount)['auth']


class CertAuth(AuthMethod):
    """TLS client certificate: the certificate and key are those of the connection (``client_cert``/``client_key``)."""

    NAME = 'cert'
    DEFAULT_MOUNT = 'cert'
    REQUIRED = ('client_cert',)
    WHO_OPTIONS = ('role', 'client_cert')

    def authenticate(self, client):
        # hvac's cert.login() insists on its own CA argument; the connection already carries cert and verify.
        payload = {'name': self.options['role']} if self.options.get('role') else {}
        return client.adapter.post('/v1/auth/%s/login' % self.mount, json=payload)['auth']


STS_BODY = 'Action=GetCallerIdentity&Version=2011-06-15'


class AwsIamAuth(AuthMethod):
    """A signed ``sts:GetCallerIdentity`` request (botocore's SigV4; Vault replays it to STS to learn who we are).
    Credentials: ``aws_access_key``/``aws_secret_key``/``aws_session_token``, else botocore's chain
    (``aws_profile``, the environment, the instance or task role)."""

    NAME = 'aws_iam'
    DEFAULT_MOUNT = 'aws'
    SECRET_OPTIONS = ('aws_secret_key', 'aws_session_token')
    WHO_OPTIONS = ('role', 'aws_access_key', 'aws_profile')

    def validate(self):
        if bool(self.options.get('aws_access_key')) != bool(self.options.get('aws_secret_key')):
            self._fail('needs aws_access_key and aws_secret_key together (or neither: botocore finds credentials)')
        if self.options.get('aws_session_token') and not self.options.get('aws_access_key'):
            self._fail('aws_session_token needs aws_access_key and aws_secret_key')

    def region(self):
        return self.options.get('aws_region') or 'us-east-1'

    def credentials(self):
        session_mod, credentials_mod = requires('botocore.session', 'botocore.credentials', package='botocore',
                                                backend='vault')
        if self.options.get('aws_access_key'):
            return credentials_mod.Credentials(self.options['aws_access_key'], self.options['aws_secret_key'],
                                               self.options.get('aws_session_token') or None)
        try:
            creds = session_mod.Session(profile=self.options.get('aws_profile') or None).get_credentials()
        except Exception as exc:  # pylint: disable=broad-except  # botocore's ProfileNotFound, config errors
            self._fail('cannot find AWS credentials: %s' % type(exc).__name__)
        if creds is None:
            self._fail('found no AWS credentials (set aws_access_key and aws_secret_key, aws_profile, or the '
                       'AWS_* environment variables)')
        return creds

    def login_payload(self):
        """The body of ``auth/<mount>/login``: the signed request, base64-encoded as Vault wants it."""
        auth_mod, awsrequest_mod = requires('botocore.auth', 'botocore.awsrequest', package='botocore',
                                            backend='vault')
        region = self.region()
        url = 'https://sts.amazonaws.com/' if region == 'us-east-1' else 'https://sts.%s.amazonaws.com/' % region
        headers = {'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8'}
        if self.options.get('aws_iam_server_id'):
            headers['X-Vault-AWS-IAM-Server-ID'] = self.options['aws_iam_server_id']
        request = awsrequest_mod.AWSRequest(method='POST', url=url, data=STS_BODY, headers=headers)
        auth_mod.SigV4Auth(self.credentials(), 'sts', region).add_auth(request)
        signed = dict((name, [value]) for name, value in request.headers.items())

        def b64(text):
            return base64.b64encode(text.encode('utf-8')).decode('ascii')
        payload = {'iam_http_request_method': 'POST', 'iam_request_url': b64(url), 'iam_request_body': b64(STS_BODY),
                   'iam_request_headers': b64(json.dumps(signed, sort_keys=True))}
        if self.options.get('role'):
            payload['role'] = self.options['role']
        return payload

    def authenticate(self, client):
        return client.adapter.post('/v1/auth/%s/login' % self.mount, json=self.login_payload())['auth']


class IdentityError(Exception):
    """The identity token of an azure or gcp login could not be obtained (an endpoint that did not answer, or
    refused). ``cause`` never holds a credential or a token; ``unavailable`` tells an endpoint that did not answer
    from one that said no. The backend adds the method, mount and Vault URL."""

    def __init__(self, cause, unavailable=False):
        super(IdentityError, self).__init__(cause)
        self.cause = cause
        self.unavailable = unavailable


#: answers of an identity endpoint worth asking again after a back-off (IMDS throttles with 429)
IDENTITY_RETRY_STATUS = (429, 500, 502, 503, 504)


def retry_count(retries, default=3):
    """The count of a ``retries`` option (a count, or community.hashi_vault's dict form's ``total``)."""
    if isinstance(retries, dict):
        retries = retries.get('total', default)
    try:
        return max(0, int(retries if retries is not None else default))
    except (TypeError, ValueError):
        return default


def fetch_identity(what, url, headers, timeout, params=None, form=None, use_proxy=False, field=None, retries=0):
    """GET (or POST ``form`` to) ``url`` and return the token in the answer: the JSON ``field`` of it, or the whole
    body as text. ``what`` names the endpoint in errors (``the managed identity endpoint``), which name its URL
    without the query and the cause (connection refused, timed out, HTTP status and the OAuth ``error`` code),
    never the headers, the form, the body or a token. A metadata endpoint is never reached through a proxy.
    ``retries``: how often an answer of IDENTITY_RETRY_STATUS is asked again (an endpoint that does not answer at
    all is not: off the cloud, it never will)."""
    requests, retry_mod = requires('requests', 'urllib3.util.retry', package='requests', backend='vault')
    session = requests.Session()
    session.trust_env = bool(use_proxy)  # HTTP(S)_PROXY for login.microsoftonline.com, never for 169.254.169.254
    if retries:
        adapter = requests.adapters.HTTPAdapter(max_retries=retry_mod.Retry(
            total=retries, connect=0, read=0, status=retries, backoff_factor=0.5,
            status_forcelist=IDENTITY_RETRY_STATUS, allowed_methods=None, raise_on_status=False))
        session.mount('http://', adapter)
        session.mount('https://', adapter)
    shown = url.split('?', 1)[0]
    try:
        if form is not None:
            resp = session.post(url, data=form, headers=headers, timeout=timeout)
        else:
            resp = session.get(url, params=params, headers=headers, timeout=timeout)
    except requests.exceptions.Timeout:
        raise IdentityError('%s did not answer within timeout=%s s (%s)' % (what, timeout, shown), unavailable=True)
    except requests.exceptions.RequestException as exc:
        raise IdentityError('%s did not answer (%s): %s' % (what, shown, describe_exception(exc)), unavailable=True)
    finally:
        session.close()
    if resp.status_code >= 400:
        code = ''
        try:
            body = resp.json()
            code = body.get('error') if isinstance(body, dict) else ''
            code = code.get('code') if isinstance(code, dict) else code  # App Service: {"error": {"code": ...}}
        except ValueError:
            pass
        code = code if isinstance(code, str) and code.replace('_', '').isalnum() and len(code) < 64 else ''
        raise IdentityError('%s refused (HTTP %d%s) (%s)' % (what, resp.status_code, ', %s' % code if code else '',
                                                             shown), unavailable=resp.status_code in IDENTITY_RETRY_STATUS)
    if field is None:
        token = resp.text.strip()
    else:
        try:
            body = resp.json()
        except ValueError:
            body = None
        token = body.get(field) if isinstance(body, dict) else None
    if not token or not isinstance(token, str) or token.count('.') != 2:
        raise IdentityError('%s answered without a token (%s)' % (what, shown))
    return token


class _RoleAuth(AuthMethod):
    """A method whose Vault role is ``role``, or ``role_id`` when ``role`` is unset (community.hashi_vault's name for
    it in its azure and gcp methods)."""

    def role(self):
        return self.options.get('role') or self.options.get('role_id')

    def validate(self):
        if not self.role():
            self._fail('needs role (the Vault role; community.hashi_vault called it role_id)')

    def who(self):
        rest = super(_RoleAuth, self).who()
        if not self.options.get('role'):
            rest = ','.join(item for item in ('role=%s' % self.role(), rest) if item)
        return rest


class AzureAuth(_RoleAuth):
    """Vault's azure method: ``role`` and an Azure AD token for ``azure_resource`` -- given as ``jwt``, or from a
    service principal (``azure_tenant_id``, ``azure_client_id``, ``azure_client_secret``), or from the managed
    identity (App Service's ``IDENTITY_ENDPOINT``/``IDENTITY_HEADER``, else the VM's IMDS; ``azure_client_id``
    picks a user-assigned identity) -- with the VM's subscription, resource group and VM or scale-set name when
    given. ``role_id`` names the role when ``role`` is unset (community.hashi_vault's name for it)."""

    NAME = 'azure'
    DEFAULT_MOUNT = 'azure'
    SECRET_OPTIONS = ('jwt', 'azure_client_secret')
    WHO_OPTIONS = ('role', 'azure_tenant_id', 'azure_client_id')

    def resource(self):
        return self.options.get('azure_resource') or DEFAULT_AZURE_RESOURCE

    def validate(self):
        super(AzureAuth, self).validate()
        if not str(self.resource()).startswith(('https://', 'http://', 'api://')):
            self._fail('azure_resource must be a URL or an api:// application ID URI')
        if not self.options.get('jwt') and self.options.get('azure_client_secret'):
            if not (self.options.get('azure_client_id') and self.options.get('azure_tenant_id')):
                self._fail('azure_client_secret (a service principal) needs azure_client_id and azure_tenant_id')

    def source(self):
        """Where the token comes from, for errors and docs: jwt, service principal, App Service or IMDS."""
        if self.options.get('jwt'):
            return 'jwt'
        if self.options.get('azure_client_secret'):
            return 'service principal'
        if os.environ.get('IDENTITY_ENDPOINT') and os.environ.get('IDENTITY_HEADER'):
            return 'App Service managed identity'
        return 'managed identity'

    def azure_token(self, timeout=30):
        """The JWT to send: ``jwt``, or a token for ``azure_resource`` fetched as ``source()`` says."""
        if self.options.get('jwt'):
            return self.options['jwt']
        retries = retry_count(self.options.get('retries'))
        resource = self.resource()
        client_id = self.options.get('azure_client_id')
        if self.options.get('azure_client_secret'):
            authority = (os.environ.get('AZURE_AUTHORITY_HOST') or AZURE_AUTHORITY).rstrip('/')
            if '://' not in authority:
                authority = 'https://' + authority
            form = {'grant_type': 'client_credentials', 'client_id': client_id,
                    'client_secret': self.options['azure_client_secret'],
                    'scope': resource + '/.default'}  # as the Azure CLI turns a resource into a scope
            return fetch_identity('the Azure AD token endpoint', '%s/%s/oauth2/v2.0/token'
                                  % (authority, self.options['azure_tenant_id']),
                                  {'Accept': 'application/json'}, timeout, form=form, use_proxy=True,
                                  field='access_token', retries=retries)
        params = {'resource': resource}
        if client_id:
            params['client_id'] = client_id
        endpoint, header = os.environ.get('IDENTITY_ENDPOINT'), os.environ.get('IDENTITY_HEADER')
        if endpoint and header:
            params['api-version'] = '2019-08-01'
            return fetch_identity('the App Service managed identity endpoint (IDENTITY_ENDPOINT)', endpoint,
                                  {'X-IDENTITY-HEADER': header}, timeout, params=params, field='access_token',
                                  retries=retries)
        params['api-version'] = '2018-02-01'
        imds = (os.environ.get('AZURE_POD_IDENTITY_AUTHORITY_HOST') or IMDS_AUTHORITY).rstrip('/')
        return fetch_identity('the managed identity endpoint (IMDS)', imds + IMDS_TOKEN_PATH, {'Metadata': 'true'},
                              timeout, params=params, field='access_token', retries=retries)

    def authenticate(self, client):
        opts = self.options
        token = self.azure_token(timeout=opts.get('timeout') or 30)
        return client.auth.azure.login(self.role(), token, subscription_id=opts.get('azure_subscription_id'),
                                       resource_group_name=opts.get('azure_resource_group_name'),
                                       vm_name=opts.get('azure_vm_name'), vmss_name=opts.get('azure_vmss_name'),
                                       use_token=False, mount_point=self.mount)['auth']


class GcpAuth(_RoleAuth):
    """Vault's gcp method: ``role`` and a JWT for the audience ``vault/<role>`` -- given as ``jwt``, or signed with
    a service-account key (``gcp_service_account_info``, or the key file ``gcp_credentials_file``: the ``iam``
    role type), or the instance's identity token from the GCE metadata server (the ``gce`` role type).
    ``role_id`` names the role when ``role`` is unset (community.hashi_vault's name for it)."""

    NAME = 'gcp'
    DEFAULT_MOUNT = 'gcp'
    SECRET_OPTIONS = ('jwt', 'gcp_service_account_info')
    WHO_OPTIONS = ('role', 'gcp_credentials_file')

    def validate(self):
        super(GcpAuth, self).validate()
        if self.options.get('gcp_service_account_info') and self.options.get('gcp_credentials_file'):
            self._fail('takes gcp_service_account_info or gcp_credentials_file, not both')
        if not self.options.get('jwt'):
            self.account()

    def account(self):
        """The service-account key as a dict, or None (then the metadata server). Errors never quote it."""
        info = self.options.get('gcp_service_account_info')
        name = 'gcp_service_account_info'
        if self.options.get('gcp_credentials_file'):
            path = os.path.abspath(os.path.expanduser(str(self.options['gcp_credentials_file'])))
            name = "gcp_credentials_file '%s'" % path
            try:
                with open(path) as handle:
                    info = handle.read()
            except (IOError, OSError) as exc:
                self._fail('cannot read %s: %s' % (name, exc.strerror or type(exc).__name__))
        if info in (None, ''):
            return None
        if isinstance(info, (str, bytes)):
            try:
                info = json.loads(info)
            except ValueError:
                self._fail('%s is not a service-account key: not JSON (its content is not shown)' % name)
        if not isinstance(info, dict) or info.get('type') != 'service_account' or not info.get('private_key') \
                or not info.get('client_email'):
            self._fail('%s is not a service-account key (a JSON object with "type": "service_account", '
                       'client_email and private_key; its content is not shown)' % name)
        return info

    def audience(self):
        return 'vault/%s' % self.role()

    def signed_jwt(self, info, now=None):
        """A JWT for ``vault/<role>`` signed RS256 with the key (its ``private_key_id`` as ``kid``), as Vault's
        ``iam`` login wants it: ``sub`` the service account, ``exp`` GCP_JWT_LIFETIME from now."""
        crypt, google_jwt = requires('google.auth.crypt', 'google.auth.jwt', package='google-auth', backend='vault')
        try:
            signer = crypt.RSASigner.from_service_account_info(info)
        except (ValueError, TypeError):
            self._fail('cannot use the service-account key: its private_key is not a usable RSA key (its content is '
                       'not shown)')
        now = int(now if now is not None else time.time())
        claims = {'sub': info['client_email'], 'aud': self.audience(), 'iat': now, 'exp': now + GCP_JWT_LIFETIME}
        token = google_jwt.encode(signer, claims)
        return token.decode('ascii') if isinstance(token, bytes) else token

    def gcp_token(self, timeout=30):
        if self.options.get('jwt'):
            return self.options['jwt']
        info = self.account()
        if info is not None:
            return self.signed_jwt(info)
        host = os.environ.get('GCE_METADATA_HOST') or GCE_METADATA_HOST
        url = 'http://%s/computeMetadata/v1/instance/service-accounts/default/identity' % host
        return fetch_identity('the GCE metadata server', url, {'Metadata-Flavor': 'Google'}, timeout,
                              params={'audience': self.audience(), 'format': 'full'},
                              retries=retry_count(self.options.get('retries')))

    def authenticate(self, client):
        token = self.gcp_token(timeout=self.options.get('timeout') or 30)
        return client.auth.gcp.login(self.role(), token, use_token=False, mount_point=self.mount)['auth']


METHODS = dict((cls.NAME, cls) for cls in (
    TokenAuth, NoneAuth, AppRoleAuth, UserpassAuth, LdapAuth, JwtAuth, KubernetesAuth, CertAuth, AwsIamAuth,
    AzureAuth, GcpAuth))


def auth_method(options):
    name = options.get('auth_method') or 'token'
    if name not in METHODS:
        raise InvalidOption("unknown auth_method '%s' (choose from %s)" % (name, ', '.join(sorted(METHODS))),
                            backend='vault')
    return METHODS[name](options)
