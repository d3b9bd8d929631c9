#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: revoke
short_description: Cut off leaked credentials now - Vault tokens and leases, IAM access keys, database sessions
version_added: 0.1.0
author:
  - agentarea.secrets contributors (@agentarea)
description:
  - The revoke step of the emergency runbook. In one task, any of -
    Vault or OpenBao tokens (by accessor, or every token of a role) and leases (by prefix), see O(vault);
    the access keys of an AWS IAM user, see O(aws_iam);
    the open sessions of a leaked database user on PostgreSQL, MySQL/MariaDB or Redis, see O(sessions).
  - Each step first finds what there is to revoke (read-only; that is all check mode does), then revokes exactly
    that. RV(ignore:changed) is true only when something was revoked, and a second run finds nothing and changes
    nothing.
  - Returns identifiers that cannot be used to log in (token accessors, lease ids, access key ids, session ids),
    dates and counts; never a token, a password or a key secret.
  - One failing step does not stop the others - in an incident every other revocation still matters. The module
    revokes everything it can, then fails listing what failed (RV(errors)), with the full results.
  - Rotating the credential is a separate step (M(agentarea.secrets.rotate)); revoke first, so a stolen credential
    stops working even before its replacement exists.
options:
  vault:
    description:
      - What to revoke in Vault or OpenBao. The connection and login are the Vault backend's options (O(url),
        O(token), O(namespace), O(ca_cert), O(auth_method) ...), documented below.
      - "The token needs this policy (and C(default), for C(auth/token/lookup-self)) -
        C(auth/token/lookup-accessor) and C(auth/token/revoke-accessor): C(update);
        C(auth/token/accessors): C(list), C(sudo) (for O(vault.roles));
        C(sys/leases/lookup/*): C(list), C(sudo) and C(sys/leases/lookup): C(update) (to count leases);
        C(sys/leases/revoke-prefix/*) (and C(sys/leases/revoke-force/*) for O(vault.force)): C(update), C(sudo)."
      - Order - accessors, then roles, then prefixes (a prefix such as C(auth/approle/login) may end this task's
        own login, so it comes last).
    type: dict
    suboptions:
      accessors:
        description:
          - Token accessors (C(vault token lookup -accessor), audit logs, C(auth/token/accessors)). Each token is
            looked up, then revoked with C(auth/token/revoke-accessor), which also revokes its child tokens and
            their leases. An accessor that names no live token is reported with state V(none).
        type: list
        elements: str
        default: []
      roles:
        description:
          - Every token of a role.
          - For token-store roles (O(vault.roles[].mount=token)) this is
            C(sys/leases/revoke-prefix/auth/token/create/<name>).
          - Other auth methods (C(approle), C(jwt), C(oidc), C(kubernetes), C(userpass), C(cert)) log in through one
            path for all their roles, so a prefix cannot tell roles apart - their tokens are found by listing
            C(auth/token/accessors) and looking each one up (its C(path) starts with C(auth/<mount>/) and its
            metadata C(role_name), C(role), C(username) or C(cert_name) is O(vault.roles[].name)), then revoked by
            accessor. That costs one lookup per live token.
          - The token this task uses is never revoked this way (a note says so when it matches).
          - To revoke every token of an auth mount, whatever the role, use a prefix - C(auth/approle/login).
        type: list
        elements: dict
        default: []
        suboptions:
          mount:
            description: Path of the auth method, such as V(approle), V(kubernetes) or V(token).
            type: str
            required: true
          name:
            description: Name of the role (for C(userpass), the user name; for C(cert), the certificate role).
            type: str
            required: true
      prefixes:
        description:
          - Lease prefixes for C(sys/leases/revoke-prefix/<prefix>), such as V(database/creds/agentarea-ro) (every
            credential the database role issued) or V(auth/approle/login) (every token created by logging in
            through that path, with its child tokens and leases). A full lease id revokes that one lease.
          - The leases are listed first (C(sys/leases/lookup/<prefix>/), recursively), so the result counts them
            and a second run changes nothing. When listing is denied the prefix is still revoked, but the count is
            unknown (null) and every run reports a change.
          - Lease ids are returned for secret leases; for C(auth/) prefixes only the count (those ids are derived
            from the tokens).
        type: list
        elements: str
        default: []
      force:
        description:
          - Use C(sys/leases/revoke-force/<prefix>) for O(vault.prefixes) - Vault forgets the leases even when the
            secrets engine cannot revoke them at the target (a database that is down or gone).
          - Dangerous - the credentials may then still work at the target while Vault no longer knows about them.
            Use only when a normal revocation keeps failing, and then end the sessions and rotate at the target.
        type: bool
        default: false
  aws_iam:
    description:
      - Revoke the access keys of an AWS IAM user. Credentials are the AWS backend's options (O(access_key),
        O(secret_key), O(profile), O(assume_role_arn), O(region) ...), documented below.
      - Needs C(iam:ListAccessKeys), C(iam:GetAccessKeyLastUsed) and C(iam:UpdateAccessKey) or
        C(iam:DeleteAccessKey) on the user.
    type: dict
    suboptions:
      user:
        description: The IAM user name.
        type: str
        required: true
      action:
        description:
          - V(deactivate) sets every key not kept to C(Inactive) (reversible with C(aws iam update-access-key)).
          - V(delete) deletes every key not kept, active or not.
        type: str
        choices: [deactivate, delete]
        default: deactivate
      keep_access_key_ids:
        description:
          - Access key ids (C(AKIA...)) left as they are, such as the new key a rotation just created. An id the
            user does not have is reported in RV(aws_iam.keep_not_found).
        type: list
        elements: str
        default: []
      endpoint_url:
        description:
          - IAM endpoint. O(endpoint_url) is the Secrets Manager endpoint and is not used here; without this,
            boto3 uses E(AWS_ENDPOINT_URL_IAM), then E(AWS_ENDPOINT_URL), then the public endpoint.
        type: str
  sessions:
    description:
      - Database users whose open sessions to end. A changed password does not end sessions that are already
        open, so a client that logged in with a leaked credential stays connected after a rotation until they
        are killed.
      - V(postgres) - C(pg_terminate_backend) of every backend of the role (cluster-wide); the admin needs
        C(pg_signal_backend) (superuser for a superuser's backends). V(mysql) - C(KILL CONNECTION) of every
        thread of the user name (any host); the admin needs C(PROCESS) and C(CONNECTION ADMIN) or C(SUPER).
        V(redis) - C(CLIENT KILL USER); the admin needs C(+client) and C(+acl).
    type: list
    elements: dict
    default: []
    suboptions:
      kind:
        description: The database.
        type: str
        required: true
        choices: [postgres, mysql, redis]
      username:
        description: The leaked user (PostgreSQL role, MySQL user name, Redis ACL user).
        type: str
        required: true
      host:
        description: Server host name or address.
        type: str
      port:
        description: Server port (5432, 3306 and 6379 by default).
        type: int
      socket:
        description: Unix socket (MySQL) or socket directory (PostgreSQL) to connect through instead of O(sessions[].host).
        type: path
      database:
        description: Database to connect to (any; C(postgres) by default for PostgreSQL).
        type: str
      admin:
        description:
          - The admin credential, as the rotate module's C(target.admin) - a reference such as
            C(vault://secret/agentarea/db-admin) (a map with C(username) and C(password), or a bare password),
            read through the store's backend with this task's options; or a user name, with
            O(sessions[].admin_password).
        type: str
      admin_username:
        description: Admin user name, when O(sessions[].admin) is not a reference.
        type: str
      admin_password:
        description: Admin password, when O(sessions[].admin) is not a reference.
        type: str
      connect_timeout:
        description: Seconds to wait for the connection.
        type: int
        default: 10
      sslmode:
        description: PostgreSQL C(sslmode).
        type: str
        default: prefer
      tls:
        description: Connect to Redis over TLS.
        type: bool
        default: false
      user_host:
        description: Host part of the MySQL account that O(sessions[].disable_login) locks.
        type: str
        default: '%'
      disable_login:
        description:
          - Also stop the user from logging in again, before its sessions are ended (so it cannot reconnect in
            between). The admin's own user is never disabled.
          - PostgreSQL - C(ALTER ROLE ... NOLOGIN), which also blocks every other way in (peer, certificates). The
            rotate module gives C(LOGIN) back only to the roles of strategy C(alternating) (the leaked role stays
            disabled, the other one takes over); with strategy C(single) its test logs in and fails, so run
            C(ALTER ROLE ... LOGIN) right before rotating.
          - Redis - C(ACL SETUSER <user> resetpass), so that no password is valid; the rotation adds the new one.
            (C(off) would survive a rotation, which sends only password rules.) Not persisted - run C(ACL SAVE) if
            the server loads an ACL file at start.
          - MySQL/MariaDB - C(ALTER USER ... ACCOUNT LOCK). The rotate module does not unlock accounts - run
            C(ALTER USER ... ACCOUNT UNLOCK) once the credential is rotated.
        type: bool
        default: false
  audit_log:
    description:
      - Append one value-free JSON event per revocation (action, counts, ids, outcome) to this file (0600).
        Defaults to E(AGENTAREA_SECRETS_AUDIT_LOG). Nothing is written in check mode.
    type: path
  fingerprint_key:
    description: Not used by this module (it fingerprints nothing); accepted because every module built on the
      backends' options takes it.
    type: str
extends_documentation_fragment:
  - agentarea.secrets.stores
attributes:
  check_mode:
    support: full
    description: Finds and reports exactly what would be revoked (states V(would_revoke), V(would_deactivate),
      V(would_delete), V(would_disable)) without revoking anything.
  diff_mode:
    support: full
    description: Shows, per item, the counts of live tokens, leases, active keys and sessions (and whether the
      login is enabled) before and after; ids and counts only, never a value.
notes:
  - "Run it where the stores and databases are reachable, usually with C(delegate_to: localhost)."
  - Requires C(hvac) for O(vault), C(boto3) for O(aws_iam), C(psycopg), C(PyMySQL) or C(redis) for O(sessions).
seealso:
  - module: agentarea.secrets.rotate
"""

EXAMPLES = r"""
- name: Cut off everything the leaked API credentials could reach
  agentarea.secrets.revoke:
    url: https://vault.internal:8200           # or VAULT_ADDR / VAULT_TOKEN from the AWX Vault credential
    vault:
      accessors: [hmZjbXVnQ3d0c2xxY2FrWWJHbjE]
      roles: [{mount: approle, name: agentarea-api}]
      prefixes: [database/creds/agentarea-ro]
    aws_iam:
      user: agentarea-ci
      keep_access_key_ids: ["{{ new_ci_key_id }}"]
    sessions:
      - kind: postgres
        host: db.internal
        username: agentarea_user
        admin: vault://secret/agentarea/db-admin
      - kind: redis
        host: redis.internal
        username: agentarea
        admin: vault://secret/agentarea/redis-admin
    audit_log: /var/log/agentarea/incident.jsonl
  delegate_to: localhost
  register: revoked

- name: Delete the keys once the new one is deployed
  agentarea.secrets.revoke:
    access_key: "{{ admin_key_id }}"
    secret_key: "{{ admin_key_secret }}"
    aws_iam: {user: agentarea-ci, action: delete, keep_access_key_ids: ["{{ new_ci_key_id }}"]}

- name: Lock the leaked MariaDB account until it is rotated, and end its connections
  agentarea.secrets.revoke:
    sessions:
      - {kind: mysql, host: 127.0.0.1, username: agentarea, admin: root, admin_password: "{{ root_pw }}",
         disable_login: true}

- name: Every token that logged in through AppRole (the auth mount leaked), when Vault cannot revoke normally
  agentarea.secrets.revoke:
    vault: {prefixes: [auth/approle/login]}
"""

RETURN = r"""
summary:
  description: How many of each were revoked (in check mode, would be).
  returned: always
  type: dict
  sample: {vault_tokens: 3, vault_leases: 2, aws_access_keys: 1, db_sessions: 4, logins_disabled: 0}
vault:
  description: Per accessor, role and prefix, what was found and done.
  returned: when O(vault) is given
  type: dict
  contains:
    accessors:
      description:
        - C(accessor), C(state) (V(revoked), V(would_revoke), V(none) when no live token has it, V(failed) with
          C(error)), and the token's C(display_name), C(path), C(policies), C(role), C(expire_time).
      type: list
      elements: dict
    roles:
      description: C(mount), C(name), C(tokens) (count), C(accessors) (at most 100), C(state).
      type: list
      elements: dict
    prefixes:
      description: C(prefix), C(force), C(leases) (count, null when listing was denied), C(lease_ids) (secret leases
        only, at most 100), C(state).
      type: list
      elements: dict
  sample:
    accessors: [{accessor: hmZjbXVnQ3d0c2xxY2FrWWJHbjE, state: revoked, display_name: approle,
                 path: auth/approle/login, policies: [default, agentarea-api], role: agentarea-api}]
    roles: [{mount: approle, name: agentarea-api, tokens: 2, accessors: [a1, a2], state: revoked}]
    prefixes: [{prefix: database/creds/agentarea-ro, force: false, leases: 1,
                lease_ids: [database/creds/agentarea-ro/Xq1], state: revoked}]
aws_iam:
  description: The IAM user's access keys and what was done to each.
  returned: when O(aws_iam) is given
  type: dict
  contains:
    user:
      description: The IAM user.
      type: str
    action:
      description: V(deactivate) or V(delete).
      type: str
    state:
      description: V(revoked), V(would_revoke), V(none) (nothing to do) or V(failed) (with C(error)).
      type: str
    keys:
      description:
        - Every key of the user - C(access_key_id), C(status) (before), C(created), C(last_used), C(last_used_service),
          C(last_used_region) and C(state) (V(deactivated), V(deleted), V(would_deactivate), V(would_delete), V(kept),
          V(none) for a key already inactive, V(failed) with C(error)).
      type: list
      elements: dict
    kept:
      description: The ids of O(aws_iam.keep_access_key_ids) that the user has.
      type: list
      elements: str
    keep_not_found:
      description: The ids of O(aws_iam.keep_access_key_ids) that the user does not have.
      type: list
      elements: str
      returned: when there are any
  sample:
    user: agentarea-ci
    action: deactivate
    state: revoked
    kept: [AKIAEXAMPLENEWKEY0001]
    keys: [{access_key_id: AKIAEXAMPLEOLDKEY0001, status: Active, created: "2026-01-02T03:04:05Z",
            last_used: "2026-03-01T10:00:00Z", last_used_service: s3, state: deactivated}]
sessions:
  description:
    - Per user - C(kind), C(username), C(endpoint), C(exists), C(login) (V(enabled), V(disabled),
      V(would_disable)), C(login_changed) (when this task disabled it), C(sessions) (count found), C(clients) (id,
      address, database or name, at most 100), C(ended) (count; in check mode, would be), C(state) (V(revoked),
      V(would_revoke), V(none), V(failed) with C(error)).
  returned: when O(sessions) is given
  type: list
  elements: dict
  sample: [{kind: postgres, username: agentarea_user, endpoint: "db.internal:5432", exists: true, login: enabled,
            sessions: 2, ended: 2, state: revoked,
            clients: [{id: 4711, addr: 10.0.3.7, database: agentarea, application: api, started: "2026-03-01T10:00:00Z"}]}]
errors:
  description: What failed, each naming the item and the cause (the module then fails, after doing the rest).
  returned: when something failed
  type: list
  elements: str
notes:
  description: Value-free remarks (a prefix whose leases could not be counted, a kept key id the user does not have).
  returned: when there are any
  type: list
  elements: str
"""

from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import SecretError
from ansible_collections.agentarea.secrets.plugins.module_utils.core._module import SecretModule
from ansible_collections.agentarea.secrets.plugins.module_utils.core._refs import parse_ref
from ansible_collections.agentarea.secrets.plugins.module_utils.revoke._revoke import (
    Report, VaultRevoker, diff, error_text, revoke_vault,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.revoke._iam import iam_client, revoke_access_keys
from ansible_collections.agentarea.secrets.plugins.module_utils.revoke._sessions import revoke_sessions
from ansible_collections.agentarea.secrets.plugins.module_utils.rotation._engine import StoreAccess

VAULT_SPEC = dict(
    accessors=dict(type='list', elements='str', default=[], no_log=False),
    roles=dict(type='list', elements='dict', default=[], options=dict(
        mount=dict(type='str', required=True),
        name=dict(type='str', required=True),
    )),
    prefixes=dict(type='list', elements='str', default=[]),
    force=dict(type='bool', default=False),
)

AWS_IAM_SPEC = dict(
    user=dict(type='str', required=True),
    action=dict(type='str', default='deactivate', choices=['deactivate', 'delete']),
    keep_access_key_ids=dict(type='list', elements='str', default=[], no_log=False),
    endpoint_url=dict(type='str'),
)

from ansible_collections.agentarea.secrets.plugins.module_utils.revoke._sessions import session_option_spec

# the connection options are the rotation targets' own (rotation/targets/: CONNECTION)
SESSION_SPEC = session_option_spec()


def step_error(step, exc):
    """Typed errors name their backend and cause; anything else is named by its class only (value-free)."""
    text = error_text(exc)
    return text if isinstance(exc, SecretError) else '%s: %s' % (step, text)


class Revoke(SecretModule):
    NAME = 'revoke'
    OPTIONS = dict(
        vault=dict(type='dict', options=VAULT_SPEC),
        aws_iam=dict(type='dict', options=AWS_IAM_SPEC),
        sessions=dict(type='list', elements='dict', default=[], options=SESSION_SPEC),
    )
    STORES = True
    # fingerprints nothing, but takes fingerprint_key: its action plugin fills it from
    # ansible_agentarea_secrets_fingerprint_key and module_defaults for the action group may set it
    FINGERPRINT_KEY = True
    AUDIT_LOG = True

    def run(self):
        params = self.params
        if not (params['vault'] or params['aws_iam'] or params['sessions']):
            self.fail('nothing to revoke: give vault, aws_iam or sessions')
        # each step's store is its own (primary None), as the reference's own scheme would make it
        report = Report(self.check_mode, self.audit)
        result = {}
        known = []

        if params['vault']:
            try:
                backend = self.backend(parse_ref('vault://sys/leases'))
                backend.client()  # log in once up front: a failed login is one error, not one per item
                known.append(backend)
                result['vault'] = revoke_vault(VaultRevoker(backend, report), params['vault'])
            except Exception as exc:  # pylint: disable=broad-except
                report.errors.append(step_error('vault', exc))

        if params['aws_iam']:
            try:
                aws = self.backend(parse_ref('aws://iam'))
                known.append(aws)
                iam = iam_client(aws, params['aws_iam']['endpoint_url'])
                result['aws_iam'] = revoke_access_keys(iam, params['aws_iam'], report, aws.options.get('access_key'))
            except Exception as exc:  # pylint: disable=broad-except
                report.errors.append(step_error('aws_iam', exc))

        if params['sessions']:
            stores = StoreAccess(self.backend, known=known)
            result['sessions'] = [revoke_sessions(spec, stores, report) for spec in params['sessions']]

        result.update(changed=report.changed, summary=report.summary, diff=diff(result))
        if report.notes:
            result['notes'] = report.notes
            for note in report.notes:
                self.warn(note)
        if report.errors:
            result['errors'] = report.errors
            self.fail('revoke: %d step(s) failed (everything else was done): %s'
                      % (len(report.errors), '; '.join(report.errors)), **result)
        return result


def main():
    Revoke().main()


if __name__ == '__main__':
    main()
