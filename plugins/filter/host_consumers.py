# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Consumers on managed hosts: which catalog consumers (``hosts: <pattern>``) a host writes, the value each one
gets, and a value-free summary of what the hosts did. Used by the provision, sync, rotate and emergency roles."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader

from ansible_collections.agentarea.secrets.plugins.module_utils import _catalog
from ansible_collections.agentarea.secrets.plugins.module_utils.distribution import _distribute
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import SecretError

#: secret_file options a consumer's spec may set
_FILE_OPTIONS = ('owner', 'group', 'mode', 'allow_world_access', 'follow')


def _inventory(groups):
    """An inventory of host and group names only, as ansible.builtin.inventory_hostnames builds it, so that a
    pattern (``app``, ``web:&prod``, ``!db*``, ``~regex``) means what it means in a play."""
    manager = InventoryManager(DataLoader(), parse=False)
    for group, hosts in (groups or {}).items():
        manager.add_group(group)
        for host in hosts or []:
            manager.add_host(host, group=group)
    return manager


def host_consumers(entries, groups, host=None, play_hosts=None):
    """The ``env_file`` and ``file`` consumers with ``hosts`` of the catalog ``entries``, one flat item each
    (no value, no other field of the entry): those whose pattern matches ``host`` when it is given, else all of
    them with ``matched`` (inventory hosts the pattern names) and, with ``play_hosts``, ``in_play`` (those of them
    in the play)."""
    if not isinstance(entries, list):
        raise AnsibleFilterError('agentarea.secrets.host_consumers: the catalog entries must be a list')
    manager = _inventory(groups)
    matches = {}
    out = []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        for index, consumer in enumerate(entry.get('consumers') or []):
            patterns = _catalog.host_patterns(consumer) if isinstance(consumer, dict) else []
            if not patterns:
                continue
            problems = _catalog.host_problems(consumer)
            if problems:
                raise AnsibleFilterError("agentarea.secrets.host_consumers: catalog entry '%s' consumers[%d].%s"
                                         % (entry.get('name'), index, problems[0]))
            key = tuple(patterns)
            if key not in matches:
                matches[key] = [h.name for h in manager.get_hosts(pattern=list(patterns))]
            if host is not None and host not in matches[key]:
                continue
            ctype = _catalog.consumer_type(consumer)
            spec = consumer[ctype] or {}
            if not spec.get('path') or (ctype == 'env_file' and not spec.get('key')):
                raise AnsibleFilterError("agentarea.secrets.host_consumers: catalog entry '%s' consumers[%d]: %s "
                                         "consumer needs %s" % (entry.get('name'), index, ctype,
                                                                'path and key' if ctype == 'env_file' else 'path'))
            target = _distribute.describe_target(ctype, spec)
            item = {'name': entry.get('name'), 'store': entry.get('store'), 'index': index, 'type': ctype,
                    'path': spec['path'], 'key': spec.get('key') if ctype == 'env_file' else None,
                    'hosts': ','.join(patterns), 'target': target,
                    'label': '%s: %s' % (entry.get('name'), target), 'consumer': consumer,
                    # consumers with the same one get the same value (for checks that need one of each)
                    'value_of': '%s#%s#%s' % (entry.get('store'), spec.get('field') or '', spec.get('template') or '')}
            for option in _FILE_OPTIONS:
                if spec.get(option) is not None:
                    item[option] = spec[option]
            if host is None:
                item['matched'] = list(matches[key])
                if play_hosts is not None:
                    item['in_play'] = [h for h in matches[key] if h in play_hosts]
            out.append(item)
    return out


def consumer_value(store_value, item):
    """What the consumer ``item`` (from host_consumers) holds: the store's value, one ``field`` of it, or its
    ``template`` filled by us (never by Jinja). Errors name the entry, the consumer and the fields, never a value."""
    try:
        return _distribute.consumer_value(store_value, item['consumer'], item['name'], item['index'])
    except SecretError as exc:
        raise AnsibleFilterError('agentarea.secrets.consumer_value: %s' % exc)


def host_consumer_summary(hosts, hostvars, var):
    """Value-free summary of the registered secret_file loop ``var`` of every host in ``hosts``."""
    summary = {'consumers': 0, 'in_sync': 0, 'changed': 0, 'failed': 0, 'hosts': 0, 'changed_on': [],
               'failed_on': [], 'entries_changed': []}
    for host in hosts or []:
        registered = (hostvars[host].get(var) if host in hostvars else None) or {}
        results = registered.get('results') or []
        if registered.get('unreachable') and not results:
            summary['failed'] += 1
            summary['failed_on'].append('%s: unreachable' % host)
        if results:
            summary['hosts'] += 1
        for result in results:
            item = result.get('item') or {}
            label = '%s: %s' % (host, item.get('label'))
            summary['consumers'] += 1
            if result.get('msg') or result.get('failed') or result.get('unreachable'):
                summary['failed'] += 1
                summary['failed_on'].append('%s: %s' % (label, result.get('msg') or 'failed'))
            elif result.get('changed'):
                summary['changed'] += 1
                summary['changed_on'].append(label)
                if item.get('name') not in summary['entries_changed']:
                    summary['entries_changed'].append(item.get('name'))
            else:
                summary['in_sync'] += 1
    return summary


class FilterModule:
    def filters(self):
        return {'host_consumers': host_consumers, 'consumer_value': consumer_value,
                'host_consumer_summary': host_consumer_summary}
