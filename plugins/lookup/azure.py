# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: azure
short_description: Read secrets from Azure Key Vault
version_added: 0.1.0
author:
  - agentarea.secrets contributors (@agentarea)
description:
  - Returns each secret named by a term, a secret name in O(vault_url) (C(database-url)), C(<vault>/<name>), or an
    C(azure://) reference (C(azure://agentarea-vault/database-url?version=<id>)).
  - A JSON secret comes back as a dict, or one field of it with O(key).
  - A disabled secret or version, and a soft-deleted secret, are reported as deleted (O(on_deleted)); a missing one
    as missing (O(on_missing)); a refusal by the vault's access policy or RBAC as denied (O(on_denied)).
  - Several terms in one call share one client and one token; through the run's broker (see O(cache)), one token
    per playbook run.
  - Only reads. M(agentarea.secrets.secret) writes secrets, their tags, content type and expiry, and deletes them.
requirements:
  - azure-keyvault-secrets and azure-identity (Python libraries) on the controller
options:
  _terms:
    description: Secret names (in O(vault_url)), C(<vault>/<name>), or C(azure://) references.
    type: list
    elements: str
    required: true
extends_documentation_fragment:
  - agentarea.secrets.lookup
  - agentarea.secrets.lookup.backend
  - agentarea.secrets.lookup.key_version
  - agentarea.secrets.azure
  - agentarea.secrets.azure.plugins
  - agentarea.secrets.azure.lookup_shared
notes:
  - Errors name the vault, the secret, the action and the service's error code; never a token or a value.
"""

EXAMPLES = r"""
- name: A secret of the vault, as the machine's managed identity or the Azure CLI login (DefaultAzureCredential)
  ansible.builtin.set_fact:
    database_url: "{{ lookup('agentarea.secrets.azure', 'database-url', vault_url='https://agentarea-vault.vault.azure.net/') }}"
  no_log: true

- name: A service principal (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET as AWX's Azure credential sets them)
  ansible.builtin.set_fact:
    jwt_secret: "{{ lookup('agentarea.secrets.azure', 'azure://agentarea-vault/jwt-secret', auth='client_secret') }}"
  no_log: true

- name: A service principal with a certificate in US Government cloud (also AZURE_CLIENT_CERTIFICATE_PATH and friends)
  ansible.builtin.set_fact:
    api_key: "{{ lookup('agentarea.secrets.azure', 'azure://agentarea-vault/api-key', tenant_id=sp_tenant,
                        client_id=sp_client_id, client_certificate='/etc/agentarea/sp.pem',
                        client_certificate_password=sp_cert_password, authority='AzureUSGovernment') }}"
  no_log: true

- name: One field of a JSON secret, through a private endpoint with an internal CA
  ansible.builtin.set_fact:
    redis_password: "{{ lookup('agentarea.secrets.azure', 'azure://kv-agentarea.privatelink.internal/redis#password',
                               ca_cert='/etc/pki/internal-ca.pem') }}"
  no_log: true

- name: A given version
  ansible.builtin.set_fact:
    old_key: "{{ lookup('agentarea.secrets.azure', 'agentarea-vault/api-key', version='0f5e6c0d2a9b4c1e8f7a6b5c4d3e2f1a') }}"
  no_log: true
"""

RETURN = r"""
_raw:
  description:
    - One value per term, in order (terms skipped by O(on_missing), O(on_denied) or O(on_deleted) are left out).
    - A string, or a dict for a JSON object read without O(key).
  type: list
  elements: raw
"""

from ansible_collections.agentarea.secrets.plugins.plugin_utils._bytecode import loading

with loading():  # our files with bytecode, not compiled again in every task (plugin_utils/_bytecode.py)
    from ansible_collections.agentarea.secrets.plugins.plugin_utils._lookup import SecretLookupBase


class LookupModule(SecretLookupBase):
    SCHEME = 'azure'
