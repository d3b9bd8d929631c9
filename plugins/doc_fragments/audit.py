# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment:
    # The audit log option of the modules that take any reference.
    DOCUMENTATION = r"""
options:
  audit_log:
    description:
      - Append a value-free audit event (time, actor, AWX job, action, backend, reference, version, fingerprint,
        outcome) for every change to this file, as JSON lines, created 0600.
      - Defaults to E(AGENTAREA_SECRETS_AUDIT_LOG); no events without either. The roles turn it on.
    type: path
"""
