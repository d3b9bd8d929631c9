# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connections of the access and store-audit modules to Vault (hvac), Kubernetes (RBAC API) and AWS (boto3).

The option names, types and ``no_log`` settings are the backends' own (``url``, ``token``, ``namespace``,
``ca_cert``, ``validate_certs``; ``region``, ``endpoint_url``, ``access_key``, ``secret_key``, ``profile``;
``kubeconfig``, ``context``, ``host``, ``api_key``), and so are the environment variables read when an option is
not set. Only a token logs in to Vault here: these modules run with an administrator's credentials.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.agentarea.secrets.plugins.module_utils._errors import InvalidOption, missing_dependency

VAULT_ARGSPEC = {
    'url': {'type': 'str'},
    'token': {'type': 'str', 'no_log': True},
    'namespace': {'type': 'str'},
    'ca_cert': {'type': 'path'},
    'validate_certs': {'type': 'bool'},
    'timeout': {'type': 'int', 'default': 30},
}
AWS_ARGSPEC = {
    'region': {'type': 'str'},
    'endpoint_url': {'type': 'str'},
    'access_key': {'type': 'str', 'no_log': False},
    'secret_key': {'type': 'str', 'no_log': True},
    'profile': {'type': 'str'},
}
K8S_ARGSPEC = {
    'kubeconfig': {'type': 'path'},
    'context': {'type': 'str'},
    'host': {'type': 'str'},
    'api_key': {'type': 'str', 'no_log': True},
}

ENV = {
    'vault': {
        'url': ('ANSIBLE_AGENTAREA_SECRETS_VAULT_URL', 'VAULT_ADDR'),
        'token': ('ANSIBLE_AGENTAREA_SECRETS_VAULT_TOKEN', 'VAULT_TOKEN'),
        'namespace': ('ANSIBLE_AGENTAREA_SECRETS_VAULT_NAMESPACE', 'VAULT_NAMESPACE'),
        'ca_cert': ('ANSIBLE_AGENTAREA_SECRETS_VAULT_CA_CERT', 'VAULT_CACERT'),
    },
    'aws': {
        'region': ('ANSIBLE_AGENTAREA_SECRETS_AWS_REGION', 'AWS_REGION', 'AWS_DEFAULT_REGION'),
        'profile': ('ANSIBLE_AGENTAREA_SECRETS_AWS_PROFILE', 'AWS_PROFILE'),
        'access_key': ('ANSIBLE_AGENTAREA_SECRETS_AWS_ACCESS_KEY',),
        'secret_key': ('ANSIBLE_AGENTAREA_SECRETS_AWS_SECRET_KEY',),
        'endpoint_url': ('ANSIBLE_AGENTAREA_SECRETS_AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_IAM', 'AWS_ENDPOINT_URL'),
    },
    'k8s': {
        'kubeconfig': ('ANSIBLE_AGENTAREA_SECRETS_K8S_KUBECONFIG', 'K8S_AUTH_KUBECONFIG', 'KUBECONFIG'),
        'context': ('ANSIBLE_AGENTAREA_SECRETS_K8S_CONTEXT', 'K8S_AUTH_CONTEXT'),
        'host': ('ANSIBLE_AGENTAREA_SECRETS_K8S_HOST', 'K8S_AUTH_HOST'),
        'api_key': ('ANSIBLE_AGENTAREA_SECRETS_K8S_API_KEY', 'K8S_AUTH_API_KEY'),
        'ca_cert': ('ANSIBLE_AGENTAREA_SECRETS_K8S_CA_CERT', 'K8S_AUTH_SSL_CA_CERT'),
        'validate_certs': ('ANSIBLE_AGENTAREA_SECRETS_K8S_VALIDATE_CERTS', 'K8S_AUTH_VERIFY_SSL'),
    },
}
_FALSE = ('0', 'false', 'no', 'off', 'n', 'f')


def resolve(params, system, environ=None):
    """The options of one system (``vault``, ``aws``, ``k8s``): the module's parameters, with unset ones filled
    from that system's environment variables (``ca_cert`` is VAULT_CACERT for Vault, K8S_AUTH_SSL_CA_CERT for
    Kubernetes)."""
    env = os.environ if environ is None else environ
    out = dict(params)
    for name, variables in ENV[system].items():
        if out.get(name) in (None, ''):
            value = next((env[v] for v in variables if env.get(v)), None)
            if name == 'validate_certs' and value is not None:
                value = value.strip().lower() not in _FALSE
            out[name] = value
    return out


def vault_client(opts):
    try:
        import hvac  # pylint: disable=import-outside-toplevel
    except ImportError as exc:
        raise missing_dependency('hvac', backend='vault', import_error=exc)
    if not opts.get('url'):
        raise InvalidOption('url is not set (nor VAULT_ADDR)', backend='vault')
    if not opts.get('token'):
        raise InvalidOption('token is not set (nor VAULT_TOKEN): a token allowed to manage policies is needed',
                            backend='vault')
    verify = opts['ca_cert'] if opts.get('ca_cert') else opts.get('validate_certs') is not False
    return hvac.Client(url=opts['url'], token=opts['token'], namespace=opts.get('namespace') or None,
                       verify=verify, timeout=opts.get('timeout') or 30)


def k8s_rbac_api(opts):
    """An RbacAuthorizationV1Api: from the kubeconfig (and context), from ``host`` + ``api_key``, or in-cluster."""
    try:
        from kubernetes import client, config  # pylint: disable=import-outside-toplevel
    except ImportError as exc:
        raise missing_dependency('kubernetes', backend='k8s', import_error=exc)
    cfg = client.Configuration()
    kubeconfig = opts.get('kubeconfig')
    if kubeconfig or opts.get('context') or not opts.get('host'):
        default = os.path.expanduser('~/.kube/config')
        if not kubeconfig and not os.path.exists(default) and os.environ.get('KUBERNETES_SERVICE_HOST'):
            config.load_incluster_config(client_configuration=cfg)
        else:
            try:
                config.load_kube_config(config_file=kubeconfig, context=opts.get('context'),
                                        client_configuration=cfg, persist_config=False)
            except Exception as exc:  # pylint: disable=broad-except
                raise InvalidOption('cannot load the kubeconfig %s: %s' % (kubeconfig or default, type(exc).__name__),
                                    backend='k8s')
    if opts.get('host'):
        cfg.host = opts['host']
    if opts.get('api_key'):
        cfg.api_key = {'authorization': 'Bearer ' + opts['api_key']}
    if opts.get('ca_cert'):
        cfg.ssl_ca_cert = opts['ca_cert']
    if opts.get('validate_certs') is False:
        cfg.verify_ssl = False
    return client.RbacAuthorizationV1Api(client.ApiClient(cfg))


def aws_session(opts):
    try:
        import boto3  # pylint: disable=import-outside-toplevel
    except ImportError as exc:
        raise missing_dependency('boto3', backend='aws', import_error=exc)
    if bool(opts.get('access_key')) != bool(opts.get('secret_key')):
        raise InvalidOption('access_key and secret_key must be given together', backend='aws')
    kw = {}
    if opts.get('profile'):
        kw['profile_name'] = opts['profile']
    if opts.get('access_key'):
        kw.update(aws_access_key_id=opts['access_key'], aws_secret_access_key=opts['secret_key'])
    if opts.get('region'):
        kw['region_name'] = opts['region']
    return boto3.session.Session(**kw)
