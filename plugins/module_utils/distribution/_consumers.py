# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where a value is distributed and who is restarted: the one front door that the distribute module hands to
_distribute.Distributor (``docker_rotation``, ``force_sync``) and uses for restarts (``restart``). The work is
done in _k8s_secret.py, _docker_secret.py, _rollout.py and _external_secret.py. Kubernetes Secret keys are
written with ``K8sBackend.write(ref#key, value)``, which retries resourceVersion conflicts. Nothing here calls exit_json."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.agentarea.secrets.plugins.module_utils.distribution import _external_secret as eso
from ansible_collections.agentarea.secrets.plugins.module_utils.distribution import _rollout
from ansible_collections.agentarea.secrets.plugins.module_utils.distribution._docker_secret import Rotation
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import SecretNotFound

DOCKER_KIND = _rollout.DOCKER_KIND


def docker_rotation(backend, name, value, services=(), keep_versions=0, wait=True, timeout=300, check_mode=False):
    """Ensure swarm secret ``name`` holds ``value``: a new version when it changed, the services re-pointed and
    waited for, then unused old versions removed. Returns the value-free result of docker_secret."""
    return Rotation(backend, name, value, services=services, keep_versions=keep_versions, wait=wait,
                    timeout=timeout, check_mode=check_mode).run()


def force_sync(backend, namespace, name, api_version='v1', wait=False, timeout=120, check_mode=False):
    """Set the ``force-sync`` annotation of ExternalSecret ``namespace/name`` (and wait until it synced again).
    Returns the annotation value."""
    objects = eso.CustomObjects(backend, 'externalsecrets', api_version)
    before = objects.get(name, namespace)
    if before is None:
        raise SecretNotFound('no such ExternalSecret', ref='%s/%s' % (namespace, name), backend='external-secrets')
    value = eso.force_sync_value()
    if check_mode:
        return value
    synced_version = (before.get('status') or {}).get('syncedResourceVersion')
    started = time.time()
    objects.annotate(name, namespace, {eso.FORCE_SYNC: value})
    if wait:
        _rollout.wait_all([_rollout.Workload('ExternalSecret', name, namespace, lambda: (
            eso.synced_since(objects.get(name, namespace), synced_version, started), 'waiting for a sync', None))],
            timeout)
    return value


def restart(kind, names, namespace=None, k8s=None, docker=None, wait=True, timeout=300, check_mode=False):
    """Restart workloads (deployment, statefulset, daemonset, docker_service) and wait; returns their reports
    (kind, name, namespace, converged, duration, status). Raises _rollout.RolloutFailed naming what did not finish."""
    return [w.report() for w in _rollout.restart(kind, names, namespace=namespace, k8s=k8s, docker=docker, wait=wait,
                                                 timeout=timeout, check_mode=check_mode)]
