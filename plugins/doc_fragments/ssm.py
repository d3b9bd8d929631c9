# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment:
    # Options of the AWS Systems Manager Parameter Store backend (ssm:// references) beyond the AWS connection options
    # it shares with aws:// (region, profile, access_key ... in the agentarea.secrets.aws fragment: one AWS identity).
    DOCUMENTATION = r"""
options:
  ssm_endpoint_url:
    description:
      - Systems Manager endpoint for C(ssm://) references, such as a VPC endpoint.
      - Defaults to E(ANSIBLE_AGENTAREA_SECRETS_SSM_ENDPOINT_URL), then E(AWS_ENDPOINT_URL_SSM), then O(endpoint_url)
        (one emulator such as moto or LocalStack serves both services), then E(AWS_ENDPOINT_URL), then the region's.
      - Set it when Secrets Manager and Systems Manager are reached at different endpoints.
    type: str
"""

    # Module-only options (lookups never write).
    MODULES = r"""
options:
  ssm_type:
    description:
      - Type of an C(ssm://) parameter the module writes. Unset, a new parameter is a C(SecureString) and an existing
        one keeps its type.
      - A different type for an existing parameter is applied with the next write, or on its own by writing the
        current value again (a new version).
    type: str
    choices: [String, StringList, SecureString]
  ssm_tier:
    description:
      - Tier of an C(ssm://) parameter the module writes. Unset, a new parameter is C(Standard) (up to 4 KB) and an
        existing one keeps its tier. C(Advanced) allows 8 KB and policies; AWS does not move a parameter back to
        C(Standard). C(Intelligent-Tiering) lets AWS choose.
    type: str
    choices: [Standard, Advanced, Intelligent-Tiering]
  ssm_key_id:
    description:
      - KMS key (ID, ARN or alias) that encrypts a C(SecureString) parameter the module writes. Unset means the
        account's C(alias/aws/ssm) key (or, for an existing parameter, its key).
    type: str
  ssm_overwrite:
    description:
      - Whether a write may replace the value of an existing C(ssm://) parameter (SSM's C(Overwrite)). V(false)
        creates missing parameters only and fails with a conflict where one exists with another value.
    type: bool
    default: true
  description:
    description:
      - Description of an C(ssm://) parameter the module writes (C(PutParameter)). A change alone writes the current
        value again (a new version with the same value), as SSM has no other way to change it. Unset keeps the
        current one. The same option sets a Secrets Manager secret's description.
    type: str
"""

    # Sources of the SSM-only connection option for lookups.
    PLUGINS = r"""
options:
  ssm_endpoint_url:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_SSM_ENDPOINT_URL
    vars:
      - name: ansible_agentarea_secrets_ssm_endpoint_url
    ini:
      - section: agentarea_secrets_ssm
        key: endpoint_url
"""
