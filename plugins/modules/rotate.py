#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: rotate
short_description: Rotate a credential safely - create, set, test, finish - with rollback and resume
version_added: 0.1.0
author:
  - agentarea.secrets contributors (@agentarea)
description:
  - Rotates the credential stored at O(store) for the system named by O(kind) and O(target), following a
    generalisation of the AWS Secrets Manager protocol that works with every store.
  - "B(create): the new value is generated and written to a pending slot beside the secret (read back) before
    anything else is touched. B(set): it is applied to the target (C(ALTER ROLE) with a SCRAM verifier, C(ACL
    SETUSER) with a hash, a new key in a JWT key set, a registration hook). B(test): the new credential logs in or
    verifies. B(finish): the value being replaced is kept in a previous slot, the new value is promoted with
    check-and-set, the pending slot is cleared."
  - Any failure before finish puts the target back on the old credential, proves that it works, and clears the
    pending slot. A run that finds a pending slot left by a run that died (a crash, C(kill -9)) resumes it first;
    it tests the pending and the current value against the target, then completes or rolls back, and reports
    which in RV(resumed).
  - Two rotations of one secret at once cannot both proceed - the pending slot is created with check-and-set (or
    a C(flock) is held for stores without it) and the second run fails cleanly without changing anything.
  - With O(contract=true) the module only runs the contract step - it removes the previous password or key from
    the target once O(overlap) has passed since the rotation finished; it is idempotent.
  - With O(rehearse=true) it runs create, set and test against the real target, then rolls back on purpose and
    proves that the old credential works again; consumers keep using the store's value throughout.
  - Returns the phase reached, old and new versions and keyed fingerprints, what was rolled back and timings; never
    a value. Every phase is written to the audit log as a value-free event.
  - See C(docs/rotation.md) in the collection for the protocol, the strategies, the slot locations and how to
    recover by hand.
options:
  store:
    description:
      - Reference of the credential, such as C(vault://secret/agentarea/database),
        C(dotenv:///srv/agentarea/.env#SESSION_SECRET) or C(file:///srv/agentarea/jwt-keys.json).
      - For O(kind=postgres), O(kind=mysql) and O(kind=redis) it holds a map with C(username) and C(password)
        (other keys are kept; see O(target.url_template)), or a bare password (the username then comes from
        O(target.username)).
      - When it holds nothing yet, the first credential is created - the admin credential (O(target.admin)) sets
        it for O(target.username), creating the role, account or ACL user (with O(target.acl_rules)) if missing;
        a failure leaves the account without a usable password. JWT key sets and static values are simply created.
      - Required unless O(rotations) is given.
    type: str
    aliases: [ref]
  kind:
    description:
      - What the credential is for, which decides where it is applied and how it is tested.
      - V(postgres) - a role; V(mysql) - a MySQL or MariaDB account; V(redis) - an ACL user (or C(requirepass));
        V(jwt) - a JWT signing key set; V(api_key) - a third-party key registered and revoked by hooks;
        V(static) - a value whose only home is the store (session keys, webhook secrets); V(tls) - a TLS certificate
        and key, issued by a Vault/OpenBao PKI mount (O(target.issuer)) or self-signed (O(generate)).
      - Required with O(store); with O(rotations), the kind of the items that do not name theirs.
    type: str
    choices: [postgres, mysql, redis, jwt, api_key, static, tls]
  strategy:
    description:
      - V(single) - the old credential stops working when the new one is set (the target holds one).
      - V(overlap) - the old credential stays valid beside the new one until the contract step (MySQL 8.0.14+ dual
        passwords, Redis ACL, JWT key sets, API keys, static values published at O(target.publish_previous)).
        MariaDB has no dual passwords, so there it falls back to V(single) and RV(strategy_used) says so.
      - V(alternating) - PostgreSQL keeps two login roles C(<username>_a) and C(<username>_b); the new password goes
        to the one not in use and the store switches to it.
    type: str
    choices: [single, overlap, alternating]
    default: single
  target:
    description:
      - Where the credential is applied and tested. Each kind reads only its own options.
    type: dict
    default: {}
    suboptions: &target_options
      host:
        description: Host of the database or Redis server.
        type: str
      port:
        description: Port (defaults 5432, 3306, 6379).
        type: int
      socket:
        description:
          - Unix socket path (MySQL) or the directory holding the socket (PostgreSQL), instead of O(target.host).
        type: path
      database:
        description: Database to connect to for the test login (PostgreSQL default C(postgres)).
        type: str
      username:
        description:
          - The account when the store holds a bare password; with O(strategy=alternating) the base role whose
            members C(<username>_a) and C(<username>_b) are used.
        type: str
      admin:
        description:
          - The admin credential that changes the password, as a reference
            (C(vault://secret/agentarea/db-admin), holding a map with C(username) and C(password), or a bare
            password), or an admin user name with O(target.admin_password). Read with the same backend options as
            O(store).
          - Without it the account changes its own password with the current credential.
        type: str
      admin_username:
        description: Admin user name when O(target.admin) is a reference to a bare password.
        type: str
      admin_password:
        description: Admin password given inline (prefer a reference in O(target.admin)).
        type: str
      connect_timeout:
        description: Seconds to wait for a connection.
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
      url_template:
        description:
          - Rebuild a key of the credential map on rotation, such as
            C(postgresql://{username}:{password_url}@{host}:{port}/{database}). Fields are C(host), C(port),
            C(database), C(username), C(password), C(username_url) and C(password_url) (percent-encoded), and the
            map's own keys. Filled by the module, not by Jinja.
        type: str
      url_key:
        description: The map key that O(target.url_template) fills.
        type: str
        default: url
      test_query:
        description: A query the test login must run successfully (PostgreSQL, MySQL), to prove privileges too.
        type: str
      create_roles:
        description: With O(strategy=alternating), create missing C(_a)/C(_b) roles as members of O(target.username).
        type: bool
        default: true
      user_host:
        description: The host part of the MySQL account.
        type: str
        default: '%'
      mode:
        description:
          - Redis - V(acl) uses C(ACL SETUSER); V(requirepass) uses C(CONFIG SET requirepass) (default user only);
            V(auto) uses requirepass for the C(default) user with O(strategy=single), else ACL.
        type: str
        choices: [auto, acl, requirepass]
        default: auto
      persist:
        description: Redis - save each change with C(ACL SAVE) (V(acl_save)) or C(CONFIG REWRITE) (V(config_rewrite)).
        type: str
        choices: [none, acl_save, config_rewrite]
        default: none
      acl_rules:
        description: Redis - rules to create the ACL user with when it does not exist (such as C(~app:*), C(+@read)).
        type: list
        elements: str
      algorithm:
        description: JWT signing algorithm of new keys.
        type: str
        choices: [HS256, HS512, RS256, ES256, EdDSA]
        default: HS256
      format:
        description:
          - JWT - V(keyset) stores a key set with kids; V(secret) stores a bare HMAC secret (like O(kind=static));
            V(auto) follows what the store holds (a key set when it is empty).
        type: str
        choices: [auto, keyset, secret]
        default: auto
      jwks_path:
        description: JWT - write a JWKS of the public keys to this file (mode 0644) at the set phase.
        type: path
      jwks_ref:
        description: JWT - write the JWKS to this reference instead of, or as well as, O(target.jwks_path).
        type: str
      publish_previous:
        description:
          - V(static) and bare JWT secrets with O(strategy=overlap) - a reference where the value being replaced is
            published for the overlap (such as C(dotenv:///srv/app/.env#SESSION_SECRET_PREVIOUS)); the contract
            step removes it.
        type: str
      register:
        description:
          - API keys - the hook that registers a new key with the provider. C(command) (a list, the key on stdin
            and in E(AGENTAREA_ROTATION_SECRET)), or C(url) with C(method), C(headers), C(body) and the accepted
            C(status_codes); C({secret}), C({new}), C({old}) and C({fingerprint}) are filled in.
        type: dict
        suboptions: &hook
          command:
            description:
              - Command and arguments (no shell). Exit code 0 is success.
              - Arguments are visible to every user of the host (C(ps)) and in the result; pass tokens in
                O(target.register.env).
            type: list
            elements: str
          env:
            description: Extra environment for the command (may hold an admin token; never shown).
            type: dict
          url:
            description: URL of the HTTP call (may hold a token in its query; never shown).
            type: str
          method:
            description: HTTP method (default C(POST) with a body, else C(GET)).
            type: str
          headers:
            description: HTTP headers (may hold an admin token; never shown).
            type: dict
          body:
            description: HTTP body; a dict is sent as JSON (may hold an admin token; never shown).
            type: raw
          status_codes:
            description: Status codes that mean success.
            type: list
            elements: int
            default: [200, 201, 202, 204]
          timeout:
            description: Seconds to wait.
            type: int
            default: 30
          validate_certs:
            description: Verify the server's TLS certificate.
            type: bool
            default: true
          ca_path:
            description: CA bundle for the HTTPS call.
            type: path
      issuer:
        description:
          - "TLS - issue the certificate at a Vault/OpenBao PKI mount (C(<vault_pki>/issue/<role>)) with the module's
            Vault connection options; the contract step revokes the old serial (C(<vault_pki>/revoke)). Without it
            the certificate is self-signed from O(generate) (C({kind: tls, common_name: ...}))."
          - The store receives a map with C(certificate), C(private_key), C(ca_chain) and C(serial); consumers take
            C(tls.crt) (the certificate and its chain) and C(tls.key) as fields.
        type: dict
        suboptions:
          vault_pki:
            description: The PKI mount, such as C(pki).
            type: str
          role:
            description: The PKI role that issues the certificate.
            type: str
          common_name:
            description: The common name, which the test step checks the certificate covers.
            type: str
          alt_names:
            description: DNS subject alternative names.
            type: list
            elements: str
          ip_sans:
            description: IP subject alternative names.
            type: list
            elements: str
          uri_sans:
            description: URI subject alternative names (such as a SPIFFE ID); the PKI role must allow them.
            type: list
            elements: str
          other_sans:
            description: Other subject alternative names, in the PKI engine's C(<oid>;<type>:<value>) form.
            type: list
            elements: str
          exclude_cn_from_sans:
            description: Leave the common name out of the DNS/email subject alternative names.
            type: bool
          ttl:
            description: Lifetime asked for (V(720h)); the role's default otherwise.
            type: str
      renew_before:
        description:
          - TLS - a certificate valid for longer than this (V(30d)) is not due - the rotation is skipped (RV(action)
            C(skipped), with RV(next_due)) unless O(force) is set. Default a third of the certificate's lifetime.
        type: str
      deploy:
        description:
          - TLS - where the set step writes the new certificate before the test (and the rollback the old one back),
            so that O(target.handshake) can prove the server presents it before the store is switched over. Each
            item is a reference (C(file:///etc/nginx/tls/tls.crt), C(k8s://web/web-tls#tls.crt)) and the field of
            the certificate value it gets.
        type: list
        elements: dict
        suboptions:
          ref:
            description: Reference to write to, read and written with the module's store options.
            type: str
          field:
            description: The part of the certificate value - C(tls.crt) is the certificate followed by its chain.
            type: str
            choices: [tls.crt, tls.key, certificate, private_key, ca_chain]
      handshake:
        description:
          - TLS - the test step connects to this server and requires that it presents the new certificate, and that
            it verifies (against O(target.handshake.ca), else the certificate's own chain) for the server name.
            Needs O(target.deploy) - the test runs before finish, when only O(target.deploy) holds the new certificate.
          - A failure names the server and the serial it presents; the rotation is rolled back (O(target.deploy)
            gets the old certificate, the new serial is revoked).
        type: dict
        suboptions:
          host:
            description: Host of the server.
            type: str
          port:
            description: Port of the server.
            type: int
          server_name:
            description: Server name (SNI and the name verified); default O(target.issuer.common_name), else the host.
            type: str
          ca:
            description: CA bundle to verify the server with.
            type: path
          wait:
            description: Seconds to wait for the server to present the new certificate (a reload picking it up).
            type: int
            default: 10
      test:
        description: API keys - the hook that proves a key works (same form as O(target.register)).
        type: dict
        suboptions: *hook
      revoke:
        description: API keys - the hook that revokes a key (the old one at contract, the new one on rollback).
        type: dict
        suboptions: *hook
  generate:
    description:
      - The generation policy of the new value (see M(agentarea.secrets.secret)).
      - "Defaults per kind: passwords of 32 letters and digits, C({kind: base64url, bits: 256}) for static values and
        API keys, HS256/HS512 keys of 256/512 bits; C(bits) or C(curve) tune RS256/ES256 key pairs."
    type: dict
  rehearse:
    description:
      - Create, set and test against the real target, then roll back on purpose and prove the old credential works.
        The store's current value is never changed.
    type: bool
    default: false
  contract:
    description:
      - Only run the contract step - remove the previous credential from the target (and old keys from a JWT key
        set) once O(overlap) has passed since the rotation finished. Idempotent.
    type: bool
    default: false
  overlap:
    description:
      - How long the previous credential stays valid after a rotation (V(90), V(15m), V(12h), V(7d)); for JWT the
        longest token lifetime. The contract step waits for it, and a new rotation first contracts the last one
        when it has passed (and refuses, changing nothing, when it has not).
    type: str
    default: '0'
  min_age:
    description:
      - Do not rotate a value younger than this (V(30d)); the run reports C(skipped) and when it is due. Makes a
        scheduled rotation idempotent.
    type: str
  force:
    description:
      - Rotate even when the value is not due - younger than O(min_age), or (O(kind=tls)) a certificate far from its
        expiry (O(target.renew_before)). The rotate role sets it for entries named or tagged explicitly.
    type: bool
    default: false
  lock_timeout:
    description:
      - Seconds a rotation's claim on a check-and-set store stays valid when its owner cannot be checked (it ran on
        another host). On the same host a dead owner is detected at once.
    type: int
    default: 300
  pending_ref:
    description: Reference of the pending slot, instead of the default beside the secret (see C(docs/rotation.md)).
    type: str
  previous_ref:
    description: Reference of the previous slot, instead of the default beside the secret.
    type: str
  rotations:
    description:
      - Rotate many credentials in one call (one module start instead of one per entry), each with its own phases
        and guarantees - its own lock, create, set, test, finish, rollback, resume, audit events, check mode plan
        and diff - exactly as a call with O(store) would. Mutually exclusive with O(store).
      - An item leaves an option unset to take the module's own value (such as O(kind), O(overlap) or O(target)).
      - The call fails when any item failed, naming each by its O(rotations[].name) (or reference) with its
        value-free message; the results of the others, rolled back or not, are in RV(results).
    type: list
    elements: dict
    suboptions:
      name:
        description: A label for the item's result (C(name) in RV(results)), such as the catalog entry's name.
        type: str
      store:
        description: Reference of the credential (see O(store)).
        type: str
        aliases: [ref]
      kind:
        description: What the credential is for (see O(kind)).
        type: str
        choices: [postgres, mysql, redis, jwt, api_key, static, tls]
      strategy:
        description: See O(strategy).
        type: str
        choices: [single, overlap, alternating]
      target:
        description: Where the credential is applied and tested (see O(target)).
        type: dict
        suboptions: *target_options
      generate:
        description: The generation policy of the new value (see O(generate)).
        type: dict
      rehearse:
        description: See O(rehearse).
        type: bool
      contract:
        description: See O(contract).
        type: bool
      overlap:
        description: See O(overlap).
        type: str
      min_age:
        description: See O(min_age).
        type: str
      force:
        description: See O(force).
        type: bool
      lock_timeout:
        description: See O(lock_timeout).
        type: int
      pending_ref:
        description: See O(pending_ref).
        type: str
      previous_ref:
        description: See O(previous_ref).
        type: str
  concurrency:
    description:
      - With O(rotations), how many rotations run at once (threads in the module; the store and target I/O is what
        waits). Two items for the same secret must not run at once - the second fails cleanly on the first's lock.
    type: int
    default: 1
  audit_log:
    description:
      - Append value-free JSON audit events (one per phase) to this file. Defaults to
        E(AGENTAREA_SECRETS_AUDIT_LOG); no log without either.
    type: path
  fingerprint_key:
    description:
      - Key of the returned HMAC-SHA256 fingerprints. Defaults to E(AGENTAREA_SECRETS_FINGERPRINT_KEY), then the
        key file C(~/.config/agentarea-secrets/fingerprint.key) on the host that runs the module.
    type: str
extends_documentation_fragment:
  - agentarea.secrets.stores
attributes:
  check_mode:
    support: full
    description: Returns the plan (RV(plan)) from reads of the store; neither the store nor the target is changed.
  diff_mode:
    support: full
    description: Shows versions and fingerprints before and after, never values.
notes:
  - Run it where the store and the target are reachable, usually with C(delegate_to=localhost).
  - Needs C(psycopg) (postgres), C(PyMySQL) (mysql), C(redis) (redis), C(PyJWT) and C(cryptography) (jwt),
    C(cryptography) (tls) on that host.
  - "Test-only: E(AGENTAREA_SECRETS_ROTATION_FAULT) (such as V(set:exit)) makes the module exit hard at a phase
    boundary, to test recovery. Never set it in production."
seealso:
  - module: agentarea.secrets.secret
  - module: agentarea.secrets.secret_info
"""

EXAMPLES = r"""
- name: Rotate the database password (admin credential from Vault)
  agentarea.secrets.rotate:
    store: vault://secret/agentarea/database
    kind: postgres
    target:
      host: db.internal
      username: agentarea_user
      database: agentarea
      admin: vault://secret/agentarea/db-admin
      url_template: "postgresql://{username}:{password_url}@{host}:{port}/{database}"
    generate: {length: 32, exclude: "'\"\\@:/"}
    min_age: 30d
  delegate_to: localhost

- name: Rotate between two roles, so consumers never hold a dead credential
  agentarea.secrets.rotate:
    store: vault://secret/agentarea/database
    kind: postgres
    strategy: alternating
    target: {host: db.internal, username: agentarea_user, admin: vault://secret/agentarea/db-admin}

- name: Rehearse a Redis rotation and its rollback (the store is not changed)
  agentarea.secrets.rotate:
    store: vault://secret/agentarea/redis
    kind: redis
    strategy: overlap
    target: {host: redis.internal, admin: vault://secret/agentarea/redis-admin}
    rehearse: true

- name: New JWT signing key; the previous one verifies for a day
  agentarea.secrets.rotate:
    store: file:///srv/agentarea/secrets/jwt-keys.json
    kind: jwt
    strategy: overlap
    overlap: 24h
    target: {algorithm: ES256, jwks_path: /srv/agentarea/public/jwks.json}

- name: A day later, remove the old key
  agentarea.secrets.rotate:
    store: file:///srv/agentarea/secrets/jwt-keys.json
    kind: jwt
    strategy: overlap
    overlap: 24h
    contract: true
    target: {algorithm: ES256, jwks_path: /srv/agentarea/public/jwks.json}

- name: Rotate many static secrets in one call, four at a time (each has its own phases, rollback and result)
  agentarea.secrets.rotate:
    kind: static
    rotations:
      - {name: webhook, store: "file:///srv/agentarea/secrets/webhook"}
      - {name: session, store: "dotenv:///srv/agentarea/.env#SESSION_SECRET", generate: {kind: hex, bits: 256}}
      - {name: database, store: "vault://secret/agentarea/database", kind: postgres,
         target: {host: db.internal, username: agentarea_user, admin: "vault://secret/agentarea/db-admin"}}
    concurrency: 4
  register: rotated

- name: A certificate from the PKI mount, pushed to nginx and proven by a handshake before finish
  agentarea.secrets.rotate:
    store: vault://secret/agentarea/api-tls
    kind: tls
    strategy: overlap
    overlap: 1h
    target:
      issuer: {vault_pki: pki, role: agentarea, common_name: api.agentarea.internal, ttl: 720h}
      renew_before: 10d
      deploy:
        - {ref: "file:///etc/nginx/tls/api.crt", field: tls.crt}
        - {ref: "file:///etc/nginx/tls/api.key", field: tls.key}
      handshake: {host: api.agentarea.internal, port: 443, wait: 30}

- name: Session secret in a .env, the previous one kept for the overlap
  agentarea.secrets.rotate:
    store: dotenv:///srv/agentarea/.env#SESSION_SECRET
    kind: static
    strategy: overlap
    target: {publish_previous: "dotenv:///srv/agentarea/.env#SESSION_SECRET_PREVIOUS"}
"""

RETURN = r"""
action:
  description: What was done - C(rotated), C(resumed), C(rehearsed), C(contracted), C(rolled_back), C(skipped), or
    (check mode and C(contract) with nothing to do) C(rotate), C(rehearse), C(contract).
  returned: always
  type: str
phase:
  description: >-
    The last phase completed - C(lock), C(resume), C(create), C(set), C(test), C(finish), C(contract),
    C(rollback).
  returned: always
  type: str
strategy_used:
  description: >-
    The strategy applied (differs from O(strategy) where the target cannot do it, such as overlap on MariaDB).
  returned: always
  type: str
rotation_id:
  description: Identifier of this rotation in the slots and the audit log.
  returned: always
  type: str
old:
  description: >-
    The value before - C(version), C(fingerprint), and value-free facts such as C(username), C(active_kid), or a
    certificate's C(serial) and C(not_after).
  returned: when the store held one
  type: dict
new:
  description: The new value - C(version) (after finish), C(fingerprint), and value-free facts.
  returned: when a value was created
  type: dict
rolled_back:
  description:
    - Set when the rotation failed and was rolled back - C(performed), C(reason), C(failed_in) (the phase),
      C(target_reverted), C(old_credential_works), C(pending_cleared). A kept pending slot means the next run
      resumes.
  returned: always
  type: dict
resumed:
  description:
    - Set when a pending slot of an earlier run was found - C(rotation_id), C(outcome) (C(completed),
      C(rolled_back), C(cleared)), C(pending_works), C(current_works).
  returned: always
  type: dict
contract:
  description: The contract step - C(performed), C(removed) (version and fingerprint) or C(reason).
  returned: always
  type: dict
rehearsal:
  description: With O(rehearse) - C(rotation), C(rollback), C(old_credential_works), C(new_credential_rejected).
  returned: always
  type: dict
timings:
  description: Seconds spent in each phase.
  returned: always
  type: dict
  sample: {lock: 0.001, create: 0.012, set: 0.034, test: 0.021, finish: 0.015}
plan:
  description: In check mode - C(steps) that would run, C(pending_slot) and C(previous_slot) as found, C(lock).
  returned: in check mode
  type: dict
pending_ref:
  description: Where the pending slot lives.
  returned: always
  type: str
previous_ref:
  description: Where the previous slot lives.
  returned: always
  type: str
next_due:
  description: >-
    With O(min_age), O(overlap) or (O(kind=tls)) O(target.renew_before) - when the rotation or the contract step is
    due.
  returned: when skipped
  type: str
notes:
  description: Value-free remarks (fallbacks, created roles, skipped steps).
  returned: always
  type: list
  elements: str
results:
  description:
    - With O(rotations) - one result per item, in order, shaped like the result of a single call (RV(action),
      RV(phase), RV(old), RV(new), RV(rolled_back), RV(timings), ... and C(diff)) plus C(ref), C(name) (the item's
      O(rotations[].name)) and, for an item that failed, C(failed), C(msg) (value-free, naming the reference, the
      store and the cause) and C(error). The other return values above are then per item, not top level.
  returned: with O(rotations)
  type: list
  elements: dict
failed_count:
  description: With O(rotations) - how many items failed.
  returned: with O(rotations)
  type: int
"""

from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import SecretError, describe_exception
from ansible_collections.agentarea.secrets.plugins.module_utils.core._module import SecretModule
from ansible_collections.agentarea.secrets.plugins.module_utils.rotation._engine import KINDS, Rotation, StoreAccess

from ansible_collections.agentarea.secrets.plugins.module_utils.rotation._engine import target_option_spec

# each target declares its own options (rotation/targets/: OPTIONS, CONNECTION; the api_key hooks' settings)
TARGET_SPEC = target_option_spec()


def target_options(params):
    """The target dict without unset entries, and with the PostgreSQL socket directory under its own name."""
    opts = dict((k, v) for k, v in (params or {}).items() if v is not None)
    if 'socket' in opts:
        opts['socket_dir'] = opts['socket']
    return opts


class Rotate(SecretModule):
    NAME = 'rotate'
    OPTIONS = dict(
        store=dict(type='str', aliases=['ref']),
        kind=dict(type='str', choices=list(KINDS)),
        strategy=dict(type='str', default='single', choices=['single', 'overlap', 'alternating']),
        target=dict(type='dict', default={}, options=TARGET_SPEC),
        generate=dict(type='dict'),
        rehearse=dict(type='bool', default=False),
        contract=dict(type='bool', default=False),
        overlap=dict(type='str', default='0'),
        min_age=dict(type='str'),
        force=dict(type='bool', default=False),
        lock_timeout=dict(type='int', default=300),
        pending_ref=dict(type='str'),
        previous_ref=dict(type='str'),
    )
    STORES = True
    FINGERPRINT_KEY = True
    AUDIT_LOG = True
    # many rotations in one call: each item takes the per-entry options above (module/_module.py: SecretModule)
    BATCH = 'rotations'
    BATCH_OPTIONS = ('store', 'kind', 'strategy', 'target', 'generate', 'rehearse', 'contract', 'overlap', 'min_age',
                     'force', 'lock_timeout', 'pending_ref', 'previous_ref')
    BATCH_REQUIRED = ('store', 'kind')

    def __init__(self):
        super(Rotate, self).__init__(mutually_exclusive=[('rehearse', 'contract'), ('store', 'rotations')],
                                     required_one_of=[('store', 'rotations')], required_by={'store': ('kind',)})

    def run_one(self):
        params = self.params
        if params['rehearse'] and params['contract']:
            self.fail('parameters are mutually exclusive: rehearse|contract', ref=params['store'])
        result = self.result = {'changed': False, 'ref': params['store']}
        ref = self.parse_ref(params['store'], **result)
        result['ref'] = str(ref)
        self.primary = ref.scheme
        backend = self.backend(ref)
        engine = Rotation(
            backend, ref, params['kind'], strategy=params['strategy'],
            target_options=target_options(params['target']), policy=params['generate'],
            stores=StoreAccess(self.backend, known=[backend]),
            fingerprint_key=params['fingerprint_key'], audit=self.audit,
            overlap=params['overlap'], min_age=params['min_age'], lock_timeout=params['lock_timeout'],
            pending_ref=params['pending_ref'], previous_ref=params['previous_ref'], force=params['force'])
        self.result = engine.result  # a failure from here on returns what the rotation did
        try:
            if self.check_mode:
                out = engine.plan(contract=params['contract'], rehearse=params['rehearse'])
            elif params['contract']:
                out = engine.contract()
            else:
                out = engine.rotate(rehearse=params['rehearse'])
        except SecretError:
            raise
        except Exception as exc:  # pylint: disable=broad-except
            # never str(exc): a driver's message may quote a statement
            self.fail('%s: rotation failed: %s' % (ref, describe_exception(exc)), **engine.result)
        if out.get('changed'):
            out['diff'] = {'before': out.get('old') or {}, 'after': out.get('new') or out.get('old') or {}}
        return out


Rotate.OPTIONS.update(Rotate.batch_options())


def main():
    Rotate().main()


if __name__ == '__main__':
    main()
