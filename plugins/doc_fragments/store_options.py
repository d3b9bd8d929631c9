# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Per-store forms of the options that several stores share a name for, in modules that take any reference."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment:
    # Built by _registry.union_argspec() from the options that two or more backends declare (timeout excepted);
    # tests/unit/plugins/module_utils/core/test_registry_docs.py holds this list to it.
    DOCUMENTATION = r"""
options:
  vault_ca_cert:
    description:
      - O(ca_cert) for the Vault store alone. The plain O(ca_cert), O(validate_certs), O(access_token) and
        O(force_delete) apply to the store of the module's own reference (its C(ref) or C(store) option) when that store takes
        them, and otherwise to the other stores; the per-store forms (V(vault_), V(azure_), V(k8s_), V(aws_),
        V(gcp_)) apply to their store only and win over the plain ones. So in M(agentarea.secrets.distribute) a
        C(validate_certs=false) meant for a Vault store never turns off TLS verification toward Kubernetes.
    type: path
  vault_validate_certs:
    description:
      - O(validate_certs) for the Vault store alone (see O(vault_ca_cert)).
    type: bool
  azure_ca_cert:
    description:
      - O(ca_cert) for the Azure Key Vault store alone (see O(vault_ca_cert)).
    type: path
  azure_validate_certs:
    description:
      - O(validate_certs) for the Azure Key Vault store alone (see O(vault_ca_cert)).
    type: bool
  azure_access_token:
    description:
      - O(access_token) for the Azure Key Vault store alone (see O(vault_ca_cert)).
    type: str
  k8s_ca_cert:
    description:
      - O(ca_cert) for the Kubernetes API alone, the store or a consumer (see O(vault_ca_cert)).
    type: path
  k8s_validate_certs:
    description:
      - O(validate_certs) for the Kubernetes API alone, the store or a consumer (see O(vault_ca_cert)).
    type: bool
  gcp_access_token:
    description:
      - O(access_token) for Google Secret Manager alone (see O(vault_ca_cert)).
    type: str
  aws_force_delete:
    description:
      - O(force_delete) for AWS Secrets Manager alone (see O(vault_ca_cert)).
    type: bool
  azure_force_delete:
    description:
      - O(force_delete) for Azure Key Vault alone (see O(vault_ca_cert)).
    type: bool
"""
