#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: secret
short_description: Write, generate or delete a secret in any store
version_added: 0.1.0
author:
  - agentarea.secrets contributors (@agentarea)
description:
  - Ensures the secret at O(ref) holds O(value), or holds a value generated from the O(generate) policy (created
    only when missing, so a second run never regenerates it), or is absent.
  - The value is compared with what the store holds (or with the fingerprint the store keeps, where values cannot
    be read back), so an unchanged value writes nothing.
  - Writes use check-and-set where the store supports it, so a concurrent change fails with a conflict instead
    of being overwritten. A C(#key) in O(ref) changes one field of a map secret and keeps the others.
  - Returns versions and keyed fingerprints, never the value; the diff shows fingerprints.
options:
  ref:
    description:
      - The secret reference, such as C(vault://secret/agentarea/database#password), C(dotenv:///srv/app/.env#JWT_SECRET),
        C(file:///srv/app/secrets/db_password.txt) or C(pass://agentarea/database).
      - Required unless O(secrets) is given.
    type: str
  value:
    description:
      - The value to store. A dict is stored as a map (or as JSON where the store holds one string).
      - Mutually exclusive with O(generate).
    type: raw
  generate:
    description:
      - Generate the value from this policy when the secret does not exist (or always, with O(force)).
      - "Passwords: C(length), minimum counts C(lower), C(upper), C(digits), C(symbols) (V(false) excludes a class),
        C(symbol_set), C(exclude) characters, C(safe_for) (C(url), C(shell), C(quotes), C(ambiguous), C(yaml))."
      - "Other kinds: C({kind: hex, bits: 256}), C({kind: base64url, bits: 256}), C({kind: fernet}),
        C({kind: rsa, bits: 3072}), C({kind: ec, curve: P-256}), C({kind: ed25519}), C({kind: ssh, type: ed25519}),
        C({kind: tls, common_name: api.internal, sans: [...], days: 365})."
    type: dict
  force:
    description:
      - With O(generate), generate and write a new value even when the secret exists.
    type: bool
    default: false
  tags:
    description:
      - Tags, labels or custom metadata to set on the secret (where the store has them). Changes to tags alone are
        detected and applied without writing a new value.
    type: dict
  state:
    description:
      - V(present) writes or generates; V(absent) deletes the secret (or the C(#key) field of it).
    type: str
    choices: [present, absent]
    default: present
  secrets:
    description:
      - Write, generate or delete many secrets in one call (one module start instead of one per secret), each
        exactly as a call with O(ref) would - its own comparison, check-and-set write, audit event, check mode and
        diff. Mutually exclusive with O(ref).
      - An item leaves an option unset to take the module's own value (such as O(generate) or O(state)).
      - The call fails when any item failed, naming each by its O(secrets[].name) (or reference) with its
        value-free message; the results of the others are in RV(results).
    type: list
    elements: dict
    suboptions:
      name:
        description: A label for the item's result (C(name) in RV(results)), such as the catalog entry's name.
        type: str
      ref:
        description: The secret reference (see O(ref)).
        type: str
      value:
        description: The value to store (see O(value)).
        type: raw
      generate:
        description: The generation policy (see O(generate)).
        type: dict
      force:
        description: See O(force).
        type: bool
      tags:
        description: See O(tags).
        type: dict
      state:
        description: See O(state).
        type: str
        choices: [present, absent]
  concurrency:
    description:
      - With O(secrets), how many items run at once (threads in the module). Keep V(1) when items share a file
        (C(dotenv://), C(file://) maps) unless the store locks it.
    type: int
    default: 1
  fingerprint_key:
    description:
      - Key of the returned HMAC-SHA256 fingerprints. Defaults to E(AGENTAREA_SECRETS_FINGERPRINT_KEY), then the
        key file C(~/.config/agentarea-secrets/fingerprint.key) on the host that runs the module.
    type: str
extends_documentation_fragment:
  - agentarea.secrets.audit
  - agentarea.secrets.stores
attributes:
  check_mode:
    support: full
    description: Reports what would change without writing.
  diff_mode:
    support: full
    description: Shows fingerprints and versions before and after, never values.
notes:
  - "Run it where the store is reachable, usually with C(delegate_to: localhost)."
seealso:
  - module: agentarea.secrets.secret_info
  - plugin: agentarea.secrets.secret
    plugin_type: lookup
"""

EXAMPLES = r"""
- name: Generate a JWT signing secret once (a second run keeps it)
  agentarea.secrets.secret:
    ref: "dotenv://{{ playbook_dir }}/.env.local#JWT_SECRET"
    generate: {kind: base64url, bits: 512}

- name: A database password that is safe inside a URL
  agentarea.secrets.secret:
    ref: "pass://agentarea/database"
    generate: {length: 32, safe_for: [url, shell]}

- name: Store a value given by an operator
  agentarea.secrets.secret:
    ref: "file:///srv/agentarea/secrets/openai_api_key.txt"
    value: "{{ openai_api_key }}"

- name: Generate many secrets in one call (each created only when missing)
  agentarea.secrets.secret:
    generate: {kind: hex, bits: 256}
    secrets:
      - {name: webhook, ref: "file:///srv/agentarea/secrets/webhook"}
      - {name: session, ref: "file:///srv/agentarea/secrets/session", generate: {kind: fernet}}
  register: generated

- name: Remove an entry
  agentarea.secrets.secret:
    ref: "dotenv:///srv/agentarea/.env#LEGACY_TOKEN"
    state: absent
"""

RETURN = r"""
ref:
  description: The reference, in canonical form.
  returned: always
  type: str
  sample: dotenv:///srv/agentarea/.env#JWT_SECRET
fingerprint:
  description: Keyed fingerprint of the value now in the store (or that would be, in check mode for a given value).
  returned: when state is present
  type: str
  sample: hmac-sha256:3f2a9c0b5e1d47a8b6c2e9f01d3a5b7c
previous_fingerprint:
  description: Fingerprint of the value before, when there was one.
  returned: when a value existed
  type: str
version:
  description: The store's version of the secret after the change, where it has versions.
  returned: when state is present
  type: str
previous_version:
  description: The version before the change.
  returned: when a value existed
  type: str
generated:
  description: Whether a new value was generated.
  returned: when state is present
  type: bool
action:
  description: What was done (or would be, in check mode).
  returned: always
  type: str
  sample: created
results:
  description:
    - With O(secrets) - one result per item, in order, shaped like the result of a single call (RV(ref),
      RV(fingerprint), RV(version), RV(action), ... and C(diff)) plus C(name) (the item's O(secrets[].name)) and,
      for an item that failed, C(failed), C(msg) (value-free) and C(error). The other return values above are then
      per item, not top level.
  returned: with O(secrets)
  type: list
  elements: dict
failed_count:
  description: With O(secrets) - how many items failed.
  returned: with O(secrets)
  type: int
"""

from ansible_collections.agentarea.secrets.plugins.module_utils.core._backend import CAP_CAS, CAS_CREATE, observe
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import SecretError
from ansible_collections.agentarea.secrets.plugins.module_utils.core._fingerprint import canonical_bytes
from ansible_collections.agentarea.secrets.plugins.module_utils.core._generate import generate
from ansible_collections.agentarea.secrets.plugins.module_utils.core._module import SecretModule


class Secret(SecretModule):
    NAME = 'secret'
    OPTIONS = dict(
        ref=dict(type='str'),
        value=dict(type='raw', no_log=True),
        generate=dict(type='dict'),
        force=dict(type='bool', default=False),
        tags=dict(type='dict'),
        state=dict(type='str', default='present', choices=['present', 'absent']),
    )
    STORES = True
    FINGERPRINT_KEY = True
    AUDIT_LOG = True
    # many secrets in one call: each item takes the per-secret options above (module_utils/core/_module.py)
    BATCH = 'secrets'
    BATCH_OPTIONS = ('ref', 'value', 'generate', 'force', 'tags', 'state')
    BATCH_REQUIRED = ('ref',)

    def __init__(self):
        super(Secret, self).__init__(
            mutually_exclusive=[('value', 'generate'), ('ref', 'secrets')],
            required_one_of=[('ref', 'secrets')],
            # with secrets, value or generate may come from the items (checked per item in run_one)
            required_if=[('state', 'present', ('value', 'generate', 'secrets'), True)],
        )

    def run_one(self):
        params = self.params
        if params['value'] is not None and params['generate'] is not None:
            self.fail('parameters are mutually exclusive: value|generate', ref=params['ref'])
        if params['state'] == 'present' and params['value'] is None and params['generate'] is None:
            self.fail('state is present but any of the following are missing: value, generate', ref=params['ref'])
        result = self.result = {'changed': False, 'ref': params['ref']}
        ref = self.parse_ref(params['ref'], **result)
        result['ref'] = str(ref)
        self.primary = ref.scheme
        try:
            return self.apply(ref, result)
        except SecretError as exc:
            if not self.check_mode:
                self.audit.emit('write', 'error', backend=ref.scheme, ref=ref, error=type(exc).__name__)
            raise

    def apply(self, ref, result):
        params, fp, log = self.params, self.fingerprint, self.audit
        backend = self.backend(ref)
        backend.creating = True  # a missing secret is created here (AWS: even the first of an empty region)
        seen = observe(backend, ref, fp)
        secret, current, current_fp, exists = seen.secret, seen.value, seen.fingerprint, seen.exists
        before = {'exists': exists, 'fingerprint': current_fp, 'version': secret.version if secret else None}
        if exists:
            result['previous_fingerprint'] = current_fp
            result['previous_version'] = before['version']

        if params['state'] == 'absent':
            result['action'] = 'deleted' if exists else 'none'
            if exists:
                result['changed'] = True
                if not self.check_mode:
                    backend.delete(ref)
                    log.emit('delete', 'ok', backend=ref.scheme, ref=ref, version=before['version'],
                             fingerprint=current_fp)
            result['diff'] = {'before': before, 'after': {'exists': False}}
            return result

        generated = False
        if params['generate'] is not None:
            if exists and not params['force']:
                desired, desired_fp = None, current_fp
            else:
                desired, generated = generate(params['generate']), True
                desired_fp = fp(desired)
        else:
            desired = params['value']
            desired_fp = fp(desired)
        value_changes = desired is not None and (
            not exists or current_fp != desired_fp
            or (current is not None and canonical_bytes(current) != canonical_bytes(desired)))
        tags = params['tags']
        current_tags = (secret.metadata.get('tags') or {}) if secret else {}
        # properties set by options (Azure content type, expiry) are detected and applied without a new value
        prop_changes = backend.property_changes(secret) if exists and secret is not None else {}
        tag_changes = (tags is not None and dict((k, str(v)) for k, v in tags.items()) != current_tags) or bool(
            prop_changes)

        if not exists:
            action = 'created'
        elif value_changes:
            action = 'updated'
        else:
            action = 'tagged' if tag_changes else 'none'
        result.update(generated=generated, fingerprint=desired_fp, action=action)
        result['version'] = before['version']
        if value_changes or tag_changes:
            result['changed'] = True
            if not self.check_mode:
                if value_changes:
                    cas = None
                    if CAP_CAS in backend.CAPABILITIES:
                        cas = CAS_CREATE if secret is None else secret.version
                    written = backend.write(ref, desired, cas=cas, metadata=tags)
                else:
                    written = backend.set_tags(ref, tags if tags is not None else current_tags)
                if written is not None and written.version is not None:
                    result['version'] = written.version
                log.emit('write' if value_changes else 'tag', 'ok', backend=ref.scheme, ref=ref,
                         version=result['version'], fingerprint=desired_fp, change=action, generated=generated)
        result['diff'] = {
            'before': before,
            'after': {'exists': True, 'fingerprint': desired_fp,
                      'version': result['version'] if not value_changes or not self.check_mode else '(new)'},
        }
        if tags is not None:
            result['diff']['before']['tags'] = current_tags
            result['diff']['after']['tags'] = tags
        if prop_changes:
            result['diff']['before']['properties'] = dict((k, v[0]) for k, v in prop_changes.items())
            result['diff']['after']['properties'] = dict((k, v[1]) for k, v in prop_changes.items())
        return result


Secret.OPTIONS.update(Secret.batch_options())


def main():
    Secret().main()


if __name__ == '__main__':
    main()
