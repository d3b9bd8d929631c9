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
  - Starts the run-scoped cache that the collection's lookups share across Ansible's worker processes, so a
    lookup held in a variable and referenced by every task logs in once and reads each secret once.
  - Values are encrypted with AES-256-GCM under a key that exists only in the memory of the C(ansible-playbook)
    process; the cache directory is private (0700) and removed when the run ends.
  - When a task of this collection reports a change (a write, a rotation), cached values are dropped, so later
    lookups read what the store holds now. Local files are also checked for changes made by other means.
  - At the end of the run it revokes what the run created and did not ask to keep (Vault tokens and leases).
  - Optionally imports the SDKs of the backends you use once in the main process, so that workers do not
    import them again for every task.
  - Enable it with one line of configuration, C(callbacks_enabled = agentarea.secrets.run_cache) in the
    C([defaults]) section of C(ansible.cfg) or C(ANSIBLE_CALLBACKS_ENABLED=agentarea.secrets.run_cache).
requirements:
  - cryptography (a dependency of ansible-core)
options:
  preload:
    description:
      - Backends whose SDKs are imported in the main process before workers fork.
      - C(auto) preloads nothing by itself but keeps imports lazy; name backends to trade start-up time for
        faster tasks.
    type: list
    elements: str
    default: []
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_PRELOAD
    ini:
      - section: agentarea_secrets
        key: preload
"""

import importlib

from ansible.plugins.callback import CallbackBase

from ansible_collections.agentarea.secrets.plugins.plugin_utils import _runcache

# What each backend imports; loaded before the fork so every worker inherits the modules.
_PRELOAD = {
    'vault': ('hvac',),
    'aws': ('boto3', 'botocore.session'),
    'azure': ('azure.keyvault.secrets', 'azure.identity'),
    'gcp': ('google.cloud.secretmanager',),
    'k8s': ('kubernetes.client', 'kubernetes.config'),
    'docker': ('docker',),
}


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'agentarea.secrets.run_cache'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None, options=None):
        super(CallbackModule, self).__init__(display=display, options=options)
        _runcache.start()
        self._finished = False

    def set_options(self, task_keys=None, var_options=None, direct=None):
        super(CallbackModule, self).set_options(task_keys=task_keys, var_options=var_options, direct=direct)
        for backend in self.get_option('preload') or []:
            for module in _PRELOAD.get(backend, ()):
                try:
                    importlib.import_module(module)
                except ImportError:
                    self._display.vvv('agentarea.secrets.run_cache: cannot preload %s for %s' % (module, backend))

    def _cleanup(self, record):
        # pylint: disable=import-outside-toplevel
        from ansible_collections.agentarea.secrets.plugins.module_utils._registry import backend_class
        cls = backend_class(record['backend'])
        return cls.cleanup_run(record)

    def _changed_a_store(self, result):
        action = getattr(result._task, 'resolved_action', None) or result._task.action or ''
        if action.startswith('agentarea.secrets.') and result._result.get('changed'):
            _runcache.RunCache().flush('value')

    def v2_runner_on_ok(self, result):
        self._changed_a_store(result)

    def v2_runner_item_on_ok(self, result):
        self._changed_a_store(result)

    def v2_playbook_on_stats(self, stats):
        if self._finished:
            return
        self._finished = True
        for result in _runcache.finish(cleanup=self._cleanup):
            if isinstance(result, dict) and result.get('error'):
                self._display.warning('agentarea.secrets: clean-up of %s at the end of the run failed: %s'
                                      % (result.get('record'), result['error']))
            elif result:
                self._display.vv('agentarea.secrets: %s' % (result,))
