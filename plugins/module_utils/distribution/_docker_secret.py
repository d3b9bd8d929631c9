# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The logic behind agentarea.secrets.docker_secret: a swarm secret rotated without an outage.

1. Compare the keyed fingerprint label of the newest version with the wanted value: equal means nothing to write.
2. Otherwise create the next version (``name_v<N>``) - the old one stays, services still use it.
3. Re-point each named service to the new version under the same target file name (uid, gid and mode kept), so
   the application keeps reading ``/run/secrets/<target>``.
4. Wait until every task of those services runs the new spec and no old task runs (see _rollout.docker_status).
5. Only then remove old versions that no service in the swarm references (never one in use), keeping the newest
   ``keep_versions`` old ones.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.agentarea.secrets.plugins.module_utils.distribution import _rollout
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import InvalidOption, SecretConflict
from ansible_collections.agentarea.secrets.plugins.module_utils.backends._docker import (
    to_bytes,
    user_labels,
    version_name,
)

DEFAULT_MODE = 0o444


def repoint(secret_refs, family_ids, target, default_file):
    """The service's new ContainerSpec.Secrets: references to any version of the family become one reference to
    ``target`` (a (id, name) pair) with the file settings of the first of them; others are kept as they are.
    Returns (new list, changed)."""
    ours = [r for r in secret_refs if r.get('SecretID') in family_ids]
    others = [r for r in secret_refs if r.get('SecretID') not in family_ids]
    if len(ours) == 1 and ours[0].get('SecretID') == target[0]:
        return list(secret_refs), False
    file_spec = dict(ours[0].get('File') or default_file) if ours else dict(default_file)
    return others + [{'File': file_spec, 'SecretID': target[0], 'SecretName': target[1]}], True


class Rotation:
    """One run of docker_secret (state=present); ``run()`` returns the value-free result."""

    def __init__(self, backend, name, value, labels=None, services=(), keep_versions=0, wait=True, timeout=300,
                 check_mode=False):
        self.backend, self.name = backend, name
        self.data = to_bytes(value)
        self.labels = None if labels is None else dict((k, str(v)) for k, v in labels.items())
        self.services, self.keep = list(services or []), keep_versions
        self.wait, self.timeout, self.check_mode = wait, timeout, check_mode
        self.fp = backend.fp(self.data)
        self.result = {}

    def run(self):
        b = self.backend
        versions = b.family(self.name)
        current = versions[-1] if versions else None
        # kept on the object, so that a failure part-way (a service that does not converge) can still report
        result = self.result = {'changed': False, 'name': self.name, 'fingerprint': self.fp, 'services': {},
                                'removed': [], 'kept_in_use': {}}
        before = {'secret_name': current.name if current else None, 'version': current.number if current else None,
                  'fingerprint': current.fingerprint if current else None,
                  'labels': user_labels(current.labels) if current else None, 'services': {}}
        services = [_rollout.docker_service(b, s) for s in self.services]  # all must exist before any change
        family_ids = set(v.id for v in versions)
        for svc in services:
            refs = svc['Spec']['TaskTemplate'].get('ContainerSpec', {}).get('Secrets') or []
            before['services'][svc['Spec']['Name']] = [r.get('SecretName') for r in refs
                                                       if r.get('SecretID') in family_ids]

        rotate = current is None or current.fingerprint != self.fp
        if rotate:
            number = current.number + 1 if current else 1
            labels = self.labels if self.labels is not None else (user_labels(current.labels) if current else {})
            result['action'] = 'rotated' if current else 'created'
            result['changed'] = True
            if self.check_mode:
                target = ('(new)', version_name(self.name, number))
            else:
                new = b.create_version(self.name, self.data, labels, number)
                target = (new.id, new.name)
                result['secret_id'] = new.id
            result['version'] = number
        else:
            target = (current.id, current.name)
            result.update(action='none', version=current.number, secret_id=current.id)
            if self.labels is not None and user_labels(current.labels) != self.labels:
                result.update(action='labels', changed=True)
                if not self.check_mode:
                    b.set_labels(current, self.labels)
        result['secret_name'] = target[1]

        updated = self._repoint(services, family_ids, target, result)
        waited = self._wait(updated, result)
        old = [v for v in versions if v.id != target[0]]
        if updated and not waited:
            # not waited for: the versions those services used until now may still be mounted by old tasks
            keep_ids = set()
            for svc in updated:
                keep_ids.update(r.get('SecretID') for r in
                                svc['Spec']['TaskTemplate'].get('ContainerSpec', {}).get('Secrets') or [])
            old = [v for v in old if v.id not in keep_ids]
        removed, in_use = b.prune(old, keep=self.keep, check_mode=self.check_mode)
        result['removed'], result['kept_in_use'] = removed, in_use
        result['changed'] = result['changed'] or bool(removed)
        after = {'secret_name': target[1], 'version': result['version'], 'fingerprint': self.fp,
                 'labels': self.labels if self.labels is not None else before['labels'],
                 'services': dict((s, [target[1]]) for s in before['services'])}
        result['diff'] = {'before': before, 'after': after}
        return result

    def _repoint(self, services, family_ids, target, result):
        default_file = {'Name': self.name, 'UID': '0', 'GID': '0', 'Mode': DEFAULT_MODE}

        def change(template):
            container = dict(template.get('ContainerSpec') or {})
            container['Secrets'] = repoint(container.get('Secrets') or [], family_ids, target, default_file)[0]
            template['ContainerSpec'] = container
            return template

        updated = []
        for svc in services:
            name = svc['Spec']['Name']
            refs = (svc['Spec']['TaskTemplate'].get('ContainerSpec') or {}).get('Secrets') or []
            changed = repoint(refs, family_ids, target, default_file)[1]
            result['services'][name] = {'updated': changed}
            if not changed:
                continue
            result['changed'] = True
            if not self.check_mode:
                _rollout.docker_update(self.backend, svc, change=change)
            updated.append(svc)
        return updated

    def _wait(self, updated, result):
        if not updated or self.check_mode or not self.wait:
            return False
        workloads = [_rollout.Workload(_rollout.DOCKER_KIND, svc['Spec']['Name'], None,
                                       lambda sid=svc['ID']: _rollout.docker_poll(self.backend, sid))
                     for svc in updated]
        try:
            _rollout.wait_all(workloads, self.timeout)
        finally:
            for w in workloads:
                result['services'][w.name].update(converged=w.done, duration=w.duration, status=w.message)
        return True


def remove(backend, name, check_mode=False):
    """state=absent: remove every version; refuse (naming the services) while any is in use."""
    versions = backend.family(name)
    result = {'changed': bool(versions), 'name': name, 'action': 'deleted' if versions else 'none',
              'removed': [v.name for v in versions]}
    if versions:
        usage = backend.usage()
        busy = dict((v.name, sorted(usage[v.id])) for v in versions if v.id in usage)
        if busy:
            raise SecretConflict('not removed, in use: %s (remove it from those services first)' % '; '.join(
                '%s by %s' % (k, ', '.join(v)) for k, v in sorted(busy.items())), ref='docker://%s' % name,
                backend='docker')
        if not check_mode:
            for v in versions:
                backend.remove(v)
    result['diff'] = {'before': {'versions': [v.name for v in versions]}, 'after': {'versions': []}}
    return result


def read_source(value, src):
    if value is not None:
        return value
    try:
        with open(src, 'rb') as handle:
            return handle.read()
    except (IOError, OSError) as exc:
        raise InvalidOption('cannot read src %s: %s' % (src, exc.strerror or type(exc).__name__),
                            backend='docker')
