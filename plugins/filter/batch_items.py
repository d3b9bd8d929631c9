# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The items of one batched module call (rotate's ``rotations``, secret's ``secrets``, distribute's
``distributions``) from catalog_info's entries and the catalog entries they describe, joined by name."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError


def _entry(by_name, name):
    try:
        return by_name[name] or {}
    except (KeyError, TypeError):
        raise AnsibleFilterError('agentarea.secrets.batch_items: %s is not in the catalog' % name)


def _consumers(entry, without):
    return [c for c in entry.get('consumers') or [] if not (without and isinstance(c, dict) and without in c)]


def batch_items(entries, by_name, module, strategy=None, without=None, overlap=True):
    """One item per catalog_info entry for ``module`` (``rotate``, ``secret`` or ``distribute``)."""
    items = []
    for info in entries or []:
        name = info.get('name')
        entry = _entry(by_name, name)
        if module == 'rotate':
            item = {'name': name, 'store': info.get('store'), 'kind': info.get('rotate_kind'),
                    'strategy': strategy or info.get('strategy') or 'single', 'target': entry.get('target') or {},
                    'generate': info.get('policy')}
            if overlap and info.get('overlap'):
                item['overlap'] = str(info['overlap'])
        elif module == 'secret':
            item = {'name': name, 'ref': info.get('store'), 'generate': info.get('policy')}
        elif module == 'distribute':
            consumers = _consumers(entry, without)
            if not consumers:
                continue  # nothing to push for this entry (its consumers live on hosts, or it has none)
            item = {'name': name, 'store': info.get('store'), 'consumers': consumers}
        else:
            raise AnsibleFilterError('agentarea.secrets.batch_items: unknown module %s' % module)
        items.append(item)
    return items


class FilterModule:
    def filters(self):
        return {'batch_items': batch_items}
