# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the Kubernetes backend reaches a cluster, and how the client's exceptions become typed errors.

Connection, first that applies: ``in_cluster: true``; a kubeconfig (the option or ``context``); ``host`` (with
``api_key``, ``ca_cert``, ``validate_certs``) without a kubeconfig; the service account of the pod we run in (AWX or
an execution environment on Kubernetes: ``KUBERNETES_SERVICE_HOST`` and a mounted token) unless
``in_cluster: false``; ``~/.kube/config``. ``host``/``api_key``/``ca_cert``/``validate_certs`` given together with a
kubeconfig override what it says, as in kubernetes.core.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import (
    BackendMisconfigured,
    BackendUnavailable,
    InvalidOption,
    SecretAccessDenied,
    SecretConflict,
    SecretError,
    SecretNotFound,
    describe_exception,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.core._deps import requires

SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount'
DEFAULT_KUBECONFIG = os.path.join('~', '.kube', 'config')

_TRUE = ('1', 'true', 'yes', 'on', 'y', 't')
_FALSE = ('0', 'false', 'no', 'off', 'n', 'f')


def to_bool(value, name):
    """Options from the environment arrive as strings."""
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidOption("%s must be a boolean, got %r" % (name, value), backend='k8s')


def source(opts, environ):
    """``in_cluster``, ``kubeconfig`` or ``host``: where the connection settings come from (no I/O but a stat)."""
    if opts.get('in_cluster'):
        return 'in_cluster'
    if opts.get('kubeconfig') or opts.get('context'):
        return 'kubeconfig'
    if opts.get('host'):
        return 'host'
    if opts.get('in_cluster') is None and environ.get('KUBERNETES_SERVICE_HOST') \
            and os.path.exists(os.path.join(SA_DIR, 'token')):
        return 'in_cluster'
    return 'kubeconfig'


def configuration(opts, environ):
    """A ``kubernetes.client.Configuration`` for the options (reads the kubeconfig or the service account)."""
    k8s_client, k8s_config, config_exception, incluster_config = requires(
        'kubernetes.client', 'kubernetes.config', 'kubernetes.config.config_exception',
        'kubernetes.config.incluster_config', package='kubernetes', backend='k8s')
    ConfigException = config_exception.ConfigException  # pylint: disable=invalid-name
    InClusterConfigLoader = incluster_config.InClusterConfigLoader  # pylint: disable=invalid-name
    cfg = k8s_client.Configuration()
    where = source(opts, environ)
    try:
        if where == 'in_cluster':
            InClusterConfigLoader(token_filename=os.path.join(SA_DIR, 'token'),
                                  cert_filename=os.path.join(SA_DIR, 'ca.crt'), environ=environ).load_and_set(cfg)
        elif where == 'kubeconfig':
            path = opts.get('kubeconfig') or DEFAULT_KUBECONFIG
            paths = [os.path.expanduser(p) for p in path.split(os.pathsep) if p]
            if not any(os.path.exists(p) for p in paths):
                raise InvalidOption('no Kubernetes connection: the kubeconfig %s does not exist; set kubeconfig (or '
                                    'K8S_AUTH_KUBECONFIG / KUBECONFIG), host and api_key, or in_cluster' % path,
                                    backend='k8s')
            k8s_config.load_kube_config(config_file=os.pathsep.join(paths), context=opts.get('context'),
                                        client_configuration=cfg, persist_config=False)
    except ConfigException as exc:
        if where == 'kubeconfig' and opts.get('context'):
            missing = _missing_context(k8s_config, os.pathsep.join(paths), opts['context'])
            if missing is not None:
                raise missing
        # its messages name files, contexts and missing fields, not credentials
        raise InvalidOption('cannot load the Kubernetes configuration (%s): %s' % (where, str(exc)[:300]),
                            backend='k8s')
    except (IOError, OSError) as exc:
        raise InvalidOption('cannot read the Kubernetes configuration (%s): %s' % (where, describe_exception(exc)),
                            backend='k8s')
    if opts.get('host'):
        cfg.host = opts['host'].rstrip('/')
    if opts.get('api_key'):
        token = opts['api_key'][7:] if opts['api_key'].lower().startswith('bearer ') else opts['api_key']
        # kubernetes >= 31 reads 'BearerToken' first, older clients 'authorization': set both, and drop a
        # kubeconfig's refresh hook that would put its own token back
        cfg.api_key = {'BearerToken': token, 'authorization': token}
        cfg.api_key_prefix = {'BearerToken': 'Bearer', 'authorization': 'Bearer'}
        cfg.refresh_api_key_hook = None
    if opts.get('ca_cert'):
        cfg.ssl_ca_cert = os.path.expanduser(opts['ca_cert'])
    if opts.get('validate_certs') is not None:
        cfg.verify_ssl = opts['validate_certs']
    cfg.retries = 2
    return cfg


def _missing_context(k8s_config, path, context):
    """InvalidOption when the kubeconfig has no context ``context`` (naming the contexts it has), else None: a
    configuration error, never a missing secret."""
    try:
        contexts, _active = k8s_config.list_kube_config_contexts(config_file=path)
    except Exception:  # pylint: disable=broad-except
        return None
    names = sorted(c.get('name') for c in contexts or [] if isinstance(c, dict) and c.get('name'))
    if context in names:
        return None
    return InvalidOption("cannot load the Kubernetes configuration (kubeconfig): the kubeconfig %s has no context "
                         "'%s' (it has: %s): wrong context or wrong kubeconfig?"
                         % (path, context, ', '.join(names) or 'none'), backend='k8s')


def status_of(exc):
    """HTTP status and the Kubernetes ``Status`` reason/message of an ApiException (never its body as a whole).

    The API server's Status messages name objects, fields and keys, not Secret values, so the message is kept;
    the rest of the body (which may echo what was sent) is not."""
    status = getattr(exc, 'status', None)
    reason, message = getattr(exc, 'reason', None), None
    body = getattr(exc, 'body', None)
    if body:
        try:
            data = json.loads(body)
        except (TypeError, ValueError):
            data = None
        if isinstance(data, dict):
            reason = data.get('reason') or reason
            message = data.get('message')
    return status, reason, (message or '')[:400]


def _kind_of(exc):
    """``details.kind`` of a Kubernetes Status body (``namespaces`` when the namespace is what is missing)."""
    try:
        data = json.loads(getattr(exc, 'body', None) or '')
    except (TypeError, ValueError):
        return None
    details = data.get('details') if isinstance(data, dict) else None
    return details.get('kind') if isinstance(details, dict) else None


def api_error(exc, ref=None, what=None, backend='k8s'):
    """A typed error for an exception of the kubernetes client."""
    if isinstance(exc, SecretError):
        return exc
    status, reason, message = status_of(exc)
    prefix = '%s: ' % what if what else ''
    if status == 404 and _kind_of(exc) == 'namespaces':
        # creating in (or acting on) a namespace that does not exist: the configuration points nowhere
        return BackendMisconfigured('%s%s: wrong namespace or wrong cluster?' % (prefix, message or 'namespace not found'),
                                    ref=ref, backend=backend)
    if status is None or not isinstance(status, int):
        return BackendUnavailable('%scannot reach the Kubernetes API: %s' % (prefix, describe_exception(exc)),
                                  ref=ref, backend=backend)
    detail = message or reason or 'HTTP %s' % status
    if status == 404:
        return SecretNotFound('%s%s' % (prefix, detail), ref=ref, backend=backend)
    if status in (401, 403):
        return SecretAccessDenied('%s%s (HTTP %s; check the credentials and RBAC of the user or service account)'
                                  % (prefix, detail, status), ref=ref, backend=backend)
    if status == 409:
        return SecretConflict('%s%s' % (prefix, detail), ref=ref, backend=backend)
    if status in (400, 415, 422):
        return InvalidOption('%s%s' % (prefix, detail), ref=ref, backend=backend)
    return BackendUnavailable('%s%s (HTTP %s)' % (prefix, detail, status), ref=ref, backend=backend)
