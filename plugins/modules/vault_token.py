#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vault_token
short_description: Create a Vault or OpenBao token for a job and put it straight into a store
version_added: 0.3.0
author:
  - agentarea.secrets contributors (@agentarea)
description:
  - Creates a token (C(auth/token/create), C(auth/token/create-orphan) with O(orphan), or
    C(auth/token/create/<role>) with O(role_name)) with the policies, TTLs and limits given, as
    C(community.hashi_vault.vault_token_create) does, and writes it to O(dest), any secret reference
    (C(file:///run/deploy/vault-token), C(k8s://ci/deploy-token#token), C(aws://ci/vault-token)).
  - The token is never returned, printed or logged; the result describes it (accessor, policies, TTL, expiry) and
    names where it went. With O(wrap_ttl) Vault wraps the token and the single-use wrapping token goes to O(dest)
    instead (the consumer unwraps it with C(sys/wrapping/unwrap)).
  - When the write to O(dest) fails, the new token is revoked (by its accessor), so no credential is left that
    nobody holds.
  - Connects and logs in with the same options as the P(agentarea.secrets.vault#lookup) lookup (every auth method).
    A child token (the default) ends when the token that created it is revoked; the module's own login is kept
    for the task only unless O(keep_token), so create tokens that must outlive the task with O(orphan), a
    O(role_name) whose role makes orphans, or O(keep_token).
options:
  dest:
    description:
      - Where the new token (or, with O(wrap_ttl), the wrapping token) is written, a secret reference such as
        C(file:///run/deploy/vault-token) or C(vault://secret/ci/deploy#token). Its store's options are this
        module's options (a Kubernetes context, an AWS region ...). A new file is C(0600); an existing one keeps
        its owner and mode.
    type: str
    required: true
  policies:
    description: Policies of the new token. Unset, the creating token's own (C(auth/token/create)'s default).
    type: list
    elements: str
  no_default_policy:
    description: Leave the C(default) policy out of the new token's policies.
    type: bool
  orphan:
    description:
      - Create an orphan token (C(auth/token/create-orphan)), which outlives the token that created it.
    type: bool
    default: false
  no_parent:
    description:
      - Create the token without a parent through C(auth/token/create) (needs a root or C(sudo) token); prefer
        O(orphan).
    type: bool
  role_name:
    description: Create the token against this token role (C(auth/token/create/<role>)); its settings apply.
    type: str
  display_name:
    description: The display name of the token (shown in audit logs).
    type: str
  meta:
    description: Metadata of the token (shown in audit logs); keys and values are text.
    type: dict
  num_uses:
    description: How many requests the token may make (V(0) is unlimited).
    type: int
  ttl:
    description: The token's TTL, such as V(1h) or V(30m).
    type: str
  explicit_max_ttl:
    description: A hard limit on the token's lifetime, whatever renewals.
    type: str
  period:
    description: Make a periodic token with this renewal period.
    type: str
  renewable:
    description: Whether the token may be renewed.
    type: bool
  type:
    description: The token type.
    type: str
    choices: [service, batch]
  entity_alias:
    description: An entity alias to attach the token to (with O(role_name)).
    type: str
  wrap_ttl:
    description:
      - Wrap the new token (response wrapping, C(X-Vault-Wrap-TTL)) for this long, such as V(5m); O(dest) then
        receives the wrapping token, which can be unwrapped once.
    type: str
  fingerprint_key:
    description:
      - Key of the returned HMAC-SHA256 fingerprint of what was written to O(dest). Defaults to
        E(AGENTAREA_SECRETS_FINGERPRINT_KEY), then the key file C(~/.config/agentarea-secrets/fingerprint.key) on
        the host that runs the module.
    type: str
extends_documentation_fragment:
  - agentarea.secrets.audit
  - agentarea.secrets.stores
attributes:
  check_mode:
    support: full
    description: Checks the options and O(dest) and reports a change without creating a token or writing.
  diff_mode:
    support: none
    description: A new token has no before and after; its value is never shown.
  idempotent:
    support: none
    description: Every run creates a new token (and replaces what O(dest) holds), as C(vault_token_create) does.
notes:
  - The token is written with the store's own safety (a file is replaced atomically and never through a symbolic
    link).
requirements:
  - hvac
seealso:
  - module: agentarea.secrets.vault_write
  - module: agentarea.secrets.secret
"""

EXAMPLES = r"""
- name: A token for tonight's deploy job, one hour, deploy policy, into the job's private directory
  agentarea.secrets.vault_token:
    policies: [deploy]
    no_default_policy: true
    ttl: 1h
    display_name: deploy-{{ awx_job_id | default('manual') }}
    meta:
      job: "{{ awx_job_id | default('manual') }}"
    orphan: true
    dest: file:///run/deploy/vault-token
  register: deploy_token

- name: A wrapped token handed to a Kubernetes job (the job unwraps it once)
  agentarea.secrets.vault_token:
    role_name: ci-runner
    wrap_ttl: 10m
    dest: k8s://ci/runner-vault#wrapped_token
"""

RETURN = r"""
accessor:
  description: The new token's accessor (it can look the token up or revoke it, and is no secret).
  returned: success, not in check mode
  type: str
  sample: 8609694a-cdbc-db9b-d345-e782dbb562ed
policies:
  description: The new token's policies.
  returned: success, not in check mode
  type: list
  elements: str
  sample: [default, deploy]
ttl:
  description: The new token's TTL in seconds (V(0) for a root token without one).
  returned: success, not in check mode
  type: int
  sample: 3600
expires:
  description: When the token expires (UTC, ISO 8601), or null when it does not.
  returned: success, not in check mode
  type: str
  sample: "2026-12-07T19:00:00Z"
renewable:
  description: Whether the token may be renewed.
  returned: success, not in check mode
  type: bool
orphan:
  description: Whether the token is an orphan.
  returned: success, not in check mode
  type: bool
token_type:
  description: The token's type (C(service) or C(batch)).
  returned: success, not in check mode
  type: str
wrapped:
  description: Whether O(dest) holds a wrapping token (O(wrap_ttl)) rather than the token itself.
  returned: always
  type: bool
wrap_accessor:
  description: The wrapping token's accessor, with O(wrap_ttl).
  returned: with O(wrap_ttl), not in check mode
  type: str
dest:
  description: Where the token went.
  returned: always
  type: str
  sample: file:///run/deploy/vault-token
dest_version:
  description: The version O(dest)'s store gave the write, where it keeps versions.
  returned: success, not in check mode
  type: str
fingerprint:
  description:
    - HMAC-SHA256 fingerprint of what was written to O(dest) (the token, or the wrapping token), to compare with
      M(agentarea.secrets.secret_info) later without seeing it.
  returned: success, not in check mode
  type: str
"""

import datetime

from ansible_collections.agentarea.secrets.plugins.module_utils.core._backend import CAP_WRITE, iso, utc_now
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import InvalidOption, SecretError
from ansible_collections.agentarea.secrets.plugins.module_utils.core._module import SecretModule

#: the token options sent to Vault as they are named (auth/token/create's parameters)
TOKEN_FIELDS = ('policies', 'no_default_policy', 'no_parent', 'display_name', 'meta', 'num_uses', 'ttl',
                'explicit_max_ttl', 'period', 'renewable', 'type', 'entity_alias')


class VaultToken(SecretModule):
    NAME = 'vault_token'
    STORES = True
    FINGERPRINT_KEY = True
    AUDIT_LOG = True
    OPTIONS = dict(
        dest=dict(type='str', required=True, no_log=False),
        policies=dict(type='list', elements='str'),
        no_default_policy=dict(type='bool'),
        orphan=dict(type='bool', default=False),
        no_parent=dict(type='bool'),
        role_name=dict(type='str'),
        display_name=dict(type='str'),
        meta=dict(type='dict'),
        num_uses=dict(type='int'),
        ttl=dict(type='str'),
        explicit_max_ttl=dict(type='str'),
        period=dict(type='str'),
        renewable=dict(type='bool'),
        type=dict(type='str', choices=['service', 'batch']),
        entity_alias=dict(type='str'),
        wrap_ttl=dict(type='str'),
    )

    def __init__(self):
        super(VaultToken, self).__init__(primary='vault', mutually_exclusive=[('orphan', 'role_name')])

    def create_path(self):
        params = self.params
        if params['role_name']:
            return 'auth/token/create/%s' % params['role_name'].strip('/')
        return 'auth/token/create-orphan' if params['orphan'] else 'auth/token/create'

    def run(self):
        params = self.params
        self.result = {'changed': False, 'dest': params['dest'], 'wrapped': bool(params['wrap_ttl'])}
        dest = self.parse_ref(params['dest'], **self.result)
        if dest.scheme == 'vault' and dest.location.strip('/').startswith(('auth/', 'sys/')):
            self.fail(InvalidOption('dest must be a secret to hold the token, not an API path',
                                    ref=params['dest'], backend='vault'), **self.result)
        store = self.backend(dest)
        store.require(CAP_WRITE, dest)  # before a token exists: a store that cannot take it fails first
        vault = self.pool.scheme('vault')
        path = self.create_path()
        if self.check_mode:
            self.result['changed'] = True
            return self.result
        data = dict((name, params[name]) for name in TOKEN_FIELDS if params.get(name) is not None)
        response = vault.api_write(path, data, wrap_ttl=params['wrap_ttl'])
        token, accessor, facts = self.token_of(response, path)
        try:
            written = store.write(dest, token)
        except Exception as exc:  # pylint: disable=broad-except
            # whatever failed, nobody holds the new token: revoke it, then report the write's error
            self.revoke(vault, accessor)
            self.audit.emit('token', 'error', backend=dest.scheme, ref=dest, error=type(exc).__name__,
                            accessor=accessor)
            self.fail(exc, **self.result)
        self.result.update(facts)
        self.result['changed'] = True
        self.result['dest_version'] = getattr(written, 'version', None) if written is not None else None
        self.result['fingerprint'] = self.fingerprint(token)
        self.audit.emit('token', 'created', backend=dest.scheme, ref=dest, version=self.result['dest_version'],
                        fingerprint=self.result['fingerprint'], accessor=accessor, policies=facts.get('policies'),
                        wrapped=self.result['wrapped'])
        return self.result

    def token_of(self, response, path):
        """The token to write (the token, or the wrapping token), the accessor to revoke on failure, and the
        value-free facts of the result."""
        if self.params['wrap_ttl']:
            wrap = response.get('wrap_info') or {}
            if not wrap.get('token'):
                self.fail("vault 'vault://%s': asked for a wrapped token, but the response has no wrap_info" % path,
                          **self.result)
            return wrap['token'], wrap.get('accessor'), {'wrap_accessor': wrap.get('accessor')}
        auth = response.get('auth') or {}
        if not auth.get('client_token'):
            self.fail("vault 'vault://%s': the response has no token (auth.client_token)" % path, **self.result)
        ttl = int(auth.get('lease_duration') or 0)
        expires = iso(utc_now().replace(microsecond=0) + datetime.timedelta(seconds=ttl)) if ttl else None
        facts = {'accessor': auth.get('accessor'), 'policies': list(auth.get('policies') or []), 'ttl': ttl,
                 'expires': expires, 'renewable': bool(auth.get('renewable')), 'orphan': bool(auth.get('orphan')),
                 'token_type': auth.get('token_type')}
        return auth['client_token'], auth.get('accessor'), facts

    def revoke(self, vault, accessor):
        """Revoke a token nobody holds (the write of it failed); a failure to revoke is a warning naming the
        accessor, so it can be revoked by hand."""
        if not accessor:
            return
        try:
            vault.api_write('auth/token/revoke-accessor', {'accessor': accessor})
        except SecretError as exc:
            self.warn('the new token could not be revoked after the write failed; revoke it by its accessor %s '
                      '(%s)' % (accessor, type(exc).__name__))


def argument_spec():
    return VaultToken.argument_spec()


def main():
    VaultToken().main()


if __name__ == '__main__':
    main()
