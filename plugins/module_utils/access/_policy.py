# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Least-privilege policies rendered from the catalog: who may read (and, for rotation, update) which secrets.

Input: catalog entries (``name``, ``store`` reference, ``consumers``, ``owner``, ``tags``) and identities::

    {name: api, secrets: [database, jwt-*], tags: [...], owners: [...], rotation: false,
     vault: {policy: ..., approle: ..., approle_mount: approle},
     k8s: {service_account: agentarea-api, namespace: agentarea} | {user: ...} | {group: ...},
     aws: {role: agentarea-api} | {user: ...}, policy: ...}

Output: a list of plain dicts (``system``, ``kind``, ``name``, ``namespace``, ``identity``, ``secrets``, ``body``,
``attach``), one per object to write: a Vault policy (HCL), a Kubernetes Role and RoleBinding per namespace, an
IAM managed policy. Rendering never touches the network and never sees a value.

Rotation slots follow ``_rotation_state.slot_ref`` (docs/rotation.md): ``<path>__pending``/``__previous`` beside a
Vault secret, ``<name>-pending``/``-previous`` beside a Kubernetes Secret; on AWS the ``AWSPENDING``/``AWSPREVIOUS``
versions of the secret itself, marked with tags.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import json
import re

from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import InvalidOption, SecretError
from ansible_collections.agentarea.secrets.plugins.module_utils.core._refs import parse_ref

SYSTEMS = ('vault', 'k8s', 'aws')
MANAGED_BY = 'agentarea.secrets'
LABEL_IDENTITY = 'secrets.agentarea.io/identity'

VAULT_READ = ('read',)
VAULT_ROTATE = ('create', 'read', 'update')
AWS_READ = ('secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue')
# the AWS rotation keeps its slots in the secret itself: AWSPENDING/AWSPREVIOUS versions, marked with tags
AWS_ROTATE = AWS_READ + ('secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage',
                         'secretsmanager:TagResource', 'secretsmanager:UntagResource')
K8S_READ = ('get',)
K8S_ROTATE = ('get', 'patch', 'update')


def _invalid(message):
    return InvalidOption(message, backend='access_policy')


def k8s_name(text):
    """A valid RBAC object name from an identity name (lowercase RFC 1123 subdomain)."""
    name = re.sub(r'[^a-z0-9.-]+', '-', str(text).lower()).strip('-.')
    if not name:
        raise _invalid("'%s' gives no valid Kubernetes name" % text)
    return name[:253]


def policy_name(prefix, identity, system):
    """The object name of an identity's policy: its own ``policy`` name, else ``<prefix><identity>``."""
    spec = identity.get(system) or {}
    name = spec.get('policy') or spec.get('role_name') or '%s%s' % (prefix or '', identity['name'])
    return k8s_name(name) if system == 'k8s' else name


# -- selection ------------------------------------------------------------------------------------------------
def normalise_catalog(catalog):
    """Catalog entries by name, with the store parsed. Entries without a store are skipped (nothing to grant)."""
    entries = []
    seen = set()
    for raw in catalog or []:
        if not isinstance(raw, dict) or not raw.get('name'):
            raise _invalid('every catalog entry needs a name')
        name = str(raw['name'])
        if name in seen:
            raise _invalid("catalog entry '%s' appears twice" % name)
        seen.add(name)
        store = key = None
        if raw.get('store'):
            try:
                store = parse_ref(raw['store'])
            except SecretError as exc:
                raise _invalid("catalog entry '%s': %s" % (name, exc))
            store, key = store.without_key(), store.key
        entries.append({'name': name, 'store': store, 'key': key, 'owner': raw.get('owner'),
                        'tags': [str(t) for t in raw.get('tags') or []],
                        'consumers': [c for c in raw.get('consumers') or [] if isinstance(c, dict)]})
    return entries


def select(entries, identity):
    """The catalog entries an identity may use: by name (glob patterns), tag or owner. A rotation identity
    without any selector gets every entry; a consumer without one is an error (it would get nothing)."""
    names, tags, owners = identity.get('secrets'), identity.get('tags'), identity.get('owners')
    if not (names or tags or owners):
        if identity.get('rotation'):
            return list(entries)
        raise _invalid("identity '%s' selects no secrets: give secrets, tags or owners" % identity['name'])
    chosen = []
    for entry in entries:
        if (any(fnmatch.fnmatchcase(entry['name'], p) for p in names or ())
                or set(tags or ()) & set(entry['tags'])
                or (entry['owner'] is not None and entry['owner'] in (owners or ()))):
            chosen.append(entry)
    unknown = [p for p in names or () if not any(fnmatch.fnmatchcase(e['name'], p) for e in entries)]
    if unknown:
        raise _invalid("identity '%s' names secrets that are not in the catalog: %s"
                       % (identity['name'], ', '.join(unknown)))
    return chosen


# -- Vault ----------------------------------------------------------------------------------------------------
def vault_paths(ref):
    """(data path, metadata path or None) of a ``vault://`` KV reference, as the Vault backend resolves it offline:
    the mount is ``?mount=`` or the first segment; ``?kv_version=1`` has no data/metadata split."""
    mount = (ref.param('mount') or ref.parts[0]).strip('/')
    if not ref.location.startswith(mount + '/'):
        raise _invalid("'%s': the location must start with the mount '%s'" % (ref, mount))
    path = ref.location[len(mount) + 1:]
    if ref.param('kv_version') == '1':
        return '%s/%s' % (mount, path), None
    return '%s/data/%s' % (mount, path), '%s/metadata/%s' % (mount, path)


def render_vault(identity, entries, prefix, rotation_slots=True):
    rules = {'auth/token/lookup-self': {'read'}}
    rotate = bool(identity.get('rotation'))
    for entry in entries:
        data, meta = vault_paths(entry['store'])
        rules.setdefault(data, set()).update(VAULT_ROTATE if rotate else VAULT_READ)
        if rotate:
            if meta:
                rules.setdefault(meta, set()).update(('read', 'update'))
            if rotation_slots:
                # slots are created once and then overwritten with check-and-set, never deleted
                rules.setdefault(data + '__*', set()).update(VAULT_ROTATE)
                if meta:
                    rules.setdefault(meta + '__*', set()).update(('read', 'update'))
    if rotate:
        rules['auth/token/renew-self'] = {'update'}
    lines = ['# Managed by agentarea.secrets (access_policy) for identity "%s"%s.'
             % (identity['name'], ', rotation' if rotate else ''),
             '# Secrets: %s' % (', '.join(sorted(e['name'] for e in entries)) or 'none')]
    for path in sorted(rules):
        caps = ', '.join('"%s"' % c for c in sorted(rules[path]))
        lines += ['', 'path "%s" {' % path, '  capabilities = [%s]' % caps, '}']
    spec = identity.get('vault') or {}
    attach = None
    if spec.get('approle'):
        attach = {'approle': spec['approle'], 'mount': spec.get('approle_mount') or 'approle'}
    return {'system': 'vault', 'kind': 'policy', 'name': policy_name(prefix, identity, 'vault'), 'namespace': None,
            'identity': identity['name'], 'secrets': sorted(e['name'] for e in entries),
            'body': '\n'.join(lines) + '\n', 'attach': attach}


# -- Kubernetes -----------------------------------------------------------------------------------------------
def k8s_objects(entry, default_namespace=None):
    """(namespace, secret name, is the store) of the Kubernetes Secrets that hold an entry's value."""
    found = []
    if entry['store'] is not None and entry['store'].scheme == 'k8s':
        ns, name = entry['store'].parts
        found.append((ns, name, True))
    for consumer in entry['consumers']:
        spec = consumer.get('k8s')
        if isinstance(spec, dict) and spec.get('secret'):
            ns = spec.get('namespace') or default_namespace
            if not ns:
                raise _invalid("catalog entry '%s': a k8s consumer without a namespace" % entry['name'])
            found.append((ns, spec['secret'], False))
    return found


def k8s_subject(identity):
    spec = identity.get('k8s') or {}
    if spec.get('service_account'):
        if not spec.get('namespace'):
            raise _invalid("identity '%s': k8s.service_account needs k8s.namespace" % identity['name'])
        return {'kind': 'ServiceAccount', 'name': spec['service_account'], 'namespace': spec['namespace']}
    for kind in ('user', 'group'):
        if spec.get(kind):
            return {'kind': kind.capitalize(), 'name': spec[kind], 'apiGroup': 'rbac.authorization.k8s.io'}
    raise _invalid("identity '%s': k8s needs service_account (with namespace), user or group" % identity['name'])


def _rule(names, verbs):
    return {'apiGroups': [''], 'resources': ['secrets'], 'resourceNames': sorted(names), 'verbs': sorted(verbs)}


def render_k8s(identity, entries, prefix, rotation_slots=True):
    """A Role (``resourceNames`` only) and a RoleBinding in every namespace that holds one of the secrets.
    Creating a Secret cannot be limited by name in RBAC, so a rotation Role that keeps slots gets ``create`` on
    secrets in that namespace (it still reads and updates only the names listed)."""
    subject = k8s_subject(identity)
    rotate = bool(identity.get('rotation'))
    default_ns = (identity.get('k8s') or {}).get('namespace')
    per_ns = {}
    for entry in entries:
        for ns, name, is_store in k8s_objects(entry, default_ns):
            slot = per_ns.setdefault(ns, {'names': set(), 'slots': set(), 'secrets': set()})
            slot['names'].add(name)
            slot['secrets'].add(entry['name'])
            if rotate and rotation_slots and is_store:
                # as _rotation_state.slot_ref names them: <name>-pending[-<key>]
                key = re.sub(r'[^a-z0-9-]+', '-', entry['key'].lower()).strip('-') or 'key' if entry['key'] else None
                slot['slots'].update('%s-%s%s' % (name, which, '-' + key if key else '')
                                     for which in ('pending', 'previous'))
    name = policy_name(prefix, identity, 'k8s')
    labels = {'app.kubernetes.io/managed-by': MANAGED_BY, LABEL_IDENTITY: k8s_name(identity['name'])}
    out = []
    for ns in sorted(per_ns):
        info = per_ns[ns]
        rules = [_rule(info['names'], K8S_ROTATE if rotate else K8S_READ)]
        if info['slots']:
            rules.append(_rule(info['slots'], K8S_ROTATE))
            rules.append({'apiGroups': [''], 'resources': ['secrets'], 'verbs': ['create']})
        meta = {'name': name, 'namespace': ns, 'labels': dict(labels)}
        role = {'apiVersion': 'rbac.authorization.k8s.io/v1', 'kind': 'Role', 'metadata': meta, 'rules': rules}
        binding = {'apiVersion': 'rbac.authorization.k8s.io/v1', 'kind': 'RoleBinding', 'metadata': dict(meta),
                   'subjects': [subject],
                   'roleRef': {'apiGroup': 'rbac.authorization.k8s.io', 'kind': 'Role', 'name': name}}
        common = {'system': 'k8s', 'name': name, 'namespace': ns, 'identity': identity['name'],
                  'secrets': sorted(info['secrets']), 'attach': None}
        out.append(dict(common, kind='Role', body=role))
        out.append(dict(common, kind='RoleBinding', body=binding))
    return out


# -- AWS ------------------------------------------------------------------------------------------------------
def aws_arn(ref, region, account, partition='aws', suffix=True):
    """The ARN pattern of an ``aws://`` secret: AWS appends ``-`` and six random characters to every secret's
    name, so ``-??????`` matches exactly that secret (``*`` would also match ``<name>-admin``)."""
    location = ref.location
    if location.startswith('arn:'):
        return location
    if not region or not account:
        raise _invalid("'%s': the region and the account id are needed for the ARN (set region and "
                       "aws_account_id, or give credentials so that they can be looked up)" % ref)
    return 'arn:%s:secretsmanager:%s:%s:secret:%s%s' % (
        partition, region, account, location, '-??????' if suffix else '')


def render_aws(identity, entries, prefix, region, account, partition='aws', path='/'):
    rotate = bool(identity.get('rotation'))
    arns = sorted(set(aws_arn(e['store'], region, account, partition) for e in entries))
    if arns:
        statements = [{'Sid': 'RotateSecrets' if rotate else 'ReadSecrets', 'Effect': 'Allow',
                       'Action': sorted(AWS_ROTATE if rotate else AWS_READ), 'Resource': arns}]
    else:
        # IAM refuses a policy without statements: this one matches no resource, so it grants nothing
        statements = [{'Sid': 'NoSecrets', 'Effect': 'Deny', 'Action': 'secretsmanager:GetSecretValue',
                       'NotResource': '*'}]
    spec = identity.get('aws') or {}
    attach = dict((k, spec[k]) for k in ('role', 'user') if spec.get(k)) or None
    return {'system': 'aws', 'kind': 'iam_policy', 'name': policy_name(prefix, identity, 'aws'), 'namespace': None,
            'identity': identity['name'], 'secrets': sorted(e['name'] for e in entries), 'path': path or '/',
            'body': {'Version': '2012-10-17', 'Statement': statements}, 'attach': attach}


# -- everything -----------------------------------------------------------------------------------------------
SCHEME_OF = {'vault': 'vault', 'aws': 'aws'}


def render(catalog, identities, systems=SYSTEMS, prefix='agentarea-secrets-', region=None, account=None,
           partition='aws', rotation_slots=True, iam_path='/'):
    """Every policy object for ``identities`` on ``systems``; an identity is rendered for a system only when it
    has a binding there (``vault:``, ``k8s:``, ``aws:``)."""
    entries = normalise_catalog(catalog)
    names = set()
    out = []
    for identity in identities or []:
        if not identity.get('name'):
            raise _invalid('every identity needs a name')
        if identity['name'] in names:
            raise _invalid("identity '%s' appears twice" % identity['name'])
        names.add(identity['name'])
        chosen = select(entries, identity)
        for system in systems:
            if identity.get(system) is None:
                continue
            if system == 'k8s':
                out.extend(render_k8s(identity, chosen, prefix, rotation_slots))
                continue
            mine = [e for e in chosen if e['store'] is not None and e['store'].scheme == SCHEME_OF[system]]
            if system == 'vault':
                out.append(render_vault(identity, mine, prefix, rotation_slots))
            else:
                out.append(render_aws(identity, mine, prefix, region, account, partition, iam_path))
    return out


def object_id(obj):
    """A stable, readable id: ``vault/policy/<name>``, ``k8s/Role/<ns>/<name>``, ``aws/iam_policy/<name>``."""
    parts = [obj['system'], obj['kind']] + ([obj['namespace']] if obj.get('namespace') else []) + [obj['name']]
    return '/'.join(parts)


def body_text(obj):
    """The object as reviewable text: HCL for Vault, sorted indented JSON for the others."""
    if isinstance(obj['body'], str):
        return obj['body']
    return json.dumps(obj['body'], indent=2, sort_keys=True) + '\n'
