# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: ssm
short_description: Read parameters from AWS Systems Manager Parameter Store
version_added: 0.1.0
author:
  - agentarea.secrets contributors (@agentarea)
description:
  - Returns each parameter named by a term, a parameter name (C(/agentarea/prod/db/password), C(agentarea/prod/db/password)
    or a top-level C(db_password)), an ARN, or an C(ssm://) reference (C(ssm://agentarea/prod/database#password)).
  - A name with a slash is always the fully qualified name, as SSM knows hierarchical names only that way, so
    C(ssm://agentarea/db/password) and C(ssm:///agentarea/db/password) are both C(/agentarea/db/password). A name
    without a slash is a top-level name as written.
  - C(SecureString) parameters are returned decrypted (C(WithDecryption)); a C(StringList) as its comma-separated
    string. A JSON value comes back as a dict, or one field of it with O(key).
  - Reads the current version unless O(version), O(label), C(?version=) or C(?label=) say otherwise (SSM's
    C(name:version) and C(name:label) selectors).
  - With O(bypath), a term is a path and its value is a dict of every parameter under it, full name to value, read
    ten at a time (O(recursive) for the whole tree). A path that holds no parameter is missing (O(on_missing)).
  - Several plain names in one call are read with one client and one C(GetParameters) call per ten names, falling
    back to one read per parameter where the batch cannot answer.
  - A missing parameter, version or label is reported as missing (O(on_missing)), a refusal by IAM or KMS as denied
    (O(on_denied)).
  - Only reads. M(agentarea.secrets.secret) writes (type, tier, KMS key, tags), labels (C(?label=)) and deletes
    parameters.
requirements:
  - boto3 (Python library) on the controller
options:
  _terms:
    description: Parameter names, paths (with O(bypath)) or ARNs, or C(ssm://) references.
    type: list
    elements: str
    required: true
  key:
    description:
      - Return this field of a JSON parameter instead of the whole value (a dict); with O(bypath), the value of the
        parameter with this full name.
      - The same as C(#key) in a reference; a C(#key) in the term wins.
    type: str
  version:
    description:
      - Read this version number instead of the current one, where the term has no C(?version=) or C(?label=).
    type: str
  label:
    description:
      - Read the version that carries this label, where the term has no C(?version=) or C(?label=).
    type: str
  bypath:
    description:
      - Read every parameter under the path each term names (C(GetParametersByPath)), as one dict from full name to
        value. The same as C(?bypath=true) in a reference.
    type: bool
    default: false
  recursive:
    description:
      - With O(bypath), the whole tree below the path, not only its direct children. The same as C(?recursive=true).
    type: bool
    default: false
extends_documentation_fragment:
  - agentarea.secrets.lookup
  - agentarea.secrets.lookup.backend
  - agentarea.secrets.aws
  - agentarea.secrets.aws.plugins
  - agentarea.secrets.aws.lookup_shared
  - agentarea.secrets.ssm
  - agentarea.secrets.ssm.plugins
notes:
  - The AWS connection options (region, credentials, role, retries) are those of the P(agentarea.secrets.aws#lookup)
    lookup and read the same variables; O(endpoint_url) is used when O(ssm_endpoint_url) is not set.
  - Errors name the reference, the store, the action and the AWS error code; never a credential or a value.
"""

EXAMPLES = r"""
# Credentials from the environment (AWS_ACCESS_KEY_ID ..., as AWX's AWS credential injects them), a profile, or a role
- name: The database password (a SecureString, returned decrypted)
  ansible.builtin.set_fact:
    db_password: "{{ lookup('agentarea.secrets.ssm', '/agentarea/prod/db/password') }}"
  no_log: true

- name: One field of a JSON parameter, the version labelled "stable", and version 3 of another
  ansible.builtin.set_fact:
    api_user: "{{ lookup('agentarea.secrets.ssm', 'agentarea/prod/api', key='user', region='eu-west-1') }}"
    stable_token: "{{ lookup('agentarea.secrets.ssm', 'agentarea/prod/token', label='stable') }}"
    old_token: "{{ lookup('agentarea.secrets.ssm', 'ssm://agentarea/prod/token?version=3') }}"
  no_log: true

- name: Every parameter below /agentarea/prod, as a dict of full name to value
  ansible.builtin.set_fact:
    prod_config: "{{ lookup('agentarea.secrets.ssm', '/agentarea/prod', bypath=true, recursive=true) }}"
  no_log: true

- name: An optional parameter that may not exist yet
  ansible.builtin.set_fact:
    sentry_dsn: "{{ lookup('agentarea.secrets.ssm', '/agentarea/prod/sentry', on_missing='skip') | default('', true) }}"
  no_log: true

- name: The same through the lookup that reads any store
  ansible.builtin.set_fact:
    db_password: "{{ lookup('agentarea.secrets.secret', 'ssm://agentarea/prod/db/password') }}"
  no_log: true
"""

RETURN = r"""
_raw:
  description:
    - One value per term, in order (terms skipped by O(on_missing) or O(on_denied) are left out).
    - A string, a dict for a JSON object read without O(key), or with O(bypath) a dict of full name to value.
  type: list
  elements: raw
"""

from ansible_collections.agentarea.secrets.plugins.plugin_utils._bytecode import loading

with loading():  # our files with bytecode, not compiled again in every task (plugin_utils/_bytecode.py)
    from ansible_collections.agentarea.secrets.plugins.plugin_utils._lookup import SecretLookupBase


class LookupModule(SecretLookupBase):
    SCHEME = 'ssm'
    REF_PARAMS = ('version', 'label', 'bypath', 'recursive')  # folded into the reference (the run cache keeps them apart)
