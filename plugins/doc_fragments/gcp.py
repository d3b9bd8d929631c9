# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment:
    # Options of the Google Secret Manager backend (gcp:// references), for lookups and modules alike.
    DOCUMENTATION = r"""
options:
  project:
    description:
      - Google Cloud project (ID or number) of bare secret names in the P(agentarea.secrets.gcp#lookup) lookup;
        a C(gcp://<project>/<name>) reference names its own.
      - Defaults to E(ANSIBLE_AGENTAREA_SECRETS_GCP_PROJECT), then E(GOOGLE_CLOUD_PROJECT), then
        E(CLOUDSDK_CORE_PROJECT), then the project of the credentials.
    type: str
  credentials_file:
    description:
      - Credentials JSON file (a service account key, or any credentials file google-auth loads) for gcp://
        references.
      - Defaults to E(ANSIBLE_AGENTAREA_SECRETS_GCP_CREDENTIALS_FILE), then E(GOOGLE_APPLICATION_CREDENTIALS). Neither
        set means Application Default Credentials (C(gcloud auth application-default login), workload identity, the
        metadata server).
    type: path
  service_account_info:
    description:
      - The credentials JSON itself (a service account key, or any credentials JSON google-auth loads) for gcp://
        references, as a dict or as its JSON text, as AWX credentials and vaulted variables give it. Used instead of
        O(credentials_file); O(access_token) wins over both.
      - It is kept in memory and never written to disk; errors never quote it.
      - Defaults to E(ANSIBLE_AGENTAREA_SECRETS_GCP_SERVICE_ACCOUNT_INFO).
    type: raw
  location:
    description:
      - Region of regional secrets, such as C(europe-west1). Secrets are then C(projects/<project>/locations/<location>/secrets/<name>)
        (a C(gcp://<project>/<name>) reference names the secret in this location), reached through the regional
        endpoint C(secretmanager.<location>.rep.googleapis.com) unless O(api_endpoint) is set, and created without
        a replication policy (a regional secret stays in its region).
      - Unset means global secrets (C(projects/<project>/secrets/<name>)).
      - Defaults to E(ANSIBLE_AGENTAREA_SECRETS_GCP_LOCATION).
    type: str
  access_token:
    description:
      - An OAuth 2.0 bearer token obtained elsewhere, used as it is and never refreshed.
      - "Azure Key Vault: a token for C(https://vault.azure.net) (C(az account get-access-token --resource
        https://vault.azure.net)); defaults to E(ANSIBLE_AGENTAREA_SECRETS_AZURE_ACCESS_TOKEN)."
      - "Google Secret Manager: a token with the C(cloud-platform) scope (C(gcloud auth print-access-token));
        defaults to E(ANSIBLE_AGENTAREA_SECRETS_GCP_ACCESS_TOKEN), then E(CLOUDSDK_AUTH_ACCESS_TOKEN)."
    type: str
  api_endpoint:
    description:
      - Secret Manager endpoint instead of C(secretmanager.googleapis.com), such as a Private Service Connect name
        or an emulator URL. For regional secrets see O(location).
      - Defaults to E(ANSIBLE_AGENTAREA_SECRETS_GCP_API_ENDPOINT).
    type: str
  transport:
    description:
      - How the client talks to Secret Manager. V(rest) needs no gRPC and goes through HTTP proxies.
      - Defaults to E(ANSIBLE_AGENTAREA_SECRETS_GCP_TRANSPORT), then V(rest).
    type: str
    choices: [rest, grpc]
  timeout:
    description:
      - Seconds to wait for the store to answer.
    type: int
    default: 30
"""

    # Sources of the GCP-only options (native variables first, then the collection's, which win).
    PLUGINS = r"""
options:
  project:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_GCP_PROJECT
    vars:
      - name: ansible_agentarea_secrets_gcp_project
    ini:
      - section: agentarea_secrets_gcp
        key: project
  credentials_file:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_GCP_CREDENTIALS_FILE
    vars:
      - name: ansible_agentarea_secrets_gcp_credentials_file
    ini:
      - section: agentarea_secrets_gcp
        key: credentials_file
  service_account_info:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_GCP_SERVICE_ACCOUNT_INFO
    vars:
      - name: ansible_agentarea_secrets_gcp_service_account_info
  location:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_GCP_LOCATION
    vars:
      - name: ansible_agentarea_secrets_gcp_location
    ini:
      - section: agentarea_secrets_gcp
        key: location
  api_endpoint:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_GCP_API_ENDPOINT
    vars:
      - name: ansible_agentarea_secrets_gcp_api_endpoint
    ini:
      - section: agentarea_secrets_gcp
        key: api_endpoint
  transport:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_GCP_TRANSPORT
    vars:
      - name: ansible_agentarea_secrets_gcp_transport
    ini:
      - section: agentarea_secrets_gcp
        key: transport
"""

    # Sources of the options other backends share. Only for the gcp lookup: in agentarea.secrets.secret a source
    # declared here would feed every backend (the GCP backend still reads its own variables itself).
    LOOKUP_SHARED = r"""
options:
  access_token:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_GCP_ACCESS_TOKEN
    vars:
      - name: ansible_agentarea_secrets_gcp_access_token
  timeout:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_TIMEOUT
      - name: ANSIBLE_AGENTAREA_SECRETS_GCP_TIMEOUT
    vars:
      - name: ansible_agentarea_secrets_timeout
      - name: ansible_agentarea_secrets_gcp_timeout
"""
