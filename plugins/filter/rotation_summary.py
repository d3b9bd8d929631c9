# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def rotation_summary(result, stores=None):
    """One value-free row from one agentarea.secrets.rotate result: an item of a batched call's ``results`` (named by
    its ``name``) or of a registered loop (named by its loop ``item``)."""
    item = result.get('item') or {}
    # a loop result names its item; an async_status result names the started job, whose item is the entry
    while isinstance(item, dict) and 'name' not in item and isinstance(item.get('item'), dict):
        item = item['item']
    name = result.get('name') or (item.get('name') if isinstance(item, dict) else item)
    old = result.get('old') or {}
    new = result.get('new') or {}
    seconds = round(sum(v for v in (result.get('timings') or {}).values() if isinstance(v, (int, float))), 3)
    row = {
        'name': name,
        'action': result.get('action') or ('failed' if result.get('failed') else 'skipped'),
        'phase': result.get('phase'),
        'old_fingerprint': old.get('fingerprint'),
        'new_fingerprint': new.get('fingerprint'),
        'old_version': old.get('version'),
        'new_version': new.get('version'),
        'rolled_back': bool((result.get('rolled_back') or {}).get('performed')),
        'seconds': seconds,
        'error': result.get('msg') if result.get('failed') else None,
    }
    old_fp, new_fp = (row['old_fingerprint'] or '-')[-8:], (row['new_fingerprint'] or '-')[-8:]
    cells = (row['name'], row['action'], row['phase'] or '-', old_fp, new_fp, seconds)
    row['line'] = '%s | %s | %s | %s -> %s | %s' % cells
    if stores is not None:
        row['store'] = stores.get(name) if isinstance(stores, dict) else None
    return row


class FilterModule:
    def filters(self):
        return {'rotation_summary': rotation_summary}
