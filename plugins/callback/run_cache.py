# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: run_cache
type: aggregate
short_description: One login and one read per secret per playbook run
version_added: 0.1.0
description:
  - Starts the run's broker in the main process before the first task (without this callback the first lookup
    of a remote store starts it), so its start-up stays off the task path, and stops it at the end of the run.
    The broker reads Vault, AWS, Azure, Google Cloud and Kubernetes for every worker with one client and login
    per identity, and keeps the values it read in its memory for the run.
  - Starts the run-scoped file cache that lookups of other stores (and lookups that cannot reach the broker)
    share across Ansible's worker processes, so a lookup held in a variable and referenced by every task logs in
    once and reads each secret once.
  - Values are encrypted with AES-256-GCM under a key that exists only in the memory of the C(ansible-playbook)
    process; the cache directory is private (0700) and removed when the run ends.
  - When a task of this collection reports a change (a write, a rotation), or a task of a module of this
    collection that writes fails (it may have committed a write before failing), cached values are dropped, so
    later lookups read what the store holds now. Local files are also checked for changes made by other means.
  - At the end of the run it revokes what the run created and did not ask to keep (Vault tokens and leases).
  - Imports the SDKs of the backends the run uses (except those the broker reads), and the collection's lookup
    plugins, once in the main process, so that the workers Ansible forks for every task inherit them instead of
    importing them again. By default it
    imports the lookups that the playbook file calls before the first task, and learns the others from the run
    (the first task that uses one pays, the tasks after it do not); O(preload) can name backends instead.
  - Enable it with one line of configuration, C(callbacks_enabled = agentarea.secrets.run_cache) in the
    C([defaults]) section of C(ansible.cfg) or C(ANSIBLE_CALLBACKS_ENABLED=agentarea.secrets.run_cache).
requirements:
  - cryptography (a dependency of ansible-core)
options:
  preload:
    description:
      - What to import in the main process before workers fork.
      - V(auto) imports the lookup plugins that the playbook file names in C(lookup) or C(query) calls (and the
        SDKs of their backends) before the first task, and after each task what the run's lookups have used so
        far (lookups in roles, included files or inventory variables).
      - A backend name (V(vault), V(aws), V(ssm), V(azure), V(gcp), V(k8s), V(docker), V(pass), V(dotenv), V(file),
        V(env)) imports that backend's SDK and lookup plugin when the run starts, before the first task. Names
        replace the default; list V(auto) with them to keep it.
      - V(none) (or an empty list) imports nothing ahead; every task then imports what it needs itself.
      - A playbook never imports the SDK of a backend it does not use.
    type: list
    elements: str
    default: [auto]
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_PRELOAD
    ini:
      - section: agentarea_secrets
        key: preload
"""

import importlib
import re

from ansible.plugins.callback import CallbackBase

from ansible_collections.agentarea.secrets.plugins.plugin_utils import _broker, _runcache

# What each backend imports when it is used (kept in step with the backends' lazy imports); imported in the main
# process so that every worker forked after it inherits the modules.
_PRELOAD = {
    'vault': ('hvac', 'requests', 'requests.adapters', 'urllib3.util.retry'),
    'aws': ('boto3', 'botocore.config', 'botocore.session'),
    'ssm': ('boto3', 'botocore.config', 'botocore.session'),
    'azure': ('azure.keyvault.secrets', 'azure.core.exceptions', 'azure.core.credentials', 'azure.identity'),
    'gcp': ('google.auth', 'google.cloud.secretmanager', 'google.oauth2.credentials', 'google_crc32c'),
    'k8s': (),  # our own REST client (backends/k8s/_client.py): nothing beyond the backend module
    'docker': ('docker', 'docker.tls'),
}
_LOOKUPS = ('vault', 'aws', 'ssm', 'azure', 'gcp', 'k8s', 'pass', 'dotenv', 'file', 'env', 'secret')
_SCHEMES = ('vault', 'aws', 'ssm', 'azure', 'gcp', 'k8s', 'docker', 'pass', 'dotenv', 'file', 'env')
_LOOKUP_CALL = re.compile(r'(?:lookup|query|q)\s*\(\s*[\'"]agentarea\.secrets\.(\w+)[\'"]')
_SCHEME = re.compile(r'[\'"]([a-z0-9]+)://')


def lookups_in(text):
    """(lookup names, backend names) that a playbook's text calls: a cheap scan, refined by what the run uses."""
    lookups = sorted(set(n for n in _LOOKUP_CALL.findall(text) if n in _LOOKUPS))
    backends = set(n for n in lookups if n != 'secret')
    if 'secret' in lookups:  # references of any scheme: take the schemes the file spells out
        backends.update(n for n in _SCHEME.findall(text) if n in _SCHEMES)
    return lookups, sorted(backends)


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'agentarea.secrets.run_cache'
    CALLBACK_NEEDS_ENABLED = True

    _broker = False  # whether this run's broker was started here

    def __init__(self, display=None, options=None):
        super(CallbackModule, self).__init__(display=display, options=options)
        _runcache.start()
        self._broker = self._start_broker()
        self._finished = False
        self._learn = True
        self._preloaded = set()

    def set_options(self, task_keys=None, var_options=None, direct=None):
        super(CallbackModule, self).set_options(task_keys=task_keys, var_options=var_options, direct=direct)
        names = []
        for item in self.get_option('preload') or []:
            names.extend(n.strip() for n in str(item).split(',') if n.strip())
        self._learn = 'auto' in names
        for backend in names:
            if backend not in ('auto', 'none'):
                self._preload('backend', backend)
                self._preload('lookup', 'agentarea.secrets.%s' % backend)

    def _start_broker(self):
        """The run's broker, started here before the first task (its cold start stays off the task path)."""
        try:
            _broker.client(start=True)
            return True
        except _broker.BrokerUnavailable as exc:
            self._display.vvv('agentarea.secrets.run_cache: no broker (%s); lookups will start it or read '
                              'directly' % exc)
            return False

    # -- preloading ---------------------------------------------------------------------------------------------
    def _preload(self, kind, name):
        """Import a backend's SDK (and let the backend warm its own caches), or load a lookup plugin through
        Ansible's plugin loader (module, documentation and configuration definitions, all cached by the loader)."""
        if (kind, name) in self._preloaded:
            return
        self._preloaded.add((kind, name))
        # pylint: disable=import-outside-toplevel
        try:
            if kind == 'lookup':
                from ansible.plugins.loader import lookup_loader
                lookup_loader.get(name, class_only=True)
                return
            if self._broker and name in _broker.SCHEMES:
                # the broker reads this store, and builds its references too: no worker needs its modules
                return
            from ansible_collections.agentarea.secrets.plugins.module_utils.core._registry import backend_class
            # our backend's modules: a worker that reads a local store builds the backend (options, references,
            # validation); imported here, forks inherit them
            cls = backend_class(name)
            for module in _PRELOAD.get(name, ()):
                importlib.import_module(module)
            hook = getattr(cls, 'preload', None)
            if hook is not None:
                hook()
        except Exception as exc:  # pylint: disable=broad-except
            # an SDK that is not installed, or a name we do not know: the task that needs it reports it
            self._display.vvv('agentarea.secrets.run_cache: cannot preload %s %s: %s'
                              % (kind, name, type(exc).__name__))

    def _learn_from_workers(self):
        if self._learn:
            for kind, name in _runcache.learned():
                self._preload(kind, name)

    def v2_playbook_on_start(self, playbook):
        if not self._learn:
            return
        try:
            with open(playbook._file_name) as handle:  # pylint: disable=protected-access
                lookups, backends = lookups_in(handle.read())
        except (AttributeError, IOError, OSError, TypeError, UnicodeDecodeError):
            return
        for backend in backends:
            self._preload('backend', backend)
        for name in lookups:
            self._preload('lookup', 'agentarea.secrets.%s' % name)

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._learn_from_workers()

    def v2_playbook_on_handler_task_start(self, task):
        self._learn_from_workers()

    def _cleanup(self, record):
        # pylint: disable=import-outside-toplevel
        from ansible_collections.agentarea.secrets.plugins.module_utils.core._registry import backend_class
        cls = backend_class(record['backend'])
        return cls.cleanup_run(record)

    def _changed_a_store(self, result, failed=False):
        """Drop cached values after a task of ours changed a store. A failed task of a module that writes may
        have committed a write before it failed (a rotation that failed after promotion, a write whose answer
        was lost, ``failed_when`` on a changed result), so its failure drops them too."""
        action = getattr(result._task, 'resolved_action', None) or result._task.action
        if _broker.changes_store(action, result._result, check_mode=bool(getattr(result._task, 'check_mode', False)),
                                 failed=failed):
            _runcache.RunCache().flush('value')
            if self._broker:
                _broker.invalidate()

    def v2_runner_on_ok(self, result):
        self._changed_a_store(result)

    def v2_runner_item_on_ok(self, result):
        self._changed_a_store(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._changed_a_store(result, failed=True)

    def v2_runner_item_on_failed(self, result):
        self._changed_a_store(result, failed=True)

    def v2_playbook_on_stats(self, stats):
        if self._finished:
            return
        self._finished = True
        results = (_broker.stop() or []) if self._broker else []
        results.extend(_runcache.finish(cleanup=self._cleanup))
        for result in results:
            if isinstance(result, dict) and result.get('error'):
                self._display.warning('agentarea.secrets: clean-up of %s at the end of the run failed: %s'
                                      % (result.get('record'), result['error']))
            elif result:
                self._display.vv('agentarea.secrets: %s' % (result,))
