# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the modules share: argument specs built from the backends' ARGSPEC, backend construction from module
parameters, the translation of typed errors into ``fail_json``, and :class:`SecretModule`, the base of the modules
(options, backends, fingerprints, the audit log, failure and exit in one place)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import os
import threading

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.agentarea.secrets.plugins.module_utils.core._audit import AUDIT_ENV, AuditLog
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import SecretError, describe_exception
from ansible_collections.agentarea.secrets.plugins.module_utils.core._fingerprint import fingerprint as _fingerprint
from ansible_collections.agentarea.secrets.plugins.module_utils.core._refs import parse_ref
from ansible_collections.agentarea.secrets.plugins.module_utils.core._registry import (
    backend_class,
    connection_argspec,
    shared_options,
    store_option,
    union_argspec,
)

FINGERPRINT_KEY_SPEC = {'type': 'str', 'no_log': True}


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


def backend_of(cls, params, **overrides):
    """A validated backend of ``cls`` for a module that names its store by its options rather than by a reference
    (docker_secret, k8s_secret, external_secret, rollout): its own options from ``params`` (per-store forms as
    :func:`backend_options` says), then ``overrides`` (rollout's ``timeout`` is a wait, not a request timeout)."""
    return _configured(params, cls, cls.NAME, **overrides)


def _configured(params, cls, primary, **overrides):
    options = backend_options(params, cls, primary)
    options.update(overrides)
    backend = cls(options)
    backend.validate()
    return backend


class BackendPool:
    """One configured backend per scheme for a module run (built on first use), all of them configured for a
    module whose own store is ``primary``."""

    def __init__(self, module, primary):
        self.module, self.primary, self._backends = module, primary, {}
        self._lock = threading.Lock()  # a batch's threads share the pool

    def scheme(self, scheme):
        if scheme not in self._backends:
            with self._lock:
                if scheme not in self._backends:
                    self._backends[scheme] = _configured(self.module.params, backend_class(scheme), self.primary)
        return self._backends[scheme]

    def __call__(self, ref):
        """The backend for a reference (what StoreAccess and the Distributor take)."""
        return self.scheme(ref.scheme)


def fail(module, exc, **result):
    """``fail_json`` with the typed error's message: it names the backend, the reference and the cause."""
    result.setdefault('changed', False)
    if getattr(exc, 'ref', None) is None and result.get('ref'):
        exc.ref = result['ref']  # the message names the reference even when the error came from deep inside
    module.fail_json(msg=str(exc), error=type(exc).__name__, **result)


def failure_message(name, exc, ref=None):
    """The value-free message and error class of a failure: a typed error's message (naming ``ref`` when it did not
    yet), a string as it is, anything else the module's name and the exception's class and status."""
    if isinstance(exc, SecretError):
        if getattr(exc, 'ref', None) is None and ref:
            exc.ref = ref
        return str(exc), type(exc).__name__
    if isinstance(exc, BaseException):
        return '%s: unexpected error: %s' % (name, describe_exception(exc)), type(exc).__name__
    return str(exc), None


def module_argument_spec(own=None, stores=False, connections=(), fingerprint_key=False, audit_log=False):
    """The argument spec :class:`SecretModule` builds: the store options asked for (``stores=True``: every store's,
    the union of every backend's ``ARGSPEC``; a tuple of schemes: those stores' ``ARGSPEC``; ``connections``: those stores'
    connection options only), ``fingerprint_key`` and ``audit_log`` only when the module uses them, then the
    module's ``own`` options (which win: rollout's ``timeout`` is a wait, not the stores' request timeout)."""
    spec = {}
    if stores is True:
        spec.update(copy.deepcopy(union_argspec()))
    elif stores:
        for scheme in stores:
            for name, opt in backend_class(scheme).ARGSPEC.items():
                spec.setdefault(name, dict(opt))
    if connections:
        spec.update(connection_argspec(connections))
    spec.pop('fingerprint_key', None)  # the Docker store declares it; offered only to modules that fingerprint
    if fingerprint_key:
        spec['fingerprint_key'] = dict(FINGERPRINT_KEY_SPEC)
    if audit_log:
        spec['audit_log'] = {'type': 'path'}
    spec.update(copy.deepcopy(own or {}))
    return spec


def batch_item_spec(options, label=None):
    """The suboptions of a batch list option (``rotate``'s ``rotations``, ``secret``'s ``secrets``) built from the
    module's single-entry ``options``: the same options, none required and none defaulted at the top level (an item
    that leaves one unset takes the module's own value, then the single-entry default), plus ``label`` (default
    ``name``: what the item's result is named by)."""
    spec = {}
    for name, opt in options.items():
        opt = copy.deepcopy(opt)
        opt.pop('required', None)
        opt.pop('default', None)
        spec[name] = opt
    spec[label or 'name'] = {'type': 'str'}
    return spec


class ItemFailed(Exception):
    """A batch item's failure (what :meth:`SecretModule.fail` raises inside a batch): its value-free message,
    error class and result so far."""

    def __init__(self, msg, error=None, result=None):
        super(ItemFailed, self).__init__(msg)
        self.msg, self.error, self.result = msg, error, result or {}


class SecretModule:
    """The base of the collection's modules. It builds the ``AnsibleModule`` with exactly the options the module
    uses and offers what every module needs: ``params``, ``check_mode``, ``diff``, ``pool`` (one backend per
    scheme), ``backend(ref)``, ``fingerprint(value)``, ``audit`` (the audit log, or a no-op), ``fail(exc,
    **result)`` and ``exit(**result)``.

    A module subclasses it, sets ``NAME``, ``OPTIONS`` and the flags (``STORES``, ``CONNECTIONS``,
    ``FINGERPRINT_KEY``, ``AUDIT_LOG``) and implements ``run(self)`` returning the result dict; ``main()``
    runs it and turns a typed error into ``fail_json`` with its message (backend, reference, cause) and anything
    else into a message naming the module and the exception's class - never a traceback, never a value. What
    ``run`` put in ``self.result`` before failing is returned with the failure.
    """

    #: the module's name, used in messages about unexpected failures
    NAME = None
    #: the module's own options (its argument spec without the stores' options)
    OPTIONS = None
    #: the stores' options it takes: True (every store's, for a module that takes any reference), a tuple of
    #: schemes (those stores' options), or False
    STORES = False
    #: schemes whose connection options only it takes (a module that configures a store, reading no secrets)
    CONNECTIONS = ()
    #: whether it offers fingerprint_key (it fingerprints values) and audit_log (it writes audit events)
    FINGERPRINT_KEY = False
    AUDIT_LOG = False
    #: a module that takes many entries in one call: the name of its list option (its items take the options of
    #: ``BATCH_OPTIONS``, built by :func:`batch_item_spec`); it implements ``run_one(self)`` for one entry (its
    #: options in ``self.params``) and gets ``concurrency``
    BATCH = None
    BATCH_OPTIONS = ()
    #: the options every item must end up with (its own or the module's)
    BATCH_REQUIRED = ()

    @classmethod
    def batch_options(cls):
        """The batch list option (its items: the ``BATCH_OPTIONS`` of ``OPTIONS``, see :func:`batch_item_spec`) and
        ``concurrency``; a module adds them to its ``OPTIONS`` after its class body."""
        own = dict((k, v) for k, v in cls.OPTIONS.items() if k in cls.BATCH_OPTIONS)
        return {
            # not no_log as a whole: the items' names and references are shown; their secret options (value, a
            # target's credentials) are no_log in the items' own spec
            cls.BATCH: {'type': 'list', 'elements': 'dict', 'options': batch_item_spec(own), 'no_log': False},
            'concurrency': {'type': 'int', 'default': 1},
        }

    @classmethod
    def argument_spec(cls):
        """The module's whole argument spec (what it is constructed with; docs tests compare it with the docs)."""
        return module_argument_spec(cls.OPTIONS, stores=cls.STORES, connections=cls.CONNECTIONS,
                                    fingerprint_key=cls.FINGERPRINT_KEY, audit_log=cls.AUDIT_LOG)

    def __init__(self, argument_spec=None, stores=None, connections=None, fingerprint_key=None, audit_log=None,
                 supports_check_mode=True, primary=None, name=None, **kwargs):
        """The flags default to the class attributes (``OPTIONS``, ``STORES``, ...); ``kwargs`` go to
        ``AnsibleModule`` (``mutually_exclusive``, ``required_if``, ...)."""
        cls = type(self)
        self.uses_audit_log = cls.AUDIT_LOG if audit_log is None else audit_log
        spec = module_argument_spec(
            cls.OPTIONS if argument_spec is None else argument_spec,
            stores=cls.STORES if stores is None else stores,
            connections=cls.CONNECTIONS if connections is None else connections,
            fingerprint_key=cls.FINGERPRINT_KEY if fingerprint_key is None else fingerprint_key,
            audit_log=self.uses_audit_log)
        self.module = AnsibleModule(argument_spec=spec, supports_check_mode=supports_check_mode, **kwargs)
        self.name = name or cls.NAME or getattr(self.module, '_name', None) or 'module'
        #: the scheme of the module's own store (see backend_options); set it before the first backend is built
        self.primary = primary
        self.result = {'changed': False}
        self._pool = None
        self._pools = {}
        self._audit = None
        self._lock = threading.Lock()
        #: inside a batch: this item's options (the module's, overridden by the item's), and the item's index
        self._item_params = None
        self.item_index = None

    @property
    def params(self):
        return self.module.params if self._item_params is None else self._item_params

    @property
    def check_mode(self):
        return self.module.check_mode

    @property
    def diff(self):
        return self.module._diff  # pylint: disable=protected-access

    @property
    def pool(self):
        """One configured backend per scheme for this run (built on first use, for the store ``primary``)."""
        if self._pool is None:
            with self._lock:  # batch items share one pool per store they are for
                self._pool = self._pools.setdefault(self.primary, BackendPool(self.module, self.primary))
        return self._pool

    def backend(self, ref):
        """The configured backend of ``ref``'s store (one per scheme for the run)."""
        return self.pool(ref)

    def parse_ref(self, text, **result):
        """``text`` as a reference; an invalid one fails the module (with ``result``)."""
        try:
            return parse_ref(text)
        except SecretError as exc:
            self.fail(exc, **result)

    def fingerprint(self, value):
        """The fingerprint of ``value`` under the module's ``fingerprint_key`` (None for None)."""
        return None if value is None else _fingerprint(value, self.params.get('fingerprint_key'))

    @property
    def audit(self):
        """The audit log (``audit_log``, else AGENTAREA_SECRETS_AUDIT_LOG), or a no-op log for a module without
        one."""
        if self._audit is None:
            path = (self.params.get('audit_log') or os.environ.get(AUDIT_ENV)) if self.uses_audit_log else None
            self._audit = AuditLog(path)
        return self._audit

    def warn(self, message):
        self.module.warn(message)

    def fail(self, exc, **result):
        """Fail the module. A typed error: its message (it names the backend, the reference and the cause) and
        ``error`` (its class). A string: that message. Anything else: the module's name and the exception's class
        and status only (an SDK's message may quote a value). Inside a batch it fails only the item
        (:class:`ItemFailed`)."""
        result.pop('msg', None)
        if self._item_params is not None:
            msg, error = failure_message(self.name, exc, result.get('ref'))
            raise ItemFailed(msg, error, result)
        if isinstance(exc, SecretError):
            result.pop('error', None)
            fail(self.module, exc, **result)
        result.setdefault('changed', False)
        if isinstance(exc, BaseException):
            result['error'] = type(exc).__name__
            self.module.fail_json(msg='%s: unexpected error: %s' % (self.name, describe_exception(exc)), **result)
        self.module.fail_json(msg=str(exc), **result)

    def exit(self, changed=False, **result):
        self.module.exit_json(changed=changed, **result)

    def run_one(self):
        """One entry's work, its options in ``self.params`` (a batch module implements it)."""
        raise NotImplementedError

    def item(self, index, item):
        """A copy of this module for one batch item: the module's options overridden by the item's set ones; its
        own ``result``; the shared module, backends (one pool per own store) and audit log."""
        clone = copy.copy(self)
        params = dict(self.module.params)
        params.pop(self.BATCH, None)
        for key, value in item.items():
            if value is not None:
                params[key] = value
        missing = [k for k in self.BATCH_REQUIRED if params.get(k) is None]
        clone._item_params, clone.item_index, clone.result, clone._pool = params, index, {'changed': False}, None
        if missing:
            msg = '%s: %s[%d]: missing required option(s): %s' % (self.name, self.BATCH, index, ', '.join(missing))
            raise ItemFailed(msg, 'SecretError')
        return clone

    def run_item(self, index, item):
        """One batch item's result, shaped like the single-entry result: ``failed``, ``msg`` (value-free) and
        ``error`` when it failed, the item's ``name`` when given."""
        label = item.get('name')
        try:
            clone = self.item(index, item)
            try:
                out = clone.run_one()
            except ItemFailed:
                raise
            except Exception as exc:  # pylint: disable=broad-except
                msg, error = failure_message(self.name, exc, clone.result.get('ref'))
                raise ItemFailed(msg, error, clone.result)
            out = dict(clone.result if out is None else out)
        except ItemFailed as failure:
            out = dict(failure.result or {})
            out.update(failed=True, msg=failure.msg)
            out.setdefault('changed', False)
            if failure.error:
                out['error'] = failure.error
        if label is not None:
            out['name'] = label
        out.setdefault('ref', item.get('store') or item.get('ref'))
        return out

    def run_batch(self):
        """Every item of the batch option, ``concurrency`` at a time (threads; the store I/O is what waits), each
        with its own phases and guarantees; one result per item, in order. The call fails when an item failed,
        naming each by its ``name`` (or reference) with its value-free message; the others' results stand."""
        items = self.params[self.BATCH] or []
        workers = max(1, min(int(self.params.get('concurrency') or 1), len(items) or 1))
        if workers == 1:
            results = [self.run_item(i, item) for i, item in enumerate(items)]
        else:
            from concurrent.futures import ThreadPoolExecutor
            with ThreadPoolExecutor(max_workers=workers) as pool:
                results = list(pool.map(lambda pair: self.run_item(*pair), enumerate(items)))
        diffs = []
        for res in results:
            diff = res.pop('diff', None)
            if diff and res.get('changed'):
                label = res.get('name') or res.get('ref') or ''
                diffs.append(dict(diff, before_header='%s (before)' % label, after_header='%s (after)' % label))
        out = {'changed': any(r.get('changed') for r in results), 'results': results,
               'failed_count': sum(1 for r in results if r.get('failed'))}
        if diffs:
            out['diff'] = diffs
        if out['failed_count']:
            self.result = out
            self.fail('%s failed for %d of %d: %s' % (self.name, out['failed_count'], len(results), '; '.join(
                '%s: %s' % (r.get('name') or r.get('ref'), r.get('msg')) for r in results if r.get('failed'))), **out)
        return out

    def run(self):
        """The module's work: returns the result dict (or calls :meth:`exit`/:meth:`fail` itself). A batch module
        implements ``run_one`` instead: this runs the batch option when given, else the single entry."""
        if self.BATCH and self.params.get(self.BATCH) is not None:
            return self.run_batch()
        return self.run_one()

    def main(self):
        try:
            result = self.run()
        except Exception as exc:  # pylint: disable=broad-except
            self.fail(exc, **self.result)
        self.exit(**(self.result if result is None else result))
