#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: distribute
short_description: Push a secret from its store to every consumer, and report drift by fingerprint
version_added: 0.1.0
author:
  - agentarea.secrets contributors (@agentarea)
description:
  - Reads the secret at O(store) and writes it to each of O(consumers) - keys of Kubernetes Secrets, Docker swarm
    secrets (a new version, services re-pointed and waited for, old versions pruned once unused), entries of
    C(.env) files, secret files - and can make External Secrets Operator re-sync.
  - The value goes from the store to the consumers inside the module; it never passes through Ansible variables
    and never appears in the result. A consumer gets the whole value, one C(field) of a map secret, or a
    C(template) such as C(postgresql://{username}:{password:url}@db:5432/agentarea) filled by the module (not by
    Jinja, so a value cannot inject template code; C(:url) percent-encodes).
  - Each consumer is reported as C(in_sync), C(drifted), C(missing) or C(updated) by keyed fingerprint. In check
    mode nothing is written, so the report is a drift report.
  - Returns the workloads to restart (the C(restart) list of each consumer that changed), for
    M(agentarea.secrets.rollout).
  - A consumer with C(hosts) (an C(env_file) or C(file) consumer on managed hosts) is left alone and reported as
    C(on_hosts) - the provision, sync, rotate and emergency roles write it on those hosts with
    M(agentarea.secrets.secret_file); this module never writes its path on the controller.
options:
  name:
    description: The catalog entry's name, used in messages and results. Required with O(store).
    type: str
  store:
    description: The reference of the secret's source of truth. Required unless O(distributions) is given.
    type: str
  consumers:
    description:
      - The catalog entry's consumers. Each names one of C(k8s), C(docker), C(env_file), C(file),
        C(external_secret), with an optional C(restart) list of C(KIND/NAME) workloads.
      - "C(k8s: {namespace, secret, key, field, template}) (without C(key) a map secret becomes the Secret's keys);
        C(docker: {secret, services, field, template}); C(env_file: {path, key, field, template});
        C(file: {path, field, template, mode, allow_world_access}); C(external_secret: {namespace, name, api_version})."
      - Files (C(env_file), C(file)) keep their owner, group and mode; a new one is 0600. A C(file) consumer's C(mode)
        is read as M(ansible.builtin.file) reads it, 0 to 0777, and a mode that gives other users access is refused
        unless C(allow_world_access=true). A symbolic link at the path is refused.
      - Required with O(store).
    type: list
    elements: dict
  sync_external:
    description:
      - Annotate C(external_secret) consumers with C(force-sync) so the operator fetches the new value now (set
        after a rotation; every run with it set changes the annotation).
    type: bool
    default: false
  restart:
    description:
      - Restart the workloads in RV(restarts) (the C(restart) lists of the consumers that changed) and wait until
        each has rolled out, as M(agentarea.secrets.rollout) does. Off, they are only returned.
    type: bool
    default: false
  restart_timeout:
    description: Seconds to wait for the restarted workloads (each kind in turn) to finish rolling out.
    type: int
    default: 300
  docker_wait:
    description: Wait until every task of re-pointed Docker services runs the new secret.
    type: bool
    default: true
  docker_timeout:
    description: Seconds to wait for Docker services to converge.
    type: int
    default: 300
  distributions:
    description:
      - Distribute many catalog entries in one call (one module start instead of one per entry), each exactly as a
        call with O(name), O(store) and O(consumers) would - its own read, drift check, writes, audit events,
        restarts, check mode and diff. Mutually exclusive with O(store).
      - The call fails when any item failed, naming each by its O(distributions[].name) with its value-free
        message; the results of the others are in RV(results).
    type: list
    elements: dict
    suboptions:
      name:
        description: The catalog entry's name (see O(name)).
        type: str
      store:
        description: The reference of the secret's source of truth (see O(store)).
        type: str
      consumers:
        description: The catalog entry's consumers (see O(consumers)).
        type: list
        elements: dict
  concurrency:
    description:
      - With O(distributions), how many entries are distributed at once (threads in the module). Keep V(1) when
        entries share a consumer file (an C(.env) with one key per entry).
    type: int
    default: 1
  fingerprint_key:
    description: Key of the fingerprints. Defaults to E(AGENTAREA_SECRETS_FINGERPRINT_KEY), then the key file.
    type: str
extends_documentation_fragment:
  - agentarea.secrets.audit
  - agentarea.secrets.stores
attributes:
  check_mode:
    support: full
    description: Reports drift (in_sync, drifted, missing) without writing.
  diff_mode:
    support: full
    description: Fingerprints per consumer before and after, never values.
seealso:
  - module: agentarea.secrets.rollout
  - module: agentarea.secrets.catalog_info
"""

EXAMPLES = r"""
- name: Push the database credential to Kubernetes, Docker and the .env file
  agentarea.secrets.distribute:
    name: database
    store: vault://secret/agentarea/database
    consumers:
      - k8s: {namespace: agentarea, secret: agentarea-secrets, key: database-url,
              template: "postgresql://{username}:{password:url}@db.internal:5432/agentarea"}
        restart: [deployment/agentarea-api]
      - docker: {secret: db_password, services: [agentarea-api], field: password}
      - env_file: {path: /srv/agentarea/.env, key: DATABASE_URL,
                   template: "postgresql://{username}:{password:url}@db.internal:5432/agentarea"}
  register: pushed
  delegate_to: localhost

- name: Restart what changed
  agentarea.secrets.rollout:
    kind: "{{ item.kind }}"
    name: "{{ item.name }}"
    namespace: "{{ item.namespace }}"
  loop: "{{ pushed.restarts }}"
  delegate_to: localhost
"""

RETURN = r"""
consumers:
  description: One item per consumer, in order.
  returned: always
  type: list
  elements: dict
  contains:
    type: {description: The consumer type., type: str}
    target: {description: A value-free label of the consumer., type: str}
    state:
      description:
        - C(in_sync), C(drifted), C(missing), C(updated), C(synced) or C(external); C(pending) in check mode when
          the store, or the key it names, does not exist yet (RV(store_missing)); C(on_hosts) for a consumer with
          C(hosts), written by the hosts themselves.
      type: str
    changed: {description: Whether it was (or would be) written., type: bool}
    fingerprint: {description: Keyed fingerprint of the value it should hold., type: str}
    was: {description: The state before the write (C(drifted) or C(missing)) when it was updated., type: str}
drifted:
  description: How many consumers were not in sync (drifted or missing) before this run, repaired or not.
  returned: always
  type: int
restarts:
  description: Workloads to restart because a consumer they read changed (kind, name, namespace).
  returned: always
  type: list
  elements: dict
restarted:
  description: With O(restart), each restarted workload with C(kind), C(name), C(namespace), C(duration) and status.
  returned: when O(restart=true)
  type: list
  elements: dict
store_missing:
  description: In check mode, the store does not hold the secret or its key yet (an earlier task would create it).
  returned: when true
  type: bool
store_fingerprint:
  description: Keyed fingerprint of the store's value.
  returned: when the store holds the secret
  type: str
results:
  description:
    - With O(distributions) - one result per item, in order, shaped like the result of a single call
      (RV(consumers), RV(drifted), RV(restarts), RV(restarted), ... and C(diff)) plus C(name) and C(ref) and, for
      an item that failed, C(failed), C(msg) (value-free) and C(error). The other return values above are then per
      item, not top level.
  returned: with O(distributions)
  type: list
  elements: dict
failed_count:
  description: With O(distributions) - how many items failed.
  returned: with O(distributions)
  type: int
"""

from ansible_collections.agentarea.secrets.plugins.module_utils.distribution import _consumers
from ansible_collections.agentarea.secrets.plugins.module_utils._catalog import consumer_type
from ansible_collections.agentarea.secrets.plugins.module_utils.distribution._distribute import Distributor, describe_target
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import SecretNotFound
from ansible_collections.agentarea.secrets.plugins.module_utils.core._module import SecretModule, protect_catalog


def restart_all(restarts, backend, timeout, check_mode):
    """Restart and wait for every workload, grouped by kind and namespace; a rollout that does not finish raises
    (RolloutFailed names the workload)."""
    groups = {}
    for item in restarts:
        groups.setdefault((item['kind'], item.get('namespace')), []).append(item['name'])
    reports = []
    for (kind, namespace), names in sorted(groups.items(), key=lambda g: (g[0][0], g[0][1] or '')):
        docker = backend('docker') if kind == _consumers.DOCKER_KIND else None
        k8s = None if docker is not None else backend('k8s')
        reports.extend(_consumers.restart(kind, names, namespace=namespace, k8s=k8s, docker=docker, wait=True,
                                          timeout=timeout, check_mode=check_mode))
    return reports


class Distribute(SecretModule):
    NAME = 'distribute'
    OPTIONS = dict(
        name=dict(type='str'),
        store=dict(type='str'),
        consumers=dict(type='list', elements='dict'),
        sync_external=dict(type='bool', default=False),
        restart=dict(type='bool', default=False),
        restart_timeout=dict(type='int', default=300),
        docker_wait=dict(type='bool', default=True),
        docker_timeout=dict(type='int', default=300),
    )
    STORES = True
    FINGERPRINT_KEY = True
    AUDIT_LOG = True
    # many entries in one call: each item takes name, store and consumers (module_utils/core/_module.py)
    BATCH = 'distributions'
    BATCH_OPTIONS = ('name', 'store', 'consumers')
    BATCH_REQUIRED = ('name', 'store', 'consumers')

    def __init__(self):
        super(Distribute, self).__init__(mutually_exclusive=[('store', 'distributions')],
                                         required_one_of=[('store', 'distributions')],
                                         required_by={'store': ('name', 'consumers')})

    def docker_rotation(self, docker, name, value, services):
        return _consumers.docker_rotation(docker, name, value, services=services, wait=self.params['docker_wait'],
                                          timeout=self.params['docker_timeout'], check_mode=self.check_mode)

    def force_sync(self, spec):
        _consumers.force_sync(self.pool.scheme('k8s'), spec['namespace'], spec['name'],
                              api_version=spec.get('api_version') or 'v1', check_mode=self.check_mode)

    def run_one(self):
        p = self.params
        protect_catalog(self.module, [{'consumers': p['consumers']}])
        result = self.result = {'changed': False, 'ref': p['store'], 'consumers': [], 'restarts': [], 'drifted': 0}
        ref = self.parse_ref(p['store'], **result)
        result['ref'] = str(ref)
        self.primary = ref.scheme
        backend = self.pool.scheme
        store = backend(ref.scheme)
        try:
            value = store.select(store.read(ref.without_key()), ref)
        except SecretNotFound:
            if not self.check_mode:
                raise
            # check mode after a provision step that would create the secret or its key: every consumer would be
            # written
            result.update(changed=True, store_missing=True, consumers=[
                {'type': t, 'target': describe_target(t, c[t] or {}), 'state': 'pending', 'changed': True}
                for t, c in ((consumer_type(c), c) for c in p['consumers']) if t])
            return result
        result['store_fingerprint'] = self.fingerprint(value)
        dist = Distributor(backend, self.fingerprint, docker_rotation=self.docker_rotation,
                           force_sync=self.force_sync, check_mode=self.check_mode)
        consumers, restarts = dist.run(p['name'], value, p['consumers'], sync_external=p['sync_external'])
        result.update(consumers=consumers, restarts=restarts, changed=any(c['changed'] for c in consumers),
                      drifted=sum(1 for c in consumers if c.get('was', c.get('state')) in ('drifted', 'missing')))
        if not self.check_mode:
            for item in consumers:
                if item['changed']:
                    self.audit.emit('distribute', 'ok', backend=item['type'], ref=ref,
                                    fingerprint=item.get('fingerprint'), entry=p['name'], consumer=item['target'])
        if p['restart'] and restarts:
            result['restarted'] = restart_all(restarts, backend, p['restart_timeout'], self.check_mode)
        result['diff'] = {
            'before': dict((c['target'], c['state'] if c['state'] != 'updated' else 'drifted') for c in consumers),
            'after': dict((c['target'], 'in_sync' if c['changed'] or c['state'] == 'in_sync' else c['state'])
                          for c in consumers),
        }
        return result


Distribute.OPTIONS.update(Distribute.batch_options())


def main():
    Distribute().main()


if __name__ == '__main__':
    main()
