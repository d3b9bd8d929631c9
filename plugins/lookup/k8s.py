# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: k8s
short_description: Read the decoded keys of Kubernetes Secrets
version_added: 0.1.0
author:
  - agentarea.secrets contributors (@agentarea)
description:
  - Returns each Secret named by a term, C(namespace/name), as a dict of its keys with decoded values, or one key of
    it with O(key) (or C(namespace/name#key) in the term).
  - Values are base64-decoded; a value that is not UTF-8 text comes back as bytes.
  - Connects with a kubeconfig, with O(host) and O(api_key), or with the service account of the pod it runs in
    (AWX and execution environments on Kubernetes), in the order described under O(in_cluster).
  - Only reads. M(agentarea.secrets.k8s_secret) writes Secrets; M(agentarea.secrets.secret) writes single keys
    of C(k8s://) references.
options:
  _terms:
    description: Secrets as C(namespace/name), or C(k8s://namespace/name#key) references.
    type: list
    elements: str
    required: true
  key:
    description:
      - Return this key of the Secret instead of the whole map. A C(#key) in the term wins.
    type: str
extends_documentation_fragment:
  - agentarea.secrets.lookup
  - agentarea.secrets.k8s
  - agentarea.secrets.k8s.plugins
notes:
  - The lookup runs on the controller, so the kubeconfig and the environment variables are the controller's.
seealso:
  - module: agentarea.secrets.k8s_secret
  - plugin: agentarea.secrets.secret
    plugin_type: lookup
"""

EXAMPLES = r"""
- name: One key of a Secret
  ansible.builtin.set_fact:
    database_url: "{{ lookup('agentarea.secrets.k8s', 'agentarea/agentarea-secrets', key='database-url') }}"
  no_log: true

- name: The whole Secret as a dict, from a given context
  ansible.builtin.set_fact:
    app_secrets: "{{ lookup('agentarea.secrets.k8s', 'agentarea/agentarea-secrets', context='prod') }}"
  no_log: true

- name: Inside AWX on Kubernetes (the job pod's service account is used automatically)
  ansible.builtin.set_fact:
    jwt_secret: "{{ lookup('agentarea.secrets.k8s', 'agentarea/agentarea-secrets#jwt-secret') }}"
  no_log: true
"""

RETURN = r"""
_raw:
  description: For each term, the decoded value of the key, or a dict of every key of the Secret.
  type: list
  elements: raw
"""

from ansible_collections.agentarea.secrets.plugins.plugin_utils._bytecode import loading

with loading():  # our files with bytecode, not compiled again in every task (plugin_utils/_bytecode.py)
    from ansible_collections.agentarea.secrets.plugins.plugin_utils._lookup import SecretLookupBase


class LookupModule(SecretLookupBase):
    SCHEME = 'k8s'
    REF_PARAMS = ()
