# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One configuration for lookups and modules: the action plugin of every module that talks to a store fills the
connection options that the task (with ``module_defaults``) left unset from the same ``ansible_agentarea_secrets_*``
variables the lookups read, templated first, then runs the module where the task runs it (controller or managed
host). Precedence, documented once in docs/options.md: task arguments > module_defaults > variables > what the
backend reads where the module runs (``ANSIBLE_AGENTAREA_SECRETS_*`` environment, then the store's native one)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import gc
import multiprocessing

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible.utils.vars import merge_hash

from ansible_collections.agentarea.secrets.plugins.plugin_utils import _broker

_PREFIX = 'ansible_agentarea_secrets_'

#: The variables of each backend's options, as the lookups declare them (``vars:`` in the doc fragments that the
#: ``agentarea.secrets.secret`` lookup extends; a unit test holds the two equal). A module option ``url`` reads
#: ``ansible_agentarea_secrets_vault_url``. Loading the lookup's documentation in every task's worker would cost
#: ~300 ms, hence this table.
OPTION_VARS = {
    'vault': ('url', 'namespace', 'auth_method', 'mount_point', 'token', 'token_file', 'token_validate', 'role_id',
              'secret_id', 'username', 'password', 'role', 'jwt', 'kubernetes_token_path', 'aws_access_key',
              'aws_secret_key', 'aws_session_token', 'aws_profile', 'aws_region', 'aws_iam_server_id',
              'azure_tenant_id', 'azure_client_id', 'azure_client_secret', 'azure_resource', 'azure_subscription_id',
              'azure_resource_group_name', 'azure_vm_name', 'azure_vmss_name', 'gcp_credentials_file',
              'gcp_service_account_info', 'client_cert', 'client_key', 'proxies', 'mount', 'kv_version', 'keep_token',
              'keep_lease'),
    'aws': ('access_key', 'secret_key', 'session_token', 'profile', 'region', 'endpoint_url', 'assume_role_arn',
            'retry_mode'),
    'ssm': ('ssm_endpoint_url',),  # the rest of its connection is aws's (one AWS identity)
    'azure': ('vault_url', 'auth', 'tenant_id', 'client_id', 'client_secret', 'client_certificate',
              'client_certificate_password', 'authority'),
    'gcp': ('project', 'credentials_file', 'service_account_info', 'location', 'api_endpoint', 'transport'),
    'k8s': ('kubeconfig', 'context', 'host', 'api_key', 'in_cluster'),
    'docker': ('docker_host', 'docker_cert_path', 'docker_tls_verify'),
    'pass': ('password_store_dir', 'gnupghome', 'pass_command'),
    # shared by every backend (and the audit log and fingerprints of the modules)
    '': ('timeout', 'retries', 'fingerprint_key', 'audit_log'),
}


#: Options that several stores share a name for (a CA file, TLS verification) reach a module that takes any
#: reference in their per-store form (``vault_ca_cert``), from the variable the store's own lookup reads
#: (``ansible_agentarea_secrets_vault_ca_cert``, declared by the vault lookup): one store's setting never reaches
#: another store.
PER_STORE_VARS = {
    'vault': ('ca_cert', 'validate_certs'),
    'azure': ('ca_cert', 'validate_certs', 'access_token'),
    'gcp': ('access_token',),
}


def option_vars(backends=None):
    """``{option: variable name}`` for the options of ``backends`` (every backend when None: the modules that take
    any reference), with the per-store forms of their shared options (``vault_ca_cert``)."""
    out = {}
    for backend, options in PER_STORE_VARS.items():
        if backends is not None and backend not in backends:
            continue
        for option in options:
            out['%s_%s' % (backend, option)] = '%s%s_%s' % (_PREFIX, backend, option)
    for backend, options in OPTION_VARS.items():
        if backends is not None and backend and backend not in backends:
            continue
        for option in options:
            # docker_host -> ansible_agentarea_secrets_docker_host, not ..._docker_docker_host
            own = not backend or option.startswith(backend + '_')
            out[option] = _PREFIX + (option if own else '%s_%s' % (backend, option))
    return out


def settle_worker_heap():
    """In a task's worker process (forked for this one task), move everything it inherited out of the garbage
    collector's view (``gc.freeze``). The first task of each module in a run packages it (AnsiballZ): Ansible parses
    the module and every module_utils file it reaches, and the many objects that creates trigger collections that
    walk the whole inherited heap; about a fifth of that task's CPU in the worker. The worker exits after the task,
    so nothing it inherited needed collecting. Never in the main process (a unit test, ``ansible-console``)."""
    if hasattr(gc, 'freeze') and multiprocessing.parent_process() is not None:
        gc.freeze()


class SecretActionBase(ActionBase):
    """Subclasses (one per module) may narrow ``BACKENDS`` and list in ``SKIP`` the options the module does not
    take (a module option of the same name with another meaning, or none at all)."""

    _supports_check_mode = True
    _supports_async = True

    #: the backends whose connection options the module takes; None: all of them (``SecretModule.STORES = True``)
    BACKENDS = None
    #: options never filled from variables for this module
    SKIP = ()

    def run(self, tmp=None, task_vars=None):
        settle_worker_heap()
        result = super(SecretActionBase, self).run(tmp, task_vars)
        del tmp  # tmp no longer has any effect
        module_args = self.module_args(task_vars or {})
        # as ansible.builtin.normal runs a module, with the filled arguments
        wrap_async = self._task.async_val and not self._connection.has_native_async
        result = merge_hash(result, self._execute_module(module_args=module_args, task_vars=task_vars,
                                                         wrap_async=wrap_async))
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)  # pylint: disable=protected-access
        self.drop_cached_values(result)
        return result

    def drop_cached_values(self, result):
        """When the module may have changed a store (changed, or failed: it may have written first), the run's
        broker forgets its cached values, so later lookups read what the store holds now."""
        action = getattr(self._task, 'resolved_action', None) or self._task.action
        if _broker.changes_store(action, result, check_mode=bool(getattr(self._task, 'check_mode', False))):
            _broker.invalidate()

    def module_args(self, task_vars):
        """The task's arguments (``module_defaults`` already merged in by Ansible), plus every connection option
        they leave unset whose variable is set, templated with the task's variables."""
        args = dict(self._task.args)
        for option, name in option_vars(self.BACKENDS).items():
            if option in self.SKIP or args.get(option) is not None or name not in task_vars:
                continue
            try:
                value = self._templar.template(task_vars[name])
            except Exception:  # pylint: disable=broad-except
                # the template's text or value may be a credential: name the variable only
                raise AnsibleActionFail('cannot template the variable %s for the option %s' % (name, option)) from None
            if value is not None:
                args[option] = value
        return args
