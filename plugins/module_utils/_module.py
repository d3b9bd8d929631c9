# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the modules share: argument specs built from the backends' ARGSPEC, backend construction from module
parameters, and the translation of typed errors into ``fail_json``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.agentarea.secrets.plugins.module_utils._errors import SecretError
from ansible_collections.agentarea.secrets.plugins.module_utils._refs import parse_ref
from ansible_collections.agentarea.secrets.plugins.module_utils._registry import backend_class, union_argspec

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


def protect_catalog(module, entries):
    """Add every credential written inline in catalog entries (an admin password, a hook's headers) to the values
    Ansible masks in this module's output, its ``invocation`` included. References (``vault://...``) are the
    recommended form; this keeps inline ones out of results and logs all the same."""
    def walk(node, sensitive):
        if isinstance(node, dict):
            for key, val in node.items():
                walk(val, sensitive or str(key).lower() in SENSITIVE_KEYS)
        elif isinstance(node, (list, tuple)):
            for val in node:
                walk(val, sensitive)
        elif sensitive and isinstance(node, str) and node and '://' not in node[:12]:
            module.no_log_values.add(node)
    for entry in entries or []:
        if isinstance(entry, dict):
            for field in ('target', 'revoke', 'consumers'):
                walk(entry.get(field), False)


def audit_log(module):
    """The module's audit log (``audit_log``, else AGENTAREA_SECRETS_AUDIT_LOG); a no-op log when neither."""
    import os  # pylint: disable=import-outside-toplevel
    from ansible_collections.agentarea.secrets.plugins.module_utils._audit import AUDIT_ENV, AuditLog
    return AuditLog(module.params.get('audit_log') or os.environ.get(AUDIT_ENV))


def backend_for(module, ref):
    """The backend for ``ref``, configured from the module's parameters (each backend reads only its own)."""
    cls = backend_class(ref.scheme)
    backend = cls(dict((name, module.params.get(name)) for name in cls.ARGSPEC))
    backend.validate()
    return backend


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
