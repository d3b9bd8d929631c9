# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: aws
short_description: Read secrets from AWS Secrets Manager
version_added: 0.1.0
author:
  - agentarea.secrets contributors (@agentarea)
description:
  - Returns each secret named by a term, a secret name or ARN (C(agentarea/prod/database)) or an C(aws://)
    reference (C(aws://agentarea/prod/database#password?stage=AWSPREVIOUS)).
  - A JSON secret comes back as a dict, or one field of it with O(key); a binary secret as bytes.
  - Reads C(AWSCURRENT) unless O(version_stage), O(version_id), C(?stage=) or C(?version=) say otherwise.
  - Several terms in one call are read with one client and, for current values, one C(BatchGetSecretValue) call
    per 20 secrets (falling back to one read per secret where the batch cannot answer, for example without the
    C(secretsmanager:BatchGetSecretValue) permission).
  - A secret scheduled for deletion is reported as deleted (O(on_deleted)), a missing secret or label as missing
    (O(on_missing)), a refusal by IAM or KMS as denied (O(on_denied)).
  - With O(bypath), a term is a path and its value is a dict of every secret under it (names that start with the
    path and a C(/)), full name to current value (C(ListSecrets), then C(BatchGetSecretValue)), as amazon.aws's
    C(bypath) does.
  - Only reads. M(agentarea.secrets.secret) writes, tags, labels (C(?stage=AWSPENDING)) and deletes secrets.
requirements:
  - boto3 (Python library) on the controller
options:
  _terms:
    description: Secret names or ARNs, paths (with O(bypath)), or C(aws://) references.
    type: list
    elements: str
    required: true
  key:
    description:
      - Return this field of a JSON secret instead of the whole secret (a dict); with O(bypath), the value of the
        secret with this full name.
      - The same as C(#key) in a reference; a C(#key) in the term wins.
    type: str
  nested:
    description:
      - Read a path into a JSON secret, as amazon.aws's C(nested) does; a term C(agentarea/prod/database.primary.password)
        is the secret C(agentarea/prod/database) and the path C(primary.password). With O(key) or C(#key) the key is
        the dotted path instead (for a secret whose name has a dot). A number indexes a list.
      - A step that is not there is missing (O(on_missing)), naming the path and the keys that are there. The same
        as C(?nested=true) in a reference.
    type: bool
    default: false
  bypath:
    description:
      - Read every secret under the path each term names (C(agentarea/prod) reads C(agentarea/prod/db) and
        C(agentarea/prod/api/key), not C(agentarea/production)), as one dict from full name to current value. The
        same as C(?bypath=true) in a reference. Secrets scheduled for deletion are left out; a binary secret's value
        is its base64 text. A path that holds no secret is missing (O(on_missing)).
      - Reads C(AWSCURRENT) only, so it cannot be combined with O(version_stage) or O(version_id).
    type: bool
    default: false
  join:
    description:
      - Return one string, the values of all the terms joined in their order, as amazon.aws's C(join) does (for a
        value split over several secrets to get past the size limit of one). Every value must be text, so a JSON
        secret needs O(key) (or C(#key)); a JSON object or a binary value fails the lookup, naming its reference.
        Terms skipped by O(on_missing), O(on_denied) or O(on_deleted) are left out of the string.
      - Not with O(bypath), whose value is a dict.
    type: bool
    default: false
extends_documentation_fragment:
  - agentarea.secrets.lookup
  - agentarea.secrets.lookup.backend
  - agentarea.secrets.aws
  - agentarea.secrets.aws.read
  - agentarea.secrets.aws.plugins
  - agentarea.secrets.aws.lookup_shared
notes:
  - Errors name the secret, the action and the AWS error code; never a credential or a value.
"""

EXAMPLES = r"""
# Credentials from the environment (AWS_ACCESS_KEY_ID ..., as AWX's AWS credential injects them), a profile, or a role
- name: The database password, one field of a JSON secret
  ansible.builtin.set_fact:
    db_password: "{{ lookup('agentarea.secrets.aws', 'agentarea/prod/database', key='password') }}"
  no_log: true

- name: The whole JSON secret as a dict, and the previous value during a rotation
  ansible.builtin.set_fact:
    database: "{{ lookup('agentarea.secrets.aws', 'agentarea/prod/database', region='eu-west-1') }}"
    old_password: "{{ lookup('agentarea.secrets.aws', 'agentarea/prod/database#password', version_stage='AWSPREVIOUS') }}"
  no_log: true

- name: Several secrets in one batch call, through an assumed role
  ansible.builtin.set_fact:
    app_secrets: "{{ query('agentarea.secrets.aws', 'agentarea/prod/jwt', 'agentarea/prod/openai', 'agentarea/prod/redis',
                           assume_role_arn='arn:aws:iam::123456789012:role/agentarea-deploy') }}"
  no_log: true

- name: A value deep inside a JSON secret (amazon.aws's nested form), and the same for a name with a dot in it
  ansible.builtin.set_fact:
    primary_password: "{{ lookup('agentarea.secrets.aws', 'agentarea/prod/database.primary.password', nested=true) }}"
    replica_password: "{{ lookup('agentarea.secrets.aws', 'agentarea/prod/db.v2', key='replicas.0.password', nested=true) }}"
  no_log: true

- name: Every secret under a path (a dict from full name to value)
  ansible.builtin.set_fact:
    prod_secrets: "{{ lookup('agentarea.secrets.aws', 'agentarea/prod/', bypath=true) }}"
  no_log: true

- name: A certificate bundle stored in three parts, joined into one string
  ansible.builtin.set_fact:
    bundle: "{{ lookup('agentarea.secrets.aws', 'agentarea/prod/bundle-1', 'agentarea/prod/bundle-2', 'agentarea/prod/bundle-3', join=true) }}"
  no_log: true

- name: An optional secret that may not exist yet
  ansible.builtin.set_fact:
    sentry_dsn: "{{ lookup('agentarea.secrets.aws', 'agentarea/prod/sentry', on_missing='skip') | default('', true) }}"
  no_log: true
"""

RETURN = r"""
_raw:
  description:
    - One value per term, in order (terms skipped by O(on_missing), O(on_denied) or O(on_deleted) are left out).
    - A string, a dict for a JSON object read without O(key), or bytes for a binary secret; with O(bypath) a dict of
      full name to value; with O(join) one string.
  type: list
  elements: raw
"""

from ansible.errors import AnsibleLookupError

from ansible_collections.agentarea.secrets.plugins.plugin_utils._bytecode import loading

with loading():  # our files with bytecode, not compiled again in every task (plugin_utils/_bytecode.py)
    from ansible_collections.agentarea.secrets.plugins.plugin_utils._lookup import SecretLookupBase


class LookupModule(SecretLookupBase):
    SCHEME = 'aws'
    # version_stage / version_id are backend options, folded into the reference by the backend; bypath is the lookup's
    REF_PARAMS = ('bypath', 'nested')

    def run(self, terms, variables=None, **kwargs):
        values = super(LookupModule, self).run(terms, variables, **kwargs)
        if not self.get_option('join'):
            return values
        if self.get_option('bypath'):
            raise AnsibleLookupError("agentarea.secrets.aws: join makes one string of text values, and bypath reads "
                                     "dicts; give one of them")
        for term, value in zip(terms, values) if len(values) == len(terms) else ((None, v) for v in values):
            if not isinstance(value, str):
                what = 'a binary secret' if isinstance(value, bytes) else 'a JSON object (name one key with key=)'
                raise AnsibleLookupError("agentarea.secrets.aws: join needs text values, and %s is %s"
                                         % ("'%s'" % term if term is not None else 'one of the terms', what))
        return [''.join(values)]
