#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: rollout
short_description: Restart Kubernetes workloads or Docker services and wait until they run again
version_added: 0.1.0
author:
  - agentarea.secrets contributors (@agentarea)
description:
  - Kubernetes Deployments, StatefulSets and DaemonSets are restarted the way C(kubectl rollout restart) does it
    (the C(kubectl.kubernetes.io/restartedAt) annotation of the pod template), then the module waits as
    C(kubectl rollout status) does, so pods that read Secrets at start pick up new values.
  - Docker swarm services are updated with C(--force) semantics (a new C(ForceUpdate) counter) and the module waits
    until every task runs the new spec and no old task is still running.
  - All named workloads are restarted first, then waited for together. The result says which workloads restarted
    and how long each took; a timeout fails naming the workloads that did not finish and their state.
  - A restart is an action, so the task reports C(changed) whenever it restarts something; guard it with C(when)
    on the result of the task that changed the secret.
options:
  kind:
    description: What O(name) names.
    type: str
    required: true
    choices: [deployment, statefulset, daemonset, docker_service]
  name:
    description: One workload or a list of them.
    type: list
    elements: str
    required: true
  namespace:
    description: Namespace of the Kubernetes workloads (required for them).
    type: str
  wait:
    description: Wait until every workload finished its rollout (or converged, for Docker services).
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait for all the workloads together. Requests to the API use the backends' own short timeout.
    type: int
    default: 300
extends_documentation_fragment:
  - agentarea.secrets.k8s
  - agentarea.secrets.docker
attributes:
  check_mode:
    support: full
    description: Checks that the workloads exist and reports what would restart.
  diff_mode:
    support: none
    description: A restart changes no configuration worth a diff.
notes:
  - Not in the C(agentarea.secrets.secrets) action group (it takes the Kubernetes and Docker options only, and its
    O(timeout) is the wait, not a request timeout).
seealso:
  - module: agentarea.secrets.k8s_secret
  - module: agentarea.secrets.docker_secret
"""

EXAMPLES = r"""
- name: Put the new database URL into the Secret
  agentarea.secrets.k8s_secret:
    namespace: agentarea
    name: agentarea-secrets
    data: {database-url: "{{ database_url }}"}
    purge_keys: false
  register: k8s_secret

- name: Roll the API and the workers onto it
  agentarea.secrets.rollout:
    kind: deployment
    namespace: agentarea
    name: [agentarea-api, agentarea-worker]
    timeout: 600
  when: k8s_secret is changed

- name: Restart a swarm service
  agentarea.secrets.rollout:
    kind: docker_service
    name: agentarea_api
"""

RETURN = r"""
restarted:
  description: The workloads restarted (or that would be, in check mode), as C(kind/namespace/name) or C(kind/name).
  returned: always
  type: list
  elements: str
  sample: [deployment/agentarea/agentarea-api]
workloads:
  description: Per workload, C(kind), C(name), C(namespace), C(restarted_at), C(converged), C(status) and
    C(duration) (seconds from its restart until its rollout finished).
  returned: always
  type: list
  elements: dict
durations:
  description: Seconds each workload took to finish its rollout, by C(kind/namespace/name).
  returned: when waited
  type: dict
"""

from ansible_collections.agentarea.secrets.plugins.module_utils.distribution import _rollout
from ansible_collections.agentarea.secrets.plugins.module_utils.core._module import SecretModule, backend_of
from ansible_collections.agentarea.secrets.plugins.module_utils.backends._docker import DockerBackend
from ansible_collections.agentarea.secrets.plugins.module_utils.backends.k8s._backend import K8sBackend


def key(w):
    return '/'.join(p for p in (w['kind'], w.get('namespace'), w['name']) if p)


class Rollout(SecretModule):
    NAME = 'rollout'
    # timeout is this module's wait, not the stores' request timeout (its own option wins)
    OPTIONS = dict(
        kind=dict(type='str', required=True, choices=list(_rollout.KINDS)),
        name=dict(type='list', elements='str', required=True),
        namespace=dict(type='str'),
        wait=dict(type='bool', default=True),
        timeout=dict(type='int', default=300),
    )
    STORES = ('k8s', 'docker')

    def __init__(self):
        super(Rollout, self).__init__(
            required_if=[(k, v, ('namespace',)) for k, v in (('kind', 'deployment'), ('kind', 'statefulset'),
                                                             ('kind', 'daemonset'))],
        )

    def run(self):
        p = self.params
        result = self.result = {'changed': False, 'restarted': [], 'workloads': []}
        k8s = docker = None
        try:
            if p['kind'] == _rollout.DOCKER_KIND:
                docker = backend_of(DockerBackend, p, timeout=None)
            else:
                k8s = backend_of(K8sBackend, p, timeout=None)
            workloads = _rollout.restart(p['kind'], p['name'], namespace=p['namespace'], k8s=k8s, docker=docker,
                                         wait=p['wait'], timeout=p['timeout'], check_mode=self.check_mode)
        except _rollout.RolloutFailed as exc:
            reports = getattr(exc, 'workloads', [])
            result.update(changed=bool(reports), restarted=[key(w) for w in reports], workloads=reports)
            raise
        reports = [w.report() for w in workloads]
        result.update(changed=bool(reports), restarted=[key(w) for w in reports], workloads=reports)
        if p['wait'] and not self.check_mode:
            result['durations'] = dict((key(w), w['duration']) for w in reports)
        return result


#: the whole argument spec (the docs tests compare it with DOCUMENTATION)
argument_spec = Rollout.argument_spec


def main():
    Rollout().main()


if __name__ == '__main__':
    main()
