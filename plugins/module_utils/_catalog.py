# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The secrets catalog: what secrets exist, where they live, who consumes them, how they rotate.

An entry (see DESIGN.md)::

    name: database
    owner: platform-team
    purpose: API and worker access to the main database
    store: vault://secret/agentarea/database
    kind: postgres                       # generator and rotation target kind
    generate: {length: 32}               # optional generation policy (defaults per kind)
    target: {...}                        # for the rotation engine
    rotation: {every: 30d, strategy: alternating, overlap: 1h}
    consumers:
      - k8s: {namespace: agentarea, secret: agentarea-secrets, key: database-url, template: "postgresql://{username}:{password:url}@db:5432/agentarea"}
        restart: [deployment/agentarea-api]
      - docker: {secret: db_password, services: [agentarea-api], key: password}
      - env_file: {path: /srv/agentarea/.env, key: DATABASE_URL, template: "..."}
      - file: {path: /srv/agentarea/secrets/db_password.txt, key: password}
      - env_file: {path: /srv/app/.env, key: DATABASE_PASSWORD, field: password, owner: app}
        hosts: app                       # on the managed hosts this Ansible pattern matches, not the controller
    tags: [prod, database]

Templates are filled by us (``{field}``, ``{field:url}`` percent-encodes), never by Jinja, so a value cannot
inject template code.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import string

try:
    from urllib.parse import quote
except ImportError:  # pragma: no cover
    from urllib import quote  # type: ignore

from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import InvalidReference
from ansible_collections.agentarea.secrets.plugins.module_utils.core._refs import parse_ref

KINDS = ('static', 'postgres', 'mysql', 'redis', 'jwt', 'api_key', 'tls', 'fernet', 'ssh')
#: kinds the rotation engine knows; the others rotate as ``static`` with their own generation policy
ROTATE_KINDS = ('static', 'postgres', 'mysql', 'redis', 'jwt', 'api_key', 'tls')
STRATEGIES = ('single', 'overlap', 'alternating')
CONSUMER_TYPES = ('k8s', 'docker', 'env_file', 'file', 'external_secret')
RESTART_KINDS = ('deployment', 'statefulset', 'daemonset', 'docker_service')
#: consumers that may live on managed hosts (``hosts: <pattern>``), written there by secret_file over the connection
HOST_CONSUMER_TYPES = ('env_file', 'file')
#: options of a consumer on hosts that only secret_file on the host applies (the controller's distribute does not)
HOST_ONLY_OPTIONS = ('owner', 'group', 'follow')
_DURATION = re.compile(r'^\s*(\d+)\s*([smhdw])\s*$')
_UNITS = {'s': 1, 'm': 60, 'h': 3600, 'd': 86400, 'w': 604800}
_NAME = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]*$')

#: default generation policy per kind (the value's shape); a `generate:` in the entry wins
DEFAULT_POLICY = {
    'static': {'length': 48, 'symbols': False},
    'postgres': {'length': 32, 'safe_for': ['url', 'shell']},
    'mysql': {'length': 32, 'safe_for': ['url', 'shell']},
    'redis': {'length': 40, 'safe_for': ['url', 'shell']},
    'jwt': {'kind': 'base64url', 'bits': 512},
    'api_key': {'length': 40, 'symbols': False},
    'fernet': {'kind': 'fernet'},
    'tls': {'kind': 'tls', 'common_name': 'localhost'},
    'ssh': {'kind': 'ssh'},
}


def parse_duration(text):
    """``30d``, ``12h``, ``2w``, ``90m``, ``45s`` or a number of seconds -> seconds (int)."""
    if isinstance(text, (int, float)):
        return int(text)
    match = _DURATION.match(str(text or ''))
    if not match:
        raise ValueError("'%s' is not a duration (write 30d, 12h, 2w, 90m or 45s)" % (text,))
    return int(match.group(1)) * _UNITS[match.group(2)]


class _TemplateFormatter(string.Formatter):
    def format_field(self, value, format_spec):
        if format_spec == 'url':
            return quote(str(value), safe='')
        if format_spec:
            raise ValueError("unknown template format ':%s' (only ':url')" % format_spec)
        return str(value)

    def get_value(self, key, args, kwargs):
        if key not in kwargs:
            raise KeyError(key)
        return kwargs[key]


def render_template(template, fields):
    """Fill ``{field}`` and ``{field:url}`` from ``fields`` (a dict of the secret's fields). A missing field
    raises KeyError with its name only."""
    return _TemplateFormatter().format(template, **fields)


def consumer_type(consumer):
    types = [t for t in CONSUMER_TYPES if t in consumer]
    return types[0] if len(types) == 1 else None


def validate_entry(entry, index=None):
    """Problems of one entry, as value-free strings naming the entry and the field."""
    label = entry.get('name') if isinstance(entry, dict) and entry.get('name') else '#%s' % index
    problems = []

    def problem(msg):
        problems.append("catalog entry '%s': %s" % (label, msg))

    if not isinstance(entry, dict):
        problem('must be a mapping')
        return problems
    if not entry.get('name') or not _NAME.match(str(entry['name'])):
        problem("'name' is required: letters, digits, '.', '_' and '-'")
    if not entry.get('store'):
        problem("'store' (the reference of the source of truth) is required")
    else:
        try:
            parse_ref(entry['store'])
        except InvalidReference as exc:
            problem("'store' %s" % exc)
    kind = entry.get('kind', 'static')
    if kind not in KINDS:
        problem("'kind' must be one of %s, got '%s'" % (', '.join(KINDS), kind))
    rotation = entry.get('rotation') or {}
    if not isinstance(rotation, dict):
        problem("'rotation' must be a mapping")
        rotation = {}
    for field in ('every', 'overlap'):
        if rotation.get(field) is not None:
            try:
                parse_duration(rotation[field])
            except ValueError as exc:
                problem('rotation.%s: %s' % (field, exc))
    if rotation.get('strategy', 'single') not in STRATEGIES:
        problem("rotation.strategy must be one of %s" % ', '.join(STRATEGIES))
    for i, consumer in enumerate(entry.get('consumers') or []):
        if not isinstance(consumer, dict) or consumer_type(consumer) is None:
            problem('consumers[%d] must name exactly one of %s' % (i, ', '.join(CONSUMER_TYPES)))
            continue
        for restart in consumer.get('restart') or []:
            kind_name = str(restart).split('/', 1)
            if len(kind_name) != 2 or kind_name[0] not in RESTART_KINDS:
                problem("consumers[%d].restart '%s' must be KIND/NAME with KIND in %s"
                        % (i, restart, ', '.join(RESTART_KINDS)))
        problems.extend("catalog entry '%s': consumers[%d].%s" % (label, i, msg) for msg in host_problems(consumer))
    tags = entry.get('tags') or []
    if not isinstance(tags, list):
        problem("'tags' must be a list")
    return problems


def host_patterns(consumer):
    """The Ansible host patterns of a consumer's ``hosts`` (a list; empty: the consumer is on the controller)."""
    hosts = consumer.get('hosts') if isinstance(consumer, dict) else None
    if hosts is None:
        return []
    return [hosts] if isinstance(hosts, str) else list(hosts)


def host_problems(consumer):
    """What is wrong with a consumer's ``hosts`` and its host-only options (value-free, without the prefix)."""
    ctype = consumer_type(consumer)
    spec = consumer.get(ctype) if ctype else None
    spec = spec if isinstance(spec, dict) else {}
    host_only = [o for o in HOST_ONLY_OPTIONS if spec.get(o) is not None]
    if 'hosts' not in consumer:
        return ["%s.%s is applied only by the hosts that write the consumer: add 'hosts' (an Ansible host pattern)"
                % (ctype, host_only[0])] if host_only else []
    if ctype not in HOST_CONSUMER_TYPES:
        return ["hosts: only %s consumers can live on managed hosts, not %s"
                % (' and '.join(HOST_CONSUMER_TYPES), ctype)]
    hosts = consumer['hosts']
    items = [hosts] if isinstance(hosts, str) else hosts
    if not isinstance(items, list) or not items or not all(isinstance(h, str) and h.strip() for h in items):
        return ['hosts must be an Ansible host pattern (a string such as "app" or "web:&prod") or a list of them']
    if consumer.get('restart'):
        return ['restart: the workloads restarted after a write are Kubernetes and Docker ones, on the '
                'controller; a consumer on hosts cannot name them (restart services on the hosts in your play)']
    return []


def validate_catalog(entries):
    problems = []
    if not isinstance(entries, list):
        return ['the catalog must be a list of entries']
    seen = set()
    for index, entry in enumerate(entries):
        problems.extend(validate_entry(entry, index))
        name = entry.get('name') if isinstance(entry, dict) else None
        if name in seen:
            problems.append("catalog entry '%s': the name is used twice" % name)
        seen.add(name)
    return problems


def select(entries, names=None, tags=None, select_all=False):
    """Entries in scope: named ones, ones carrying any of the tags, or all. Unknown names raise ValueError."""
    names = [n for n in (names or []) if n]
    tags = [t for t in (tags or []) if t]
    if select_all or (not names and not tags):
        return list(entries)
    known = set(e.get('name') for e in entries)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError('not in the catalog: %s' % ', '.join(unknown))
    return [e for e in entries if e.get('name') in names or set(e.get('tags') or []) & set(tags)]


def policy_for(entry):
    return entry.get('generate') or DEFAULT_POLICY.get(entry.get('kind', 'static'), DEFAULT_POLICY['static'])


def compliance(entry, info, now_epoch=None):
    """Audit findings of one entry, from ``info`` (what secret_info knows: exists, age_days)."""
    findings = []
    if not entry.get('owner'):
        findings.append({'check': 'owner', 'severity': 'violation', 'detail': 'no owner'})
    if not entry.get('purpose'):
        findings.append({'check': 'purpose', 'severity': 'violation', 'detail': 'no purpose'})
    if info is not None:
        if not info.get('exists'):
            detail = {'deleted': 'deleted or disabled in its store', 'denied': 'access to it is denied',
                      'error': 'its store could not be asked'}.get(info.get('state'), 'missing from its store')
            findings.append({'check': 'exists', 'severity': 'violation', 'detail': detail})
        else:
            every = (entry.get('rotation') or {}).get('every')
            age = info.get('age_days')
            if age is None:
                findings.append({'check': 'age', 'severity': 'warning', 'detail': 'no known age'})
            elif every is not None and age * 86400 > parse_duration(every):
                findings.append({'check': 'age', 'severity': 'violation',
                                 'detail': 'older than rotation.every (%s): %.1f days' % (every, age)})
    return findings


def is_due(entry, age_days):
    every = (entry.get('rotation') or {}).get('every')
    if every is None or age_days is None:
        return False
    return age_days * 86400 >= parse_duration(every)
