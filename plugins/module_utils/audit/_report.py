# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secret access monitoring from the collection's own audit trail (``_audit.py`` JSON lines): reads per secret, per
identity (actor) and per day, and unusual readers.

The window ``[since, until)`` is split in a *baseline* ``[since, recent_since)`` and a *recent* part
``[recent_since, until)``. A recent read is unusual when its actor never appears in the baseline (``new_actor``),
when a known actor reads a secret it did not read in the baseline (``new_reader``), when it happens outside the
usual hours (``off_hours``, UTC), or when it was denied (``denied``). Events are value-free; so is the report
(fingerprints are left out too).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json

from ansible_collections.agentarea.secrets.plugins.module_utils.core._backend import iso, to_datetime
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import InvalidOption, SecretError
from ansible_collections.agentarea.secrets.plugins.module_utils.core._refs import SecretRef, parse_ref


def secret_key(ref):
    """The secret an event is about: scheme and location (``#key`` and ``?version`` dropped)."""
    try:
        parsed = parse_ref(ref)
    except SecretError:
        return str(ref)
    return str(SecretRef(parsed.scheme, parsed.location))


def catalog_names(catalog):
    names = {}
    for entry in catalog or []:
        if isinstance(entry, dict) and entry.get('store') and entry.get('name'):
            names[secret_key(entry['store'])] = str(entry['name'])
    return names


def load(path):
    """Events from a JSON-lines file; lines that are not JSON objects are counted, not fatal."""
    events, bad = [], 0
    with open(path, 'r') as handle:
        for line in handle:
            line = line.strip()
            if not line:
                continue
            try:
                record = json.loads(line)
            except ValueError:
                bad += 1
                continue
            if isinstance(record, dict):
                events.append(record)
            else:
                bad += 1
    return events, bad


def in_hours(hour, usual):
    if not usual:
        return True
    start, end = usual
    return start <= hour < end if start <= end else (hour >= start or hour < end)


def summarise(events, until=None, days=30, recent_days=1, usual_hours=(7, 19), actions=('read',), catalog=None):
    until = to_datetime(until) if until else datetime.datetime.now(datetime.timezone.utc)
    if until is None:
        raise InvalidOption('until is not a date and time', backend='audit_report')
    if recent_days > days:
        raise InvalidOption('recent_days must not exceed days', backend='audit_report')
    if usual_hours and (len(usual_hours) != 2 or not all(0 <= h <= 24 for h in usual_hours)):
        raise InvalidOption('usual_hours is [start, end), hours 0-24 UTC', backend='audit_report')
    since = until - datetime.timedelta(days=days)
    recent_since = until - datetime.timedelta(days=recent_days)
    names = catalog_names(catalog)
    per_secret, per_actor, per_day, daily = {}, {}, {}, {}
    baseline_actors, baseline_pairs = set(), set()
    recent = []
    for record in events:
        when = to_datetime(record.get('time'))
        if when is None or not since <= when < until or record.get('action') not in actions or not record.get('ref'):
            continue
        secret = names.get(secret_key(record['ref']), secret_key(record['ref']))
        actor = str(record.get('actor') or 'unknown')
        ok = record.get('outcome') == 'ok'
        day = when.date().isoformat()
        s = per_secret.setdefault(secret, {'secret': secret, 'reads': 0, 'denied': 0, 'failed': 0, 'actors': set(),
                                           'last_read': None})
        a = per_actor.setdefault(actor, {'actor': actor, 'reads': 0, 'denied': 0, 'secrets': set(),
                                         'first_seen': iso(when), 'last_seen': None})
        d = per_day.setdefault(day, {'day': day, 'reads': 0, 'denied': 0, 'secrets': set(), 'actors': set()})
        outcome = 'reads' if ok else 'denied' if record.get('outcome') == 'denied' else 'failed'
        for bucket in (s, a, d):
            if outcome in bucket:
                bucket[outcome] += 1
        s['actors'].add(actor)
        a['secrets'].add(secret)
        d['secrets'].add(secret)
        d['actors'].add(actor)
        a['first_seen'] = min(a['first_seen'], iso(when))
        a['last_seen'] = max(a['last_seen'] or '', iso(when))
        if ok:
            s['last_read'] = max(s['last_read'] or '', iso(when))
        cell = daily.setdefault((day, secret, actor), {'day': day, 'secret': secret, 'actor': actor, 'reads': 0,
                                                       'denied': 0})
        if outcome in cell:
            cell[outcome] += 1
        if when < recent_since:
            baseline_actors.add(actor)
            baseline_pairs.add((actor, secret))
        else:
            recent.append((when, actor, secret, record))
    unusual = []
    for when, actor, secret, record in sorted(recent, key=lambda r: r[0]):
        reasons = []
        if actor not in baseline_actors:
            reasons.append('new_actor')
        elif (actor, secret) not in baseline_pairs:
            reasons.append('new_reader')
        if not in_hours(when.hour, usual_hours):
            reasons.append('off_hours')
        if record.get('outcome') == 'denied':
            reasons.append('denied')
        if reasons:
            item = {'time': iso(when), 'actor': actor, 'secret': secret, 'outcome': record.get('outcome'),
                    'reasons': reasons}
            if record.get('awx_job'):
                item['awx_job'] = record['awx_job']
            unusual.append(item)

    def listed(table, key):
        out = []
        for row in sorted(table.values(), key=lambda r: r[key]):
            out.append(dict((k, sorted(v) if isinstance(v, set) else v) for k, v in row.items()))
        return out

    return {
        'window': {'since': iso(since), 'until': iso(until), 'recent_since': iso(recent_since),
                   'usual_hours_utc': list(usual_hours) if usual_hours else None},
        'reads': sum(r['reads'] for r in per_secret.values()),
        'denied': sum(r['denied'] for r in per_secret.values()),
        'per_secret': listed(per_secret, 'secret'),
        'per_actor': listed(per_actor, 'actor'),
        'per_day': listed(per_day, 'day'),
        'daily': sorted(daily.values(), key=lambda r: (r['day'], r['secret'], r['actor'])),
        'unusual': unusual,
    }
