# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment:
    # Options of the Kubernetes backend (k8s:// references, k8s_secret, external_secret, rollout).
    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - Path of the kubeconfig file to use for Kubernetes (k8s:// references); several paths may be joined with
        C(:) as in E(KUBECONFIG).
      - Defaults to E(ANSIBLE_AGENTAREA_SECRETS_K8S_KUBECONFIG), E(K8S_AUTH_KUBECONFIG), E(KUBECONFIG), then
        C(~/.kube/config) unless another way to connect applies (see O(in_cluster)).
    type: path
  context:
    description:
      - The kubeconfig context to use for Kubernetes. Defaults to E(K8S_AUTH_CONTEXT), then the current context.
    type: str
  host:
    description:
      - URL of the Kubernetes API server, such as C(https://k8s.example.com:6443). Without O(kubeconfig) it is
        used with O(api_key), O(ca_cert) and O(validate_certs) alone; with one it overrides the server there.
      - Defaults to E(K8S_AUTH_HOST).
    type: str
  api_key:
    description:
      - Bearer token for the Kubernetes API (a service account token). Defaults to E(K8S_AUTH_API_KEY).
    type: str
  ca_cert:
    description:
      - CA certificate file that signed the server certificate of the store.
      - For Kubernetes it defaults to E(ANSIBLE_AGENTAREA_SECRETS_K8S_CA_CERT), then E(K8S_AUTH_SSL_CA_CERT), then
        the kubeconfig's or the service account's CA.
    type: path
  validate_certs:
    description:
      - Whether to verify the store's TLS certificate. Unset means C(true) (or what the kubeconfig says).
      - For Kubernetes it defaults to E(ANSIBLE_AGENTAREA_SECRETS_K8S_VALIDATE_CERTS), then E(K8S_AUTH_VERIFY_SSL).
    type: bool
  in_cluster:
    description:
      - V(true) uses the service account of the pod this runs in (its token and CA under
        C(/var/run/secrets/kubernetes.io/serviceaccount)), as AWX and execution environments on Kubernetes do.
      - Unset means automatic; when no O(kubeconfig), O(context) or O(host) is given, E(KUBERNETES_SERVICE_HOST) is
        set and a service account token is mounted, the in-cluster configuration is used.
        V(false) never uses it.
      - Defaults to E(ANSIBLE_AGENTAREA_SECRETS_K8S_IN_CLUSTER).
    type: bool
  timeout:
    description:
      - Seconds to wait for the store to answer.
    type: int
    default: 30
requirements:
  - PyYAML on the host that talks to Kubernetes, for a kubeconfig written in YAML (no Kubernetes SDK is needed)
"""

    # Only the Kubernetes-specific names get env/vars/ini sources here. The shared ones (ca_cert, validate_certs,
    # timeout) do not: in agentarea.secrets.secret a source added here would also feed the other backends. The
    # backend still reads K8S_AUTH_SSL_CA_CERT, K8S_AUTH_VERIFY_SSL and the ANSIBLE_AGENTAREA_SECRETS_K8S_* names.
    PLUGINS = r"""
options:
  kubeconfig:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_K8S_KUBECONFIG
    vars:
      - name: ansible_agentarea_secrets_k8s_kubeconfig
    ini:
      - section: agentarea_secrets_k8s
        key: kubeconfig
  context:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_K8S_CONTEXT
    vars:
      - name: ansible_agentarea_secrets_k8s_context
    ini:
      - section: agentarea_secrets_k8s
        key: context
  host:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_K8S_HOST
    vars:
      - name: ansible_agentarea_secrets_k8s_host
  api_key:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_K8S_API_KEY
    vars:
      - name: ansible_agentarea_secrets_k8s_api_key
  in_cluster:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_K8S_IN_CLUSTER
    vars:
      - name: ansible_agentarea_secrets_k8s_in_cluster
"""
