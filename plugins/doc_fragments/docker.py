# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment:
    # Options of the Docker backend (docker:// references, docker_secret, rollout). Every name starts with
    # docker_ because host, tls and ca_cert mean other things for other backends.
    DOCUMENTATION = r"""
options:
  docker_host:
    description:
      - The Docker daemon (a swarm manager) for docker:// references, such as C(unix:///var/run/docker.sock) or
        C(tcp://manager.internal:2376).
      - Defaults to E(ANSIBLE_AGENTAREA_SECRETS_DOCKER_HOST), then E(DOCKER_HOST), then the local socket.
    type: str
  docker_tls:
    description:
      - Talk TLS to the Docker daemon without verifying its certificate (a client certificate from
        O(docker_cert_path) is still presented). Prefer O(docker_tls_verify).
      - Defaults to E(DOCKER_TLS).
    type: bool
  docker_tls_verify:
    description:
      - Talk TLS to the Docker daemon and verify it against C(ca.pem) in O(docker_cert_path), presenting
        C(cert.pem)/C(key.pem) from there.
      - Defaults to E(DOCKER_TLS_VERIFY) (C(1)/C(0), C(true)/C(false)).
    type: bool
  docker_cert_path:
    description:
      - Directory with C(ca.pem), C(cert.pem) and C(key.pem) for TLS to the Docker daemon.
      - Defaults to E(DOCKER_CERT_PATH), then C(~/.docker).
    type: path
  docker_api_version:
    description:
      - Docker API version to speak; C(auto) (the default) negotiates with the daemon. Defaults to
        E(DOCKER_API_VERSION).
    type: str
  timeout:
    description:
      - Seconds to wait for the store to answer.
    type: int
    default: 30
requirements:
  - docker (Python SDK) >= 7.0 on the host that talks to the Docker daemon
"""

    PLUGINS = r"""
options:
  docker_host:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_DOCKER_HOST
    vars:
      - name: ansible_agentarea_secrets_docker_host
  docker_tls:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_DOCKER_TLS
  docker_tls_verify:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_DOCKER_TLS_VERIFY
    vars:
      - name: ansible_agentarea_secrets_docker_tls_verify
  docker_cert_path:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_DOCKER_CERT_PATH
    vars:
      - name: ansible_agentarea_secrets_docker_cert_path
  docker_api_version:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_DOCKER_API_VERSION
"""
