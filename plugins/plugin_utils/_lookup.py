# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one flow every lookup shares: options -> references -> one backend per scheme -> run cache -> read ->
select the key -> on_missing / on_denied / on_deleted -> audit. Lookup plugins only name their backend."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import contextlib
import json
import os
import sys
import time

from ansible import constants as C
from ansible.errors import AnsibleLookupError
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.lookup import LookupBase
from ansible.utils.display import Display

from ansible_collections.agentarea.secrets.plugins.plugin_utils import _broker, _lookup_config
from ansible_collections.agentarea.secrets.plugins.plugin_utils._bytecode import loading

display = Display()

_HINT = ('agentarea.secrets: the run cache is not enabled, so every task reads its secrets again (and logs in '
         'again). Enable it with callbacks_enabled = agentarea.secrets.run_cache in ansible.cfg, or set '
         'cache=false on the lookup to silence this.')

_SKIPPED = object()
#: the lookup option that says what to do with a term whose error has this category
_POLICY_OPTION = {'missing': 'on_missing', 'denied': 'on_denied', 'deleted': 'on_deleted'}

_RUNCACHE = 'ansible_collections.agentarea.secrets.plugins.plugin_utils._runcache'
_CORE = {}


class _Core:
    """The core names a lookup needs where it builds references and backends itself: local stores, and reads
    the broker does not do whole. Imported on first use: a call that the broker does whole (``_broker.lookup``)
    never imports them, nor any backend (each is a file Ansible would compile in every task's worker)."""

    def __init__(self):
        # pylint: disable=import-outside-toplevel
        with loading():
            from ansible_collections.agentarea.secrets.plugins.module_utils.core._backend import Secret
            from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import SecretError
            from ansible_collections.agentarea.secrets.plugins.module_utils.core._refs import parse_ref
            from ansible_collections.agentarea.secrets.plugins.module_utils.core._registry import backend_class
        self.Secret, self.SecretError, self.parse_ref = Secret, SecretError, parse_ref
        self.backend_class = backend_class


def _core():
    core = _CORE.get('names')
    if core is None:
        core = _CORE['names'] = _Core()
    return core


def _runcache():
    """The file run cache's module when this run has one, else None. The run_cache callback imports and starts it in
    the main process before any worker forks; without the callback it is never started, so a worker does not import
    it at all (Ansible compiles a collection's plugin files from source in every worker, for every task)."""
    return sys.modules.get(_RUNCACHE)


#: why this process cannot use the broker (set once; it then reads directly, as lookups did before the broker)
_NO_BROKER = {}


class _BrokerSide:
    """What a worker's backend sees as its run cache while the broker does its I/O: enough for ``validate()``
    (which asks whether a run cache revokes what the run creates: the broker does), nothing is kept here."""

    enabled = True
    key = None

    def get(self, kind, ident):
        return None

    def put(self, kind, ident, obj):
        pass

    def delete(self, kind, ident):
        pass

    def on_finish(self, ident, record):
        pass

    def forget_finish(self, ident):
        pass

    @contextlib.contextmanager
    def lock(self, kind, ident):
        yield

    lock_many = lock


_BROKER_SIDE = _BrokerSide()


def _without_broker(exc):
    """This process stops asking the broker (it cannot be reached or started) and says so once."""
    _NO_BROKER['why'] = str(exc)
    display.warning(_broker.FALLBACK_WARNING % exc)


def _brokered(scheme):
    return scheme in _broker.SCHEMES and not _NO_BROKER


#: Backends (with their connected clients) kept for the next lookup call in the same worker process: a loop calls
#: the lookup once per item, and each call would otherwise connect (and, without the run cache, log in) again.
#: Keyed by pid, scheme and the exact options, and only for POOL_TTL seconds, so credentials that a long task
#: would see renewed or rotated are picked up again and nothing crosses a fork.
_POOL = {}
POOL_TTL = 60.0
#: Resolved options per (plugin, direct arguments, templated values of the variables the options read), per
#: worker: resolving ~40 option sources costs 0.25-0.5 ms a call, and a loop calls with the same arguments item
#: after item. Only the public option API is used: ``set_options`` then ``get_options`` on a miss, our own copy on
#: a hit (ansible-core's private ``_options`` differ between releases).
_OPTIONS = {}
#: option variable names per lookup plugin (from its documentation, through the configuration manager)
_OPTION_VARS = {}
#: option environment variable names per lookup plugin
_OPTION_ENV = {}


@contextlib.contextmanager
def _empty_env_unset(names):
    """While options are resolved, the option environment variables among ``names`` that are set but empty are not
    set. AWX sets every environment variable a credential type injects, empty when its field is empty, and the
    backends (which read their ``ENV`` where a module runs) already take an empty variable for an unset one; the
    configuration manager would take it for the value "" (a string, ``False`` for a bool, an error for an int) and
    stop there, before the next variable, ansible.cfg, the default and the store's native variables. Only the names
    given are touched, only when empty, and they are set back (empty) before this returns."""
    hidden = [name for name in names if os.environ.get(name) == '']
    for name in hidden:
        del os.environ[name]
    try:
        yield
    finally:
        for name in hidden:
            os.environ[name] = ''


_LOOKUP_MODULE_PREFIX = 'ansible_collections.agentarea.secrets.plugins.lookup.'


def _register_option_definitions(module_name):
    """Hand Ansible's configuration manager the options of the lookup defined in ``module_name``, from
    plugin_utils/_lookup_config.py (generated from the lookup's documentation), before the plugin loader would parse
    that documentation itself: the loader skips the parse for a plugin whose options are known. A worker that loads
    the lookup then saves about 35 ms of CPU per task (issue 17). Anything unexpected leaves the loader to parse it,
    as before."""
    if not module_name.startswith(_LOOKUP_MODULE_PREFIX):
        return
    name = module_name[len(_LOOKUP_MODULE_PREFIX):]
    fqcn = 'agentarea.secrets.' + name
    try:
        raw = _lookup_config.DEFINITIONS.get(name)
        if raw is None:
            return
        definitions = None
        # the loader names a collection's plugin by its FQCN (ansible-core 2.17, 2.18) or its Python module (2.19+)
        for loaded_as in (fqcn, module_name):
            if not C.config.has_configuration_definition('lookup', loaded_as):
                definitions = definitions or json.loads(raw)
                C.config.initialize_plugin_configuration_definitions('lookup', loaded_as, definitions)
    except Exception:  # pylint: disable=broad-except
        return


class SecretLookupBase(LookupBase):
    """Subclasses set ``SCHEME`` (a backend lookup: terms are locations of that scheme) or leave it None (terms
    are full references of any scheme)."""

    def __init_subclass__(cls, **kwargs):
        super(SecretLookupBase, cls).__init_subclass__(**kwargs)
        _register_option_definitions(cls.__module__)

    SCHEME = None
    #: lookup options that become reference parameters (``version`` -> ``?version=``)
    REF_PARAMS = ('version',)
    #: the option that selects a field (``#key``)
    KEY_OPTION = 'key'

    _resolved = None
    _want_cache = True
    _hinted = False

    def resolve_options(self, variables=None, direct=None):
        """``set_options`` with the option variables templated first (group_vars hold ``"{{ vault_secret_id }}"``,
        not literals), remembered per worker for the same arguments and variable values."""
        var_options = self._templated_option_vars(variables)
        key = self._options_key(var_options, direct)
        memo = _OPTIONS.get(key) if key is not None else None
        if memo is None:
            self._resolved = None
            with _empty_env_unset(self._option_env_names()):
                self.set_options(var_options=var_options, direct=direct)
                memo = self.get_options()
            if key is not None:
                if len(_OPTIONS) >= 64:
                    _OPTIONS.clear()
                _OPTIONS[key] = memo
        self._resolved = dict(memo)

    def get_option(self, option, hostvars=None):
        if self._resolved is not None and hostvars is None:
            try:
                return self._resolved[option]
            except KeyError:
                pass
        return super(SecretLookupBase, self).get_option(option, hostvars=hostvars)

    def _option_var_names(self):
        """Every variable that some option of this lookup reads (its ``vars:`` entries)."""
        name = getattr(self, '_load_name', None)
        names = _OPTION_VARS.get(name)
        if names is None:
            names = []
            for definition in (self.option_definitions or {}).values():
                for entry in definition.get('vars') or ():
                    if entry.get('name') and entry['name'] not in names:
                        names.append(entry['name'])
            names = _OPTION_VARS[name] = tuple(names)
        return names

    def _option_env_names(self):
        """Every environment variable that some option of this lookup reads (its ``env:`` entries)."""
        name = getattr(self, '_load_name', None)
        names = _OPTION_ENV.get(name)
        if names is None:
            names = []
            for definition in (self.option_definitions or {}).values():
                for entry in definition.get('env') or ():
                    if entry.get('name') and entry['name'] not in names:
                        names.append(entry['name'])
            names = _OPTION_ENV[name] = tuple(names)
        return names

    def _templated_option_vars(self, variables):
        """The option variables that are set, templated as Ansible templates connection variables: a value that
        holds a template (from group_vars, ansible-vault files, other variables, ``lookup('env', ...)``) is
        rendered with the task's variables before it is used. On ansible-core 2.19+ only trusted templates are
        rendered (the templar leaves other values as they are)."""
        if not variables:
            return variables
        templar = getattr(self, '_templar', None)
        out = {}
        for name in self._option_var_names():
            if name not in variables:
                continue
            value = variables[name]
            if templar is not None:
                try:
                    value = templar.template(value)
                except Exception as exc:  # pylint: disable=broad-except
                    # the template's text or value may be a credential: name the variable and the kind of error
                    raise AnsibleLookupError('%s: cannot template the variable %s (%s)'
                                             % (self._plugin_name(), name, type(exc).__name__)) from None
            out[name] = value
        return out

    def _options_key(self, var_options, direct):
        """What the options depend on besides configuration and environment (the same for the whole run), or None
        when that cannot be told."""
        name = getattr(self, '_load_name', None)
        if not name:
            return None
        try:
            return (name, json.dumps(direct or {}, sort_keys=True, default=repr),
                    json.dumps(sorted((var_options or {}).items()), default=repr))
        except Exception:  # pylint: disable=broad-except
            return None

    def run(self, terms, variables=None, **kwargs):
        self.resolve_options(variables, kwargs)
        self._backends = {}
        self._want_cache = bool(self.get_option('cache'))
        if self._whole_in_broker(terms):
            values = self._run_in_broker(terms)
            if values is not None:
                return values
        runcache = _runcache()
        self._cache = runcache.RunCache() if self._want_cache and runcache is not None else None
        if self._cache is not None and not self._cache.enabled:
            self._cache = None
        self._hinted = False
        audit_path = self.get_option('audit_log')
        if audit_path:
            with loading():
                from ansible_collections.agentarea.secrets.plugins.module_utils.core._audit import AuditLog  # pylint: disable=import-outside-toplevel
            self._audit = AuditLog(audit_path)
        else:
            self._audit = None

        refs = [self._ref(term) for term in terms]
        results = [None] * len(refs)
        by_backend = {}
        for index, ref in enumerate(refs):
            by_backend.setdefault(ref.scheme, []).append(index)
        for scheme, indexes in by_backend.items():
            backend = self._backend(scheme, refs[indexes[0]])
            secrets_ = self._read_all(backend, [refs[i] for i in indexes])
            for i, outcome in zip(indexes, secrets_):
                results[i] = self._resolve(backend, refs[i], outcome)
        return [r for r in results if r is not _SKIPPED]

    # -- the whole call in the broker ----------------------------------------------------------------------------
    def _whole_in_broker(self, terms):
        """Whether the broker can do this call whole: every term of a store it reads, no audit event to write here
        (its fingerprint needs the value in this process), and a broker to ask."""
        if _NO_BROKER or not terms or self.get_option('audit_log'):
            return False
        if self.SCHEME is not None:
            return self.SCHEME in _broker.SCHEMES and all(isinstance(term, str) for term in terms)
        return all(isinstance(term, str) and term.partition('://')[0] in _broker.SCHEMES and '://' in term
                   for term in terms)

    def _run_in_broker(self, terms):
        """The values, with the lookup's policies applied to each term's error; None when the call must be done
        here (the broker cannot be reached: one warning, then this process reads, as ``_read_all`` does)."""
        request = {'scheme': self.SCHEME, 'terms': list(terms), 'options': dict(self._resolved or {}),
                   'key_option': self.KEY_OPTION, 'ref_params': list(self.REF_PARAMS),
                   'basedir': self._loader.get_basedir() if self._loader is not None else None,
                   'cache': self._want_cache}
        try:
            answer = _broker.lookup(request)
        except _broker.BrokerUnavailable as exc:
            _without_broker(exc)
            return None
        except (TypeError, ValueError):  # an option value JSON cannot carry
            return None
        if answer.get('thick'):
            return None
        if 'fatal' in answer:
            raise AnsibleLookupError(answer['fatal'])
        runcache = _runcache()
        if runcache is not None:
            runcache.learn('lookup', self._plugin_name())
        values = []
        for item in answer['results']:
            if 'category' in item:
                self._policy(item['category'], item['message'])  # raises, or the term is skipped
            elif 'bytes' in item:
                values.append(base64.b64decode(item['bytes']))
            else:
                values.append(item.get('value'))
        return values

    # -- references and backends -------------------------------------------------------------------------------
    def _ref(self, term):
        core = _core()
        try:
            if self.SCHEME is None:
                return core.parse_ref(term)
            backend = self._backend(self.SCHEME, term)
            params = {}
            for name in self.REF_PARAMS:
                if self._has_option(name):
                    params[name] = self.get_option(name)
            return backend.ref_from_term(term, key=self.get_option(self.KEY_OPTION), **params)
        except core.SecretError as exc:
            raise AnsibleLookupError(self._message(exc)) from exc

    def _has_option(self, name):
        if self._resolved is not None:
            return name in self._resolved
        try:
            self.get_option(name)
        except KeyError:
            return False
        return True

    def _backend(self, scheme, ref):
        if scheme in self._backends:
            return self._backends[scheme]
        core = _core()
        try:
            with loading():  # the backend's files, with bytecode
                cls = core.backend_class(scheme)
            options = {}
            for name in cls.ARGSPEC:
                if self._has_option(name):
                    options[name] = self.get_option(name)
            basedir = self._loader.get_basedir() if self._loader is not None else None
            key = self._pool_key(scheme, options, basedir)
            backend = self._pooled(key)
            if backend is None:
                backend = cls(options)
                backend.basedir = basedir
                backend.cache = _BROKER_SIDE if _brokered(scheme) else self._cache
                backend.validate()
                if len(_POOL) >= 32:
                    _POOL.clear()
                _POOL[key] = (time.time(), backend)
            backend.cache = _BROKER_SIDE if _brokered(scheme) else self._cache
            backend.wire_options = options
        except core.SecretError as exc:
            if exc.ref is None:
                exc.ref = ref
            raise AnsibleLookupError(self._message(exc)) from exc
        runcache = _runcache()
        if runcache is not None:
            runcache.learn('lookup', self._plugin_name())
            if self._cache is not None or _brokered(scheme):
                # the callback imports the backend's modules for the next tasks (for a brokered store: ours, and
                # never its SDK)
                runcache.learn('backend', scheme)
        self._backends[scheme] = backend
        return backend

    def _pool_key(self, scheme, options, basedir):
        # the options as given (credentials included: the key stays in this process's memory, like the options)
        return (os.getpid(), scheme, basedir, self._cache is not None,
                json.dumps(options, sort_keys=True, default=repr))

    @staticmethod
    def _pooled(key):
        entry = _POOL.get(key)
        if entry is None:
            return None
        now, pid = time.time(), os.getpid()
        if key[0] != pid or now - entry[0] > POOL_TTL:
            for stale in [k for k, (born, _b) in _POOL.items() if k[0] != pid or now - born > POOL_TTL]:
                del _POOL[stale]
            return None
        return entry[1]

    # -- reading -------------------------------------------------------------------------------------------------
    def _ident(self, backend, ref):
        return '%s|%s' % (backend.identity(), ref.without_key())

    def _read_all(self, backend, refs):
        """Secret or SecretError per ref; each distinct (reference, version) is read once, from the cache when
        another task of this run already read it and the store has not changed since. Remote stores are read by
        the run's broker; when it cannot be reached or started, here (with one warning)."""
        if _brokered(backend.NAME):
            bases = list(dict.fromkeys(ref.without_key() for ref in refs))  # distinct, in order
            try:
                outcomes = dict(zip(bases, _broker.read(backend.NAME, backend.wire_options, backend.basedir, bases,
                                                        self._want_cache)))
                return [outcomes[ref.without_key()] for ref in refs]
            except _broker.BrokerUnavailable as exc:
                _without_broker(exc)
                self._hinted = True
        backend.cache = self._cache
        if self._want_cache and self._cache is None and not self._hinted and not _NO_BROKER:
            self._hinted = True
            display.warning(_HINT)
        cache = self._cache if backend.CACHEABLE else None
        outcomes = {}
        wanted = []
        for ref in refs:
            base = ref.without_key()
            if base in outcomes or base in wanted:
                continue
            cached = self._cached(cache, backend, base)
            if cached is not None:
                outcomes[base] = cached
            else:
                wanted.append(base)
        if wanted and cache is not None:
            # Single flight: other workers (forks, hosts) may miss the same secrets right now. Take the lock of
            # every missing one (in one global order), look again, and read only what nobody read meanwhile.
            with cache.lock_many('value', [self._ident(backend, base) for base in wanted]):
                still = []
                for base in wanted:
                    cached = self._cached(cache, backend, base)
                    if cached is not None:
                        outcomes[base] = cached
                    else:
                        still.append(base)
                if still:
                    outcomes.update(zip(still, self._fetch(backend, still, cache)))
        elif wanted:
            outcomes.update(zip(wanted, self._fetch(backend, wanted, cache)))
        return [outcomes[ref.without_key()] for ref in refs]

    def _cached(self, cache, backend, base):
        if cache is None:
            return None
        entry = cache.get('value', self._ident(backend, base))
        if entry is None or entry.get('freshness') != backend.freshness(base):
            return None
        return _core().Secret.from_dict(entry['secret'])

    def _fetch(self, backend, refs, cache):
        core = _core()
        tokens = [backend.freshness(ref) for ref in refs] if cache is not None else None
        try:
            outcomes = backend.read_many(refs)
        except core.SecretError as exc:
            return [exc] * len(refs)
        if cache is not None:
            for ref, token, outcome in zip(refs, tokens, outcomes):
                if isinstance(outcome, core.Secret) and outcome.metadata.get('cache', True):
                    cache.put('value', self._ident(backend, ref), {'freshness': token, 'secret': outcome.to_dict()})
        return outcomes

    def _resolve(self, backend, ref, outcome):
        core = _core()
        try:
            if isinstance(outcome, core.SecretError):
                raise outcome
            value = backend.select(outcome, ref)
        except core.SecretError as exc:
            if exc.ref is None:
                exc.ref = ref
            if exc.backend is None:
                exc.backend = backend.NAME
            return self._on_error(ref, exc)
        self._emit('read', 'ok', backend, ref, outcome.version, value)
        return value

    def _on_error(self, ref, exc):
        outcome = exc.category if exc.category in _POLICY_OPTION else 'error'
        self._emit('read', outcome, None, ref, None, None, error=type(exc).__name__)
        try:
            return self._policy(exc.category, self._message(exc))
        except AnsibleLookupError as failure:
            raise failure from exc

    def _policy(self, category, message):
        """``_SKIPPED`` for a term whose error the lookup's on_missing/on_denied/on_deleted skips (with a warning
        for ``warn``); raises AnsibleLookupError with ``message`` otherwise."""
        policy = _POLICY_OPTION.get(category)
        action = self.get_option(policy) if policy else 'error'
        if action == 'warn':
            display.warning('%s: %s (skipped)' % (self._plugin_name(), message))
            return _SKIPPED
        if action == 'skip':
            return _SKIPPED
        raise AnsibleLookupError(message)

    def _message(self, exc):
        return to_native(exc)

    def _plugin_name(self):
        return getattr(self, 'ansible_name', None) or self._load_name

    def _emit(self, action, outcome, backend, ref, version, value, **details):
        if self._audit is None:
            return
        with loading():
            from ansible_collections.agentarea.secrets.plugins.module_utils.core._fingerprint import fingerprint  # pylint: disable=import-outside-toplevel
        fp = fingerprint(value, self.get_option('fingerprint_key')) if value is not None else None
        self._audit.emit(action, outcome, backend=ref.scheme, ref=ref, version=version, fingerprint=fp,
                         plugin=self._plugin_name(), **details)
