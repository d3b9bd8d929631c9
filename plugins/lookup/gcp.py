# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: gcp
short_description: Read secrets from Google Secret Manager
version_added: 0.1.0
author:
  - agentarea.secrets contributors (@agentarea)
description:
  - Returns each secret named by a term, a secret name in O(project) (C(database-url)), C(<project>/<name>), a
    resource name (C(projects/my-project/secrets/database-url/versions/3)), or a C(gcp://) reference
    (C(gcp://my-project/database-url?version=latest)).
  - Reads the C(latest) version unless O(version) or C(?version=) name another. As in the service, C(latest) is
    the newest version even when it is disabled, and then the read reports it as deleted.
  - A JSON secret comes back as a dict, or one field of it with O(key); a payload that is not UTF-8 text as bytes.
  - A disabled or destroyed version is reported as deleted (O(on_deleted)), a missing secret or version as missing
    (O(on_missing)), a refusal by IAM as denied (O(on_denied)).
  - Payload checksums (C(data_crc32c)) are verified when the service sends one.
  - Only reads. M(agentarea.secrets.secret) adds versions, sets labels and deletes secrets.
requirements:
  - google-cloud-secret-manager (Python library) on the controller
options:
  _terms:
    description: Secret names (in O(project)), C(<project>/<name>), resource names, or C(gcp://) references.
    type: list
    elements: str
    required: true
extends_documentation_fragment:
  - agentarea.secrets.lookup
  - agentarea.secrets.lookup.backend
  - agentarea.secrets.lookup.key_version
  - agentarea.secrets.gcp
  - agentarea.secrets.gcp.plugins
  - agentarea.secrets.gcp.lookup_shared
notes:
  - Errors name the project, the secret, the action and the service's error; never a token or a value.
"""

EXAMPLES = r"""
- name: The latest version, with Application Default Credentials
  ansible.builtin.set_fact:
    database_url: "{{ lookup('agentarea.secrets.gcp', 'database-url', project='my-project') }}"
  no_log: true

- name: A service account key file, a given version, one field of a JSON secret
  ansible.builtin.set_fact:
    redis_password: "{{ lookup('agentarea.secrets.gcp', 'gcp://my-project/redis#password', version='3',
                               credentials_file='/etc/agentarea/gcp-sa.json') }}"
  no_log: true

- name: A resource name, through a Private Service Connect endpoint
  ansible.builtin.set_fact:
    jwt_secret: "{{ lookup('agentarea.secrets.gcp', 'projects/my-project/secrets/jwt-secret',
                           api_endpoint='secretmanager-agentarea.p.googleapis.com') }}"
  no_log: true
"""

RETURN = r"""
_raw:
  description:
    - One value per term, in order (terms skipped by O(on_missing), O(on_denied) or O(on_deleted) are left out).
    - A string, a dict for a JSON object read without O(key), or bytes for a payload that is not text.
  type: list
  elements: raw
"""

from ansible_collections.agentarea.secrets.plugins.plugin_utils._bytecode import loading

with loading():  # our files with bytecode, not compiled again in every task (plugin_utils/_bytecode.py)
    from ansible_collections.agentarea.secrets.plugins.plugin_utils._lookup import SecretLookupBase


class LookupModule(SecretLookupBase):
    SCHEME = 'gcp'
