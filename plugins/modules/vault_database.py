#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vault_database
short_description: Set up Vault's database secrets engine - a connection, its dynamic and static roles, root rotation
version_added: 0.2.0
author:
  - agentarea.secrets contributors (@agentarea)
description:
  - Brings the database secrets engine of Vault or OpenBao to the state the task describes, in one task - the
    connection to a database (O(connection)), the dynamic roles that issue short-lived users (O(roles)) and the
    static roles whose existing user's password Vault rotates (O(static_roles)) - and performs the engine's actions
    - rotate the connection's root credential (O(rotate_root)), rotate static roles now (O(rotate_static_roles)),
    reset the connection (O(reset_connection)).
  - Each object is read first and compared field by field with the task (durations as Vault reads them back, in
    seconds); only what differs is written, so a second run reports no change. Vault never reads a connection's
    password back, so it is written when the connection is created and afterwards only with
    O(connection.update_password=always).
  - Replaces community.hashi_vault's fifteen C(vault_database_*) modules. Credentials are then read with the
    P(agentarea.secrets.vault#lookup) lookup's C(engine=dynamic) (C(database/creds/<role>), lease revoked at the end
    of the run) or C(vault_read) on C(database/static-creds/<role>), and a catalog entry can rotate a database user
    itself (M(agentarea.secrets.rotate)).
  - Connects and logs in with the same options as the P(agentarea.secrets.vault#lookup) lookup (every auth method),
    also taken from the C(ansible_agentarea_secrets_vault_*) variables and the environment.
options:
  mount:
    description: Where the database secrets engine is mounted.
    type: str
    default: database
  connection:
    description:
      - The connection (C(database/config/<name>)). Fields left unset are left as Vault has them.
    type: dict
    suboptions:
      name:
        description: The connection's name; the default O(roles[].db_name) and O(static_roles[].db_name).
        type: str
        required: true
      state:
        description:
          - V(absent) deletes the connection (after the roles the task removes).
        type: str
        choices: [present, absent]
        default: present
      plugin_name:
        description:
          - The database plugin, such as V(postgresql-database-plugin) or V(mysql-database-plugin). Needed to create
            the connection.
        type: str
      plugin_version:
        description: The plugin's version, when several are registered.
        type: str
      connection_url:
        description:
          - The connection string with Vault's templates for the credential, such as
            C(postgresql://{{username}}:{{password}}@db:5432/app). Needed to create the connection. Write the password
            as the template, not into the URL (a diff would hide it, but Vault would show it to anyone who may read
            the connection).
        type: str
      username:
        description: The user Vault logs in as to manage users (the root credential).
        type: str
      password:
        description:
          - That user's password. Written when the connection is created, and on later runs only with
            O(connection.update_password=always). Never returned or shown in a diff.
        type: str
      update_password:
        description:
          - V(on_create) writes O(connection.password) only when the task creates the connection, which keeps a
            second run unchanged and a password Vault rotated (O(rotate_root)) in place; V(always) writes it on every
            run (and reports a change, since Vault cannot say whether it differs).
        type: str
        choices: [always, on_create]
        default: on_create
      allowed_roles:
        description: The roles that may use the connection (V(*) for all).
        type: list
        elements: str
      verify_connection:
        description:
          - Whether Vault connects with the credential before it saves the connection. Sent with every write of the
            connection; Vault does not read it back, so it is not compared.
        type: bool
      password_policy:
        description: The Vault password policy for the passwords Vault generates for this connection.
        type: str
      root_rotation_statements:
        description: The statements that rotate the root credential (the plugin's default when unset).
        type: list
        elements: str
      options:
        description:
          - Further plugin settings of the connection, such as C(max_open_connections), C(username_template),
            C(tls_ca). Compared and written like the fields above; shown in a diff by name only, since some of them
            are keys. The value of a setting whose name has C(password), C(secret), C(key), C(token) or
            C(credential) in it is also masked in the result and its C(invocation).
        type: dict
  roles:
    description: Dynamic roles (C(database/roles/<name>)). Fields left unset are left as Vault has them.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The role's name (C(database/creds/<name>) issues its credentials).
        type: str
        required: true
      state:
        description: V(absent) deletes the role.
        type: str
        choices: [present, absent]
        default: present
      db_name:
        description: The connection it uses; default O(connection.name).
        type: str
      creation_statements:
        description: The statements that create a user (Vault's templates C({{name}}), C({{password}}), C({{expiration}})). Needed to create the role.
        type: list
        elements: str
      revocation_statements:
        description: The statements that remove a user when its lease ends.
        type: list
        elements: str
      rollback_statements:
        description: The statements that undo a failed creation.
        type: list
        elements: str
      renew_statements:
        description: The statements that extend a user when its lease is renewed.
        type: list
        elements: str
      default_ttl:
        description: The lease's default TTL, such as V(1h) (compared in seconds).
        type: str
      max_ttl:
        description: The lease's maximum TTL, such as V(24h).
        type: str
      credential_type:
        description: V(password), V(rsa_private_key) or V(client_certificate).
        type: str
      credential_config:
        description: Settings of that credential type (such as C(password_policy)).
        type: dict
  static_roles:
    description:
      - Static roles (C(database/static-roles/<name>)) - an existing database user whose password Vault rotates.
        Vault rotates the password when the role is created. Fields left unset are left as Vault has them.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The role's name (C(database/static-creds/<name>) reads its credential).
        type: str
        required: true
      state:
        description: V(absent) deletes the role (the database user stays, with its last password).
        type: str
        choices: [present, absent]
        default: present
      db_name:
        description: The connection it uses; default O(connection.name).
        type: str
      username:
        description: The database user. Needed to create the role.
        type: str
      rotation_period:
        description: How often Vault rotates the password, such as V(24h).
        type: str
      rotation_schedule:
        description: A cron-style schedule instead of O(static_roles[].rotation_period).
        type: str
      rotation_window:
        description: How long after the scheduled time a rotation may still start.
        type: str
      rotation_statements:
        description: The statements that set the new password (the plugin's default when unset).
        type: list
        elements: str
      credential_type:
        description: V(password), V(rsa_private_key) or V(client_certificate).
        type: str
      credential_config:
        description: Settings of that credential type.
        type: dict
  rotate_root:
    description:
      - Rotate the connection's root credential (C(database/rotate-root/<name>)), after which only Vault knows it.
      - V(on_write) rotates right after the task wrote O(connection.password) (when it created the connection, or
        with O(connection.update_password=always)). This is the usual set-up, where the password a person typed is
        valid only until Vault has connected once. V(always) rotates on every run (a change every time); V(never) leaves it.
    type: str
    choices: [never, on_write, always]
    default: never
  rotate_static_roles:
    description: Static roles to rotate now (C(database/rotate-role/<name>)), after the task's roles are written; each is a change.
    type: list
    elements: str
    default: []
  revoke_leases:
    description:
      - Before a dynamic role, or a connection, is deleted, revoke the leases of the credentials it issued
        (C(sys/leases/revoke-prefix/<mount>/creds/<role>), which needs C(sudo) on that path), so their database users
        are dropped while Vault can still reach the database. Once the connection is gone, Vault can neither revoke
        those leases nor drop the users, and disabling the mount fails on them.
      - V(false) deletes without revoking (the leases then expire in Vault, and their users stay in the database).
    type: bool
    default: true
  reset_connection:
    description: Close and reopen the connection's database connections (C(database/reset/<name>)); a change.
    type: bool
    default: false
  # The other Vault connection options come from the vault fragment (below), as the argument spec takes them from
  # the backend.
  vault_ca_cert:
    description: The same as O(ca_cert), in the per-store form the modules that take any reference use; wins over O(ca_cert).
    type: path
  vault_validate_certs:
    description: The same as O(validate_certs), in the per-store form; wins over O(validate_certs).
    type: bool
extends_documentation_fragment:
  - agentarea.secrets.vault
attributes:
  check_mode:
    support: full
    description: Reads what Vault holds and reports what would be written, created, deleted or rotated; sends no write.
  diff_mode:
    support: full
    description:
      - Per object, the changed fields before and after. Passwords, a password written into a connection URL and the
        connection's O(connection.options) are shown as C(<hidden>).
  idempotent:
    support: full
    description:
      - Only what differs is written. O(connection.update_password=always), O(rotate_root=always),
        O(rotate_static_roles) and O(reset_connection) are actions and report a change on every run.
notes:
  - Errors name the path, the store and Vault's reason (a connection Vault cannot verify says why, such as the
    database refusing the password), with every value of the request cut out of Vault's text.
  - A write is never retried after Vault answered or the connection broke mid-request; reads are.
requirements:
  - hvac
seealso:
  - module: agentarea.secrets.vault_write
  - module: agentarea.secrets.vault_read
  - plugin: agentarea.secrets.vault
    plugin_type: lookup
  - module: agentarea.secrets.rotate
"""

EXAMPLES = r"""
- name: A PostgreSQL connection, a read-only role and the app's static role; Vault rotates the admin password at once
  agentarea.secrets.vault_database:
    connection:
      name: agentarea
      plugin_name: postgresql-database-plugin
      connection_url: "postgresql://{{ '{{username}}' }}:{{ '{{password}}' }}@db.internal:5432/agentarea"
      username: vault_admin
      password: "{{ lookup('agentarea.secrets.secret', 'vault://secret/bootstrap/postgres#password') }}"
      allowed_roles: [readonly, app]
      options:
        max_open_connections: 4
    roles:
      - name: readonly
        creation_statements:
          - CREATE ROLE "{{ '{{name}}' }}" WITH LOGIN PASSWORD '{{ '{{password}}' }}' VALID UNTIL '{{ '{{expiration}}' }}';
          - GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{{ '{{name}}' }}";
        default_ttl: 1h
        max_ttl: 8h
    static_roles:
      - name: app
        username: agentarea_app
        rotation_period: 24h
    rotate_root: on_write

- name: Short-lived credentials for a migration job (the lease is revoked when the run ends)
  ansible.builtin.command:
    cmd: /srv/app/bin/migrate
  environment:
    DATABASE_USER: "{{ db.username }}"
  vars:
    db: "{{ lookup('agentarea.secrets.vault', 'database/creds/readonly', engine='dynamic') }}"
  no_log: true

- name: Rotate the app's password now (after a suspected leak)
  agentarea.secrets.vault_database:
    rotate_static_roles: [app]

- name: Remove a role and then the connection
  agentarea.secrets.vault_database:
    connection: {name: legacy, state: absent}
    roles:
      - {name: legacy-ro, state: absent}
"""

RETURN = r"""
mount:
  description: The engine's mount.
  returned: always
  type: str
  sample: database
connection:
  description: What happened to the connection (null when the task has none).
  returned: always
  type: dict
  contains:
    name: {description: The connection's name., type: str, returned: always}
    action:
      description: V(created), V(updated), V(unchanged), V(deleted) or V(absent) (nothing to delete).
      type: str
      returned: always
    changed_fields: {description: The fields written (names only)., type: list, elements: str, returned: always}
    password_written: {description: Whether the task wrote the password., type: bool, returned: always}
  sample: {name: agentarea, action: created, changed_fields: [plugin_name, connection_url, username, password], password_written: true}
roles:
  description: What happened to each dynamic role, as for RV(connection).
  returned: always
  type: list
  elements: dict
  sample: [{name: readonly, action: unchanged, changed_fields: []}]
static_roles:
  description: What happened to each static role, as for RV(connection).
  returned: always
  type: list
  elements: dict
  sample: [{name: app, action: updated, changed_fields: [rotation_period]}]
rotated_root:
  description: Whether the root credential was rotated (would be, in check mode).
  returned: always
  type: bool
rotated_static_roles:
  description: The static roles rotated.
  returned: always
  type: list
  elements: str
reset:
  description: Whether the connection was reset.
  returned: always
  type: bool
"""

from ansible_collections.agentarea.secrets.plugins.module_utils.core._module import SecretModule, backend_of
from ansible_collections.agentarea.secrets.plugins.module_utils.core._registry import backend_class
from ansible_collections.agentarea.secrets.plugins.module_utils.backends.vault._database import DatabaseEngine

_STATE = dict(type='str', choices=['present', 'absent'], default='present')
_STATEMENTS = dict(type='list', elements='str')


class VaultDatabase(SecretModule):
    NAME = 'vault_database'
    OPTIONS = dict(
        mount=dict(type='str', default='database'),
        connection=dict(type='dict', options=dict(
            name=dict(type='str', required=True),
            state=_STATE,
            plugin_name=dict(type='str'),
            plugin_version=dict(type='str'),
            connection_url=dict(type='str'),
            username=dict(type='str'),
            password=dict(type='str', no_log=True),
            update_password=dict(type='str', choices=['always', 'on_create'], default='on_create', no_log=False),
            allowed_roles=dict(type='list', elements='str'),
            verify_connection=dict(type='bool'),
            password_policy=dict(type='str', no_log=False),
            root_rotation_statements=_STATEMENTS,
            options=dict(type='dict', no_log=False),
        )),
        roles=dict(type='list', elements='dict', default=[], options=dict(
            name=dict(type='str', required=True),
            state=_STATE,
            db_name=dict(type='str'),
            creation_statements=_STATEMENTS,
            revocation_statements=_STATEMENTS,
            rollback_statements=_STATEMENTS,
            renew_statements=_STATEMENTS,
            default_ttl=dict(type='str'),
            max_ttl=dict(type='str'),
            credential_type=dict(type='str'),
            credential_config=dict(type='dict'),
        )),
        static_roles=dict(type='list', elements='dict', default=[], options=dict(
            name=dict(type='str', required=True),
            state=_STATE,
            db_name=dict(type='str'),
            username=dict(type='str'),
            rotation_period=dict(type='str'),
            rotation_schedule=dict(type='str'),
            rotation_window=dict(type='str'),
            rotation_statements=_STATEMENTS,
            credential_type=dict(type='str'),
            credential_config=dict(type='dict'),
        )),
        rotate_root=dict(type='str', choices=['never', 'on_write', 'always'], default='never'),
        rotate_static_roles=dict(type='list', elements='str', default=[]),
        reset_connection=dict(type='bool', default=False),
        revoke_leases=dict(type='bool', default=True),
    )
    CONNECTIONS = ('vault',)

    def run(self):
        params = self.params
        self.result = {'changed': False, 'mount': params['mount']}
        self.protect_options(params.get('connection'))
        backend = backend_of(backend_class('vault'), params)  # checks the options, no network yet
        engine = DatabaseEngine(backend, params['mount'])
        result, before, after = engine.apply(params, self.check_mode)
        self.result = result
        if self.diff and result['changed']:
            result['diff'] = {'before': before, 'after': after}
        return result

    def protect_options(self, connection):
        """A plugin setting in ``connection.options`` whose name says it is a credential (a private key, a TLS key, a
        password) is masked wherever the result would show it, its ``invocation`` included: ``options`` as a whole
        is not ``no_log``, since most of it (``max_open_connections``) is plain configuration."""
        for name, value in ((connection or {}).get('options') or {}).items():
            if isinstance(value, str) and value and any(word in str(name).lower() for word in SECRET_WORDS):
                self.module.no_log_values.add(value)


#: words in the name of a connection's plugin setting that make its value a credential
SECRET_WORDS = ('password', 'secret', 'key', 'token', 'credential')


def argument_spec():
    return VaultDatabase.argument_spec()


def main():
    VaultDatabase().main()


if __name__ == '__main__':
    main()
