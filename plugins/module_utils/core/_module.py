# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the modules share: argument specs built from the backends' ARGSPEC, backend construction from module
parameters, and the translation of typed errors into ``fail_json``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import SecretError
from ansible_collections.agentarea.secrets.plugins.module_utils.core._refs import parse_ref
from ansible_collections.agentarea.secrets.plugins.module_utils.core._registry import (
    backend_class,
    shared_options,
    store_option,
    union_argspec,
)

FINGERPRINT_KEY_SPEC = {'type': 'str', 'no_log': True}


def ref_argument_spec(**extra):
    """The argument spec of a module that takes any reference: the union of every backend's options plus
    ``extra`` (the module's own), and ``fingerprint_key``."""
    spec = copy.deepcopy(union_argspec())
    spec['fingerprint_key'] = dict(FINGERPRINT_KEY_SPEC)
    spec['audit_log'] = {'type': 'path'}
    spec.update(extra)
    return spec


#: keys of a catalog entry (at any depth) whose values are credentials and never shown
SENSITIVE_KEYS = ('password', 'admin_password', 'token', 'secret_id', 'client_secret', 'api_key', 'headers',
                  'private_key', 'value', 'jwt', 'session_token', 'secret_key', 'env')


#: settings of an api_key hook (``target.register``, ``test``, ``revoke``) that carry provider tokens, a URL's
#: query included: masked whole, URLs too
HOOK_SENSITIVE_KEYS = ('url', 'body', 'env', 'headers')


def protect_catalog(module, entries):
    """Add every credential written inline in catalog entries (an admin password, a hook's headers, URL or body)
    to the values Ansible masks in this module's output, its ``invocation`` included. References (``vault://...``)
    are the recommended form; this keeps inline ones out of results and logs all the same."""
    def walk(node, sensitive, urls=False):
        if isinstance(node, dict):
            for key, val in node.items():
                walk(val, sensitive or str(key).lower() in SENSITIVE_KEYS, urls)
        elif isinstance(node, (list, tuple)):
            for val in node:
                walk(val, sensitive, urls)
        elif sensitive and isinstance(node, str) and node and (urls or '://' not in node[:12]):
            module.no_log_values.add(node)
    for entry in entries or []:
        if isinstance(entry, dict):
            for field in ('target', 'revoke', 'consumers'):
                walk(entry.get(field), False)
            target = entry.get('target')
            for hook in ('register', 'test', 'revoke'):
                spec = target.get(hook) if isinstance(target, dict) else None
                if isinstance(spec, dict):
                    for key in HOOK_SENSITIVE_KEYS:
                        walk(spec.get(key), True, urls=True)


def audit_log(module):
    """The module's audit log (``audit_log``, else AGENTAREA_SECRETS_AUDIT_LOG); a no-op log when neither."""
    import os  # pylint: disable=import-outside-toplevel
    from ansible_collections.agentarea.secrets.plugins.module_utils.core._audit import AUDIT_ENV, AuditLog
    return AuditLog(module.params.get('audit_log') or os.environ.get(AUDIT_ENV))


def backend_options(params, cls, primary):
    """The options of backend ``cls`` from a module's parameters. An option several stores share a name for
    (``ca_cert``, ``validate_certs``, ``access_token``, ``force_delete``) is taken from the store's own form
    (``k8s_validate_certs``) when given; the plain form belongs to the module's own store (``primary``, the scheme of
    its ``ref`` or ``store``) when that store takes it, and otherwise to the other stores. So ``validate_certs: false``
    meant for a Vault store never turns off TLS verification toward a Kubernetes consumer."""
    shared = shared_options()
    primary_cls = backend_class(primary) if primary else None
    opts = {}
    for name, spec in cls.ARGSPEC.items():
        value = params.get(name)
        if name in shared:
            own = params.get(store_option(cls.NAME, name))
            plain_is_ours = primary_cls is None or primary_cls is cls or name not in primary_cls.ARGSPEC
            value = own if own is not None else (value if plain_is_ours else spec.get('default'))
        opts[name] = value
    return opts


def backend_for(module, ref, primary=None):
    """The backend for ``ref``, configured from the module's parameters (each backend reads only its own; shared
    names as :func:`backend_options` says, ``primary`` defaulting to ``ref``'s own scheme)."""
    return _configured(module.params, backend_class(ref.scheme), primary or ref.scheme)


def backend_of(cls, params, **overrides):
    """A validated backend of ``cls`` for a module that names its store by its options rather than by a reference
    (docker_secret, k8s_secret, external_secret, rollout): its own options from ``params`` (per-store forms as
    :func:`backend_options` says), then ``overrides`` (rollout's ``timeout`` is a wait, not a request timeout)."""
    options = backend_options(params, cls, cls.NAME)
    options.update(overrides)
    backend = cls(options)
    backend.validate()
    return backend


def _configured(params, cls, primary):
    backend = cls(backend_options(params, cls, primary))
    backend.validate()
    return backend


class BackendPool:
    """One configured backend per scheme for a module run (built on first use), all of them configured for a
    module whose own store is ``primary``."""

    def __init__(self, module, primary):
        self.module, self.primary, self._backends = module, primary, {}

    def scheme(self, scheme):
        if scheme not in self._backends:
            self._backends[scheme] = _configured(self.module.params, backend_class(scheme), self.primary)
        return self._backends[scheme]

    def __call__(self, ref):
        """The backend for a reference (what StoreAccess and the Distributor take)."""
        return self.scheme(ref.scheme)


def parse_module_ref(module, text, **result):
    try:
        return parse_ref(text)
    except SecretError as exc:
        fail(module, exc, **result)


def fail(module, exc, **result):
    """``fail_json`` with the typed error's message: it names the backend, the reference and the cause."""
    result.setdefault('changed', False)
    if getattr(exc, 'ref', None) is None and result.get('ref'):
        exc.ref = result['ref']  # the message names the reference even when the error came from deep inside
    module.fail_json(msg=str(exc), error=type(exc).__name__, **result)
