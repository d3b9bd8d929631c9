# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Push a store's value to the consumers a catalog entry names, and report drift by fingerprint.

The value goes store -> this module -> consumer without passing through Ansible variables. For each consumer the
value is the store's value, one ``field`` of it, or a ``template`` filled by us (``{field}``, ``{field:url}``).
A consumer is ``in_sync`` when what it holds has the same keyed fingerprint, ``drifted`` when it differs,
``missing`` when it holds nothing; after a write it is ``updated``. Changed consumers name the workloads to
restart (``restart: [deployment/agentarea-api]``); the caller restarts them with agentarea.secrets.rollout.
A consumer with ``hosts`` lives on managed hosts: the roles write it there with secret_file, so it is left alone
here (state ``on_hosts``) instead of being written to that path on the controller.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.agentarea.secrets.plugins.module_utils import _catalog
from ansible_collections.agentarea.secrets.plugins.module_utils.core._backend import encode_value, observe
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import InvalidOption, SecretError
from ansible_collections.agentarea.secrets.plugins.module_utils.core._filemode import parse_mode
from ansible_collections.agentarea.secrets.plugins.module_utils.core._generate import tls_fields
from ansible_collections.agentarea.secrets.plugins.module_utils.core._refs import SecretRef
from ansible_collections.agentarea.secrets.plugins.module_utils.backends._files import strip_newline


def fields_of(store_value):
    """The fields a consumer can name. A JWT key set (``{active, keys}``) also offers its active key's fields as
    ``active_kid``, ``active_alg``, ``active_k`` (an HMAC secret), ``active_private_key``, ``active_public_key``;
    a TLS certificate (``{certificate, private_key, ca_chain}``) offers ``tls.crt`` (the certificate followed by
    its chain, what a server presents) and ``tls.key``, the keys of a Kubernetes TLS Secret."""
    if not isinstance(store_value, dict):
        return {'value': store_value}
    fields = dict(store_value)
    for name, val in (tls_fields(store_value) or {}).items():
        fields.setdefault(name, val)
    keys = store_value.get('keys')
    if 'active' in store_value and isinstance(keys, list):
        active = [k for k in keys if isinstance(k, dict) and k.get('kid') == store_value['active']]
        for name, val in (active[0] if active else {}).items():
            if name in ('kid', 'alg', 'k', 'private_key', 'public_key'):
                fields['active_' + name] = val
    return fields


def consumer_value(store_value, consumer, entry_name, index):
    """What consumer ``index`` gets: a template, a field, or the value itself (a map only where the consumer
    takes maps: a Kubernetes Secret without ``key``)."""
    spec = consumer[_catalog.consumer_type(consumer)] or {}
    fields = fields_of(store_value)
    where = "catalog entry '%s' consumers[%d]" % (entry_name, index)
    if spec.get('template'):
        try:
            return _catalog.render_template(spec['template'], fields)
        except KeyError as exc:
            raise InvalidOption('%s: the template names {%s}, which the secret does not have (fields: %s)'
                                % (where, exc.args[0], ', '.join(sorted(fields))))
        except ValueError as exc:
            raise InvalidOption('%s: %s' % (where, exc))
    if spec.get('field'):
        if spec['field'] not in fields:
            raise InvalidOption("%s: the secret has no field '%s' (fields: %s)"
                                % (where, spec['field'], ', '.join(sorted(fields))))
        return fields[spec['field']]
    if isinstance(store_value, dict) and not (_catalog.consumer_type(consumer) == 'k8s' and not spec.get('key')):
        raise InvalidOption('%s: the secret is a map (fields: %s); name a field or a template'
                            % (where, ', '.join(sorted(store_value))))
    return store_value


def _ref_for(ctype, spec, where):
    need = {'k8s': ('namespace', 'secret'), 'env_file': ('path', 'key'), 'file': ('path',), 'docker': ('secret',),
            'external_secret': ('namespace', 'name')}[ctype]
    missing = [n for n in need if not spec.get(n)]
    if missing:
        raise InvalidOption('%s: %s consumer needs %s' % (where, ctype, ', '.join(missing)))
    if ctype == 'k8s':
        return SecretRef('k8s', '%s/%s' % (spec['namespace'], spec['secret']), spec.get('key'))
    if ctype == 'env_file':
        return SecretRef('dotenv', spec['path'], spec['key'])
    if ctype == 'file':
        return SecretRef('file', spec['path'])
    if ctype == 'docker':
        return SecretRef('docker', spec['secret'])
    return None


def describe_target(ctype, spec):
    """A value-free label of the consumer for reports."""
    if ctype == 'k8s':
        return 'k8s %s/%s%s' % (spec.get('namespace'), spec.get('secret'), '#' + spec['key'] if spec.get('key') else '')
    if ctype == 'env_file':
        return 'env_file %s#%s' % (spec.get('path'), spec.get('key'))
    if ctype == 'file':
        return 'file %s' % spec.get('path')
    if ctype == 'docker':
        return 'docker secret %s (services: %s)' % (spec.get('secret'), ', '.join(spec.get('services') or []) or '-')
    return 'external_secret %s/%s' % (spec.get('namespace'), spec.get('name'))


def read_back(ctype, value):
    """What a consumer gives back when read after ``value`` was written to it: a secret file loses one trailing
    newline (the file backend's rule for files written by ``echo``), so a value that ends in one - a PEM - would
    otherwise never be in sync and be rewritten on every run."""
    if ctype == 'file' and isinstance(value, str):
        return strip_newline(value)
    return value


def restarts_of(consumer, spec):
    out = []
    for item in consumer.get('restart') or []:
        kind, name = str(item).split('/', 1)
        out.append({'kind': kind, 'name': name, 'namespace': spec.get('namespace') if kind != 'docker_service'
                    else None})
    return out


class Distributor:
    """``backend(scheme)`` gives a configured backend; ``docker_rotation(backend, name, value, services)`` runs the
    swarm secret rotation (re-point services, wait, prune); ``force_sync(spec)`` annotates an ExternalSecret
    (``namespace``, ``name``, ``api_version``). Injected so that the module wires the real ones, tests fakes."""

    def __init__(self, backend, fp, docker_rotation=None, force_sync=None, check_mode=False):
        self.backend, self.fp = backend, fp
        self.docker_rotation, self.force_sync = docker_rotation, force_sync
        self.check_mode = check_mode

    def run(self, entry_name, store_value, consumers, sync_external=False):
        results, restarts = [], []
        for index, consumer in enumerate(consumers or []):
            ctype = _catalog.consumer_type(consumer)
            where = "catalog entry '%s' consumers[%d]" % (entry_name, index)
            if ctype is None:
                raise InvalidOption('%s must name exactly one of %s' % (where, ', '.join(_catalog.CONSUMER_TYPES)))
            spec = consumer[ctype] or {}
            item = {'type': ctype, 'target': describe_target(ctype, spec), 'changed': False}
            if _catalog.host_patterns(consumer):
                item.update(state='on_hosts', hosts=_catalog.host_patterns(consumer))
                results.append(item)
                continue
            if ctype == 'external_secret':
                _ref_for(ctype, spec, where)
                item['state'] = 'synced' if sync_external else 'external'
                if sync_external:
                    item['changed'] = True
                    if not self.check_mode:
                        self.force_sync(spec)
                results.append(item)
                continue
            value = consumer_value(store_value, consumer, entry_name, index)
            ref = _ref_for(ctype, spec, where)
            # no mode: the file keeps its own (a new one is 0600); checked before anything is compared or written
            file_mode = parse_mode(spec.get('mode'), what='%s: mode' % where,
                                   allow_world=spec.get('allow_world_access')) if ctype == 'file' else None
            backend = self.backend(ref.scheme)
            wanted = self.fp(value)
            have = observe(backend, ref, self.fp).fingerprint
            in_sync = have is not None and have in (wanted, self.fp(read_back(ctype, value)))
            item['fingerprint'] = wanted
            item['state'] = 'in_sync' if in_sync else ('missing' if have is None else 'drifted')
            services_move = ctype == 'docker' and spec.get('services')
            if not in_sync or services_move:
                if ctype == 'docker':
                    outcome = self.docker_rotation(backend, spec['secret'], encode_value(value),
                                                   spec.get('services') or [])
                    item['changed'] = bool(outcome.get('changed'))
                    item['services'] = outcome.get('services')
                else:
                    item['changed'] = True
                    if not self.check_mode:
                        try:
                            if ctype == 'file':
                                backend.write(ref, value, mode=file_mode)
                            else:
                                backend.write(ref, value)
                        except SecretError as exc:
                            # name the entry and the consumer (the consumers before it were written)
                            exc.cause = '%s (%s): %s' % (where, item['target'], exc.cause)
                            raise
                if item['changed'] and not self.check_mode:
                    item['was'] = item['state']
                    item['state'] = 'updated'
            if item['changed']:
                restarts.extend(r for r in restarts_of(consumer, spec) if r not in restarts)
            results.append(item)
        return results, restarts
