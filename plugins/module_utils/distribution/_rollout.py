# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Restart workloads and wait until they run the new state.

Kubernetes: ``kubectl rollout restart`` (the ``kubectl.kubernetes.io/restartedAt`` pod-template annotation) and
``kubectl rollout status`` (the same conditions, ported below). Docker: ``docker service update --force``
(``TaskTemplate.ForceUpdate`` + 1) and convergence: every task that should run runs the current spec, and no task
of an older spec is still running. The status functions are pure, so they are unit-tested on recorded objects.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import datetime
import time

from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import SecretError, SecretNotFound

RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt'
K8S_KINDS = {
    'deployment': ('read_namespaced_deployment', 'patch_namespaced_deployment'),
    'statefulset': ('read_namespaced_stateful_set', 'patch_namespaced_stateful_set'),
    'daemonset': ('read_namespaced_daemon_set', 'patch_namespaced_daemon_set'),
}
DOCKER_KIND = 'docker_service'
KINDS = tuple(K8S_KINDS) + (DOCKER_KIND,)
POLL = 0.5
UPDATE_FAILED = ('paused', 'rollback_started', 'rollback_paused', 'rollback_completed')


class RolloutFailed(SecretError):
    """A workload did not finish its rollout (timed out, exceeded its progress deadline, or was rolled back)."""


def now_rfc3339():
    # kubectl writes whole seconds; the fraction keeps two restarts within one second distinct (the second would
    # otherwise be a no-op patch that restarts nothing)
    return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%fZ')


# -- Kubernetes ----------------------------------------------------------------------------------------------------
def _g(obj, *path, **kw):
    for part in path:
        if not isinstance(obj, dict):
            return kw.get('default')
        obj = obj.get(part)
    return kw.get('default') if obj is None else obj


def k8s_status(kind, obj):
    """(done, message, error) the way ``kubectl rollout status`` judges a Deployment, StatefulSet or DaemonSet."""
    meta, spec, st = obj.get('metadata') or {}, obj.get('spec') or {}, obj.get('status') or {}
    name = meta.get('name')
    generation, observed = meta.get('generation') or 0, st.get('observedGeneration') or 0
    if kind == 'deployment':
        if generation > observed:
            return False, 'waiting for the deployment spec update to be observed', None
        for cond in st.get('conditions') or []:
            if cond.get('type') == 'Progressing' and cond.get('reason') == 'ProgressDeadlineExceeded':
                return False, '', 'deployment "%s" exceeded its progress deadline' % name
        replicas = spec.get('replicas', 1)
        updated = st.get('updatedReplicas') or 0
        if updated < replicas:
            return False, '%d out of %d new replicas have been updated' % (updated, replicas), None
        if (st.get('replicas') or 0) > updated:
            return False, '%d old replicas are pending termination' % ((st.get('replicas') or 0) - updated), None
        available = st.get('availableReplicas') or 0
        if available < updated:
            return False, '%d of %d updated replicas are available' % (available, updated), None
        return True, 'successfully rolled out', None
    if kind == 'daemonset':
        if _g(spec, 'updateStrategy', 'type', default='RollingUpdate') != 'RollingUpdate':
            return True, 'not waited for: rollout status is only available for the RollingUpdate strategy', None
        if generation > observed:
            return False, 'waiting for the daemon set spec update to be observed', None
        desired = st.get('desiredNumberScheduled') or 0
        scheduled = st.get('updatedNumberScheduled') or 0
        if scheduled < desired:
            return False, '%d out of %d new pods have been updated' % (scheduled, desired), None
        if (st.get('numberAvailable') or 0) < desired:
            return False, '%d of %d updated pods are available' % (st.get('numberAvailable') or 0, desired), None
        return True, 'successfully rolled out', None
    # statefulset
    if _g(spec, 'updateStrategy', 'type', default='RollingUpdate') != 'RollingUpdate':
        return True, 'not waited for: rollout status is only available for the RollingUpdate strategy', None
    if not observed or generation > observed:
        return False, 'waiting for the statefulset spec update to be observed', None
    replicas = spec.get('replicas', 1)
    if (st.get('readyReplicas') or 0) < replicas:
        return False, 'waiting for %d pods to be ready' % (replicas - (st.get('readyReplicas') or 0)), None
    rolling = _g(spec, 'updateStrategy', 'rollingUpdate')
    if isinstance(rolling, dict) and rolling.get('partition') is not None:
        goal = replicas - rolling['partition']
        if (st.get('updatedReplicas') or 0) < goal:
            return False, '%d out of %d new pods have been updated' % (st.get('updatedReplicas') or 0, goal), None
        return True, 'partitioned roll out complete: %d new pods have been updated' % (st.get('updatedReplicas')
                                                                                       or 0), None
    if st.get('updateRevision') != st.get('currentRevision'):
        return False, 'waiting for the rolling update to complete (revision %s)' % st.get('updateRevision'), None
    return True, 'rolling update complete', None


def k8s_read(backend, kind, namespace, name):
    return backend.call('apps', K8S_KINDS[kind][0], name, namespace, _what='%s %s/%s' % (kind, namespace, name))


def k8s_restart(backend, kind, namespace, name, stamp):
    """Set the restartedAt annotation (a new pod template: a rolling restart). Returns the patched object."""
    body = {'spec': {'template': {'metadata': {'annotations': {RESTARTED_AT: stamp}}}}}
    return backend.call('apps', K8S_KINDS[kind][1], name, namespace, body, _what='%s %s/%s' % (kind, namespace, name))


# -- Docker --------------------------------------------------------------------------------------------------------
def _spec_marks(template):
    container = (template or {}).get('ContainerSpec') or {}
    return (template.get('ForceUpdate') or 0,
            sorted(s.get('SecretID') for s in container.get('Secrets') or []),
            sorted(c.get('ConfigID') for c in container.get('Configs') or []),
            container.get('Image'))


def docker_status(service, tasks):
    """(done, message, error) for a swarm service: no update in progress or failed, every task that should run
    is running the current spec, and no task of an older spec is still running."""
    spec = service.get('Spec') or {}
    update = service.get('UpdateStatus') or {}
    if update.get('State') in UPDATE_FAILED:
        return False, '', 'update %s: %s' % (update.get('State'), update.get('Message') or '')
    marks = _spec_marks(spec.get('TaskTemplate') or {})
    current = [t for t in tasks if t.get('DesiredState') == 'running' and _spec_marks(t.get('Spec') or {}) == marks]
    running = [t for t in current if _g(t, 'Status', 'State') == 'running']
    old = [t for t in tasks if t not in current and _g(t, 'Status', 'State') in ('running', 'starting')]
    replicas = _g(spec, 'Mode', 'Replicated', 'Replicas')
    want = replicas if replicas is not None else max(len(current), 1)
    errors = [_g(t, 'Status', 'Err') for t in tasks if _g(t, 'Status', 'Err')]
    detail = '%d of %d tasks run the current spec' % (len(running), want)
    if old:
        detail += ', %d of an older spec still running' % len(old)
    if errors:
        detail += ' (last task error: %s)' % errors[0][:200]
    if update.get('State') == 'updating':
        return False, 'updating: ' + detail, None
    if len(running) >= want and len(running) == len(current) and not old:
        return True, 'converged: %d tasks running' % len(running), None
    return False, detail, None


def docker_service(backend, name):
    try:
        return backend.api('inspect_service', name, _what='service %s' % name)
    except SecretNotFound:
        raise SecretNotFound('no such Docker service', ref='service %s' % name, backend='docker')


def docker_update(backend, service, change=None, force=False, attempts=3):
    """Update a service from its own spec: ``change(task_template)`` returns the new TaskTemplate, ``force`` bumps
    ForceUpdate. The swarm refuses an update based on a stale spec version ("update out of sequence"): then the
    service is read again and the change applied to what it is now."""
    for attempt in range(attempts):
        spec = service['Spec']
        template = copy.deepcopy(spec['TaskTemplate'])
        if change is not None:
            template = change(template)
        if force:
            template['ForceUpdate'] = (template.get('ForceUpdate') or 0) + 1
        try:
            return backend.api('update_service', service['ID'], service['Version']['Index'], task_template=template,
                               name=spec['Name'], labels=spec.get('Labels') or {}, mode=spec.get('Mode'),
                               update_config=spec.get('UpdateConfig'), rollback_config=spec.get('RollbackConfig'),
                               endpoint_spec=spec.get('EndpointSpec'), _what='updating service %s' % spec['Name'])
        except SecretError as exc:
            if 'out of sequence' not in str(exc) or attempt == attempts - 1:
                raise
            service = docker_service(backend, service['ID'])
    return None


def docker_poll(backend, service_id):
    service = backend.api('inspect_service', service_id, _what='service %s' % service_id)
    tasks = backend.api('tasks', filters={'service': service_id}, _what='tasks of %s' % service_id)
    return docker_status(service, tasks)


# -- waiting -------------------------------------------------------------------------------------------------------
class Workload:
    """One workload being restarted: how to poll it and when its restart began."""

    def __init__(self, kind, name, namespace, poll):
        self.kind, self.name, self.namespace, self.poll = kind, name, namespace, poll
        self.started = time.time()
        self.restarted_at = None
        self.done = False
        self.message = 'not checked yet'
        self.duration = None

    @property
    def label(self):
        if self.namespace:
            return '%s %s/%s' % (self.kind, self.namespace, self.name)
        return '%s %s' % (self.kind, self.name)

    def report(self):
        out = {'kind': self.kind, 'name': self.name, 'converged': self.done, 'status': self.message,
               'duration': self.duration}
        if self.namespace:
            out['namespace'] = self.namespace
        if self.restarted_at:
            out['restarted_at'] = self.restarted_at
        return out


def wait_all(workloads, timeout, interval=POLL, sleep=time.sleep, clock=time.time):
    """Poll every workload until each is done; raise RolloutFailed naming those that failed or timed out.
    Each workload's ``duration`` is the time from its restart to the poll that saw it done."""
    deadline = clock() + timeout
    while True:
        failed = []
        for w in workloads:
            if w.done:
                continue
            done, message, error = w.poll()
            w.message = message or error or ''
            if error:
                failed.append('%s: %s' % (w.label, error))
            elif done:
                w.done, w.duration = True, round(clock() - w.started, 2)
        if failed:
            raise RolloutFailed('; '.join(failed))
        pending = [w for w in workloads if not w.done]
        if not pending:
            return workloads
        if clock() >= deadline:
            raise RolloutFailed('timed out after %ss waiting for %s' % (timeout, '; '.join(
                '%s (%s)' % (w.label, w.message) for w in pending)))
        sleep(interval)


def restart(kind, names, namespace=None, k8s=None, docker=None, wait=True, timeout=300, check_mode=False):
    """Restart the named workloads of ``kind`` and (with ``wait``) wait for all of them. Returns the list of
    Workload; raises RolloutFailed (with every workload's report in ``exc.workloads``)."""
    workloads = []
    stamp = now_rfc3339()
    # look every workload up first: a misspelt name fails before anything restarts
    if kind == DOCKER_KIND:
        found = [docker_service(docker, name) for name in names]
    else:
        found = [k8s_read(k8s, kind, namespace, name) for name in names]
    for name, obj in zip(names, found):
        if kind == DOCKER_KIND:
            w = Workload(kind, name, None, lambda sid=obj['ID']: docker_poll(docker, sid))
            if not check_mode:
                docker_update(docker, obj, force=True)
        else:
            w = Workload(kind, name, namespace, lambda n=name: k8s_status(kind, k8s_read(k8s, kind, namespace, n)))
            if not check_mode:
                k8s_restart(k8s, kind, namespace, name, stamp)
                w.restarted_at = stamp
        w.started = time.time()
        workloads.append(w)
    if wait and not check_mode:
        try:
            wait_all(workloads, timeout)
        except RolloutFailed as exc:
            exc.workloads = [w.report() for w in workloads]
            raise
    return workloads
