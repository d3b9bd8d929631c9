# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs agentarea.secrets.secret_list with the connection options the task leaves unset taken from the
``ansible_agentarea_secrets_*`` variables (see plugins/plugin_utils/_action.py and docs/options.md)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.agentarea.secrets.plugins.plugin_utils._action import SecretActionBase


class ActionModule(SecretActionBase):
    pass
