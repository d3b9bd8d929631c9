# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.agentarea.secrets.plugins.module_utils.core._fingerprint import fingerprint as _fingerprint


def fingerprint(value, key=None):
    """Keyed HMAC-SHA256 fingerprint of a value (see the filter's documentation)."""
    try:
        return _fingerprint(value, key)
    except (IOError, OSError) as exc:
        raise AnsibleFilterError('agentarea.secrets.fingerprint: cannot read or create the fingerprint key: %s'
                                 % exc.strerror) from exc


class FilterModule:
    def filters(self):
        return {'fingerprint': fingerprint}
