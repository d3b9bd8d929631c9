# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment:
    # Options of the Azure Key Vault backend (azure:// references), for lookups and modules alike.
    DOCUMENTATION = r"""
options:
  vault_url:
    description:
      - URL of the key vault, such as C(https://agentarea-vault.vault.azure.net/), for bare secret names in the
        P(agentarea.secrets.azure#lookup) lookup.
      - In an C(azure://<vault>/<name>) reference a vault name means C(https://<vault>.vault.azure.net)
        (C(.vault.azure.cn) or C(.vault.usgovcloudapi.net) when O(authority) names that cloud; or this URL when its
        host starts with that name), and a host with a dot or a port, such as a private endpoint, means
        C(https://<host>).
      - Defaults to E(ANSIBLE_AGENTAREA_SECRETS_AZURE_VAULT_URL), then E(AZURE_KEYVAULT_URL).
    type: str
  auth:
    description:
      - How to get a token for Key Vault (azure:// references).
      - V(default) is azure-identity's C(DefaultAzureCredential) (environment, workload identity, managed identity,
        Azure CLI ...); with O(client_id) it picks that user-assigned managed identity.
      - V(client_secret) is a service principal (O(tenant_id), O(client_id), O(client_secret)), as AWX's Azure
        credential injects them.
      - V(client_certificate) is a service principal with a certificate (O(tenant_id), O(client_id),
        O(client_certificate), O(client_certificate_password)), through azure-identity's C(CertificateCredential).
      - V(managed_identity) is the machine's managed identity (user-assigned with O(client_id)).
      - V(access_token) uses O(access_token) as it is.
      - Defaults to E(ANSIBLE_AGENTAREA_SECRETS_AZURE_AUTH). Unset means V(access_token) when O(access_token) is
        set, V(client_secret) when O(client_secret) is set, V(client_certificate) when O(client_certificate) is
        set (the order of azure-identity's C(EnvironmentCredential)), else V(default).
      - Lookups get one token per identity per run (the run's broker keeps it); tokens are only ever issued for
        Key Vault scopes.
    type: str
    choices: [default, client_secret, client_certificate, managed_identity, access_token]
  tenant_id:
    description:
      - Entra ID (Azure AD) tenant of O(auth=client_secret) and O(auth=client_certificate). Defaults to
        E(ANSIBLE_AGENTAREA_SECRETS_AZURE_TENANT_ID), then E(AZURE_TENANT_ID).
    type: str
  client_id:
    description:
      - Application (client) ID of O(auth=client_secret) and O(auth=client_certificate), or of a user-assigned
        managed identity.
      - Defaults to E(ANSIBLE_AGENTAREA_SECRETS_AZURE_CLIENT_ID), then E(AZURE_CLIENT_ID).
    type: str
  client_secret:
    description:
      - Client secret of O(auth=client_secret). Defaults to E(ANSIBLE_AGENTAREA_SECRETS_AZURE_CLIENT_SECRET), then
        E(AZURE_CLIENT_SECRET).
    type: str
  client_certificate:
    description:
      - Certificate of O(auth=client_certificate) on the host that talks to Key Vault (the controller for lookups),
        a PEM file with the private key and the certificate, or a PKCS#12 (C(.pfx)) file. The key must be RSA (as
        Entra ID requires); its certificate is the one uploaded to the app registration.
      - Defaults to E(ANSIBLE_AGENTAREA_SECRETS_AZURE_CLIENT_CERTIFICATE), then E(AZURE_CLIENT_CERTIFICATE_PATH).
      - A file that cannot be loaded (missing, a wrong password) and a certificate Entra ID refuses fail with an
        error naming the vault, the client, the tenant and the cause (such as C(AADSTS700027)); never the key or
        its password.
    type: path
  client_certificate_password:
    description:
      - Password of an encrypted O(client_certificate).
      - Defaults to E(ANSIBLE_AGENTAREA_SECRETS_AZURE_CLIENT_CERTIFICATE_PASSWORD), then
        E(AZURE_CLIENT_CERTIFICATE_PASSWORD).
    type: str
  authority:
    description:
      - The Entra ID authority that issues tokens, as a cloud name (V(AzureCloud), V(AzureChinaCloud),
        V(AzureUSGovernment), as azure.azcollection's C(cloud_environment)), a host such as
        C(login.microsoftonline.us), or an C(https://) URL (Azure Stack Hub, a private cloud). Unset means the
        public cloud (C(login.microsoftonline.com)).
      - A sovereign cloud's authority also makes a bare vault name in a reference mean that cloud's vault
        (C(https://<vault>.vault.azure.cn)).
      - An authority that is not one of these clouds' is used without instance discovery (MSAL's
        C(disable_instance_discovery)), and its token requests trust O(ca_cert) too.
      - Defaults to E(ANSIBLE_AGENTAREA_SECRETS_AZURE_AUTHORITY), then E(AZURE_AUTHORITY_HOST).
    type: str
  access_token:
    description:
      - An OAuth 2.0 bearer token obtained elsewhere, used as it is and never refreshed.
      - "Azure Key Vault: a token for C(https://vault.azure.net) (C(az account get-access-token --resource
        https://vault.azure.net)); defaults to E(ANSIBLE_AGENTAREA_SECRETS_AZURE_ACCESS_TOKEN)."
      - "Google Secret Manager: a token with the C(cloud-platform) scope (C(gcloud auth print-access-token));
        defaults to E(ANSIBLE_AGENTAREA_SECRETS_GCP_ACCESS_TOKEN), then E(CLOUDSDK_AUTH_ACCESS_TOKEN)."
    type: str
  ca_cert:
    description:
      - CA certificate file that signed the server certificate of the store.
      - For Azure Key Vault (a private endpoint with an internal CA), defaults to
        E(ANSIBLE_AGENTAREA_SECRETS_AZURE_CA_CERT), then the system's CA bundle (or E(REQUESTS_CA_BUNDLE)). It
        applies to token requests only with a custom O(authority); O(validate_certs) never does.
    type: path
  validate_certs:
    description:
      - Whether to verify the store's TLS certificate. Unset means C(true).
      - For Azure Key Vault, defaults to E(ANSIBLE_AGENTAREA_SECRETS_AZURE_VALIDATE_CERTS).
    type: bool
  timeout:
    description:
      - Seconds to wait for the store to answer.
    type: int
    default: 30
notes:
  - For a vault host outside the Key Vault domains (C(*.vault.azure.net) and the sovereign clouds' equivalents),
    such as a private DNS name, the SDK cannot match its authentication challenge to the host, so that check is
    turned off (C(verify_challenge_resource=False)); tokens are then still issued only for Key Vault scopes.
"""

    # Module-only options (lookups never write or delete).
    MODULES = r"""
options:
  content_type:
    description:
      - Content type to set on an Azure Key Vault secret the module writes, such as C(text/plain) or
        C(application/json). Unset keeps the current version's.
    type: str
  expires:
    description:
      - Expiry (ISO 8601, such as C(2027-01-31T00:00:00Z)) to set on an Azure Key Vault secret the module writes.
        Key Vault reports it but does not enforce it. Unset sets none on a new version.
    type: str
  valid_from:
    description:
      - Not-before date (ISO 8601, such as C(2027-01-01T00:00:00Z); Key Vault's C(nbf) attribute) to set on an Azure
        Key Vault secret the module writes. Like O(expires) it is reported, not enforced, and a change alone is
        applied to the current version without a new one. Unset sets none on a new version.
    type: str
  recover_if_need:
    description:
      - When an Azure Key Vault secret the module writes is soft-deleted, recover it
        (C(POST {vault}/deletedsecrets/{name}/recover)) and then write the new version; the recovered secret's tags
        and content type are kept unless given. Without it such a write fails as deleted (Key Vault answers
        C(409 ObjectIsDeletedButRecoverable)), naming this option.
    type: bool
    default: false
  force_delete:
    description:
      - With C(state=absent), delete without a chance to recover. AWS deletes at once
        (C(ForceDeleteWithoutRecovery)); Azure Key Vault purges the soft-deleted secret after deleting it. Google
        Secret Manager always deletes for good.
    type: bool
    default: false
"""

    # Sources of the Azure-only options (native variables first, then the collection's, which win).
    PLUGINS = r"""
options:
  vault_url:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_AZURE_VAULT_URL
    vars:
      - name: ansible_agentarea_secrets_azure_vault_url
    ini:
      - section: agentarea_secrets_azure
        key: vault_url
  auth:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_AZURE_AUTH
    vars:
      - name: ansible_agentarea_secrets_azure_auth
    ini:
      - section: agentarea_secrets_azure
        key: auth
  tenant_id:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_AZURE_TENANT_ID
    vars:
      - name: ansible_agentarea_secrets_azure_tenant_id
    ini:
      - section: agentarea_secrets_azure
        key: tenant_id
  client_id:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_AZURE_CLIENT_ID
    vars:
      - name: ansible_agentarea_secrets_azure_client_id
    ini:
      - section: agentarea_secrets_azure
        key: client_id
  client_secret:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_AZURE_CLIENT_SECRET
    vars:
      - name: ansible_agentarea_secrets_azure_client_secret
  client_certificate:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_AZURE_CLIENT_CERTIFICATE
    vars:
      - name: ansible_agentarea_secrets_azure_client_certificate
    ini:
      - section: agentarea_secrets_azure
        key: client_certificate
  client_certificate_password:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_AZURE_CLIENT_CERTIFICATE_PASSWORD
    vars:
      - name: ansible_agentarea_secrets_azure_client_certificate_password
  authority:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_AZURE_AUTHORITY
    vars:
      - name: ansible_agentarea_secrets_azure_authority
    ini:
      - section: agentarea_secrets_azure
        key: authority
"""

    # Sources of the options other backends share. Only for the azure lookup: in agentarea.secrets.secret a source
    # declared here would feed every backend (the Azure backend still reads its own variables itself).
    LOOKUP_SHARED = r"""
options:
  access_token:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_AZURE_ACCESS_TOKEN
    vars:
      - name: ansible_agentarea_secrets_azure_access_token
  ca_cert:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_AZURE_CA_CERT
    vars:
      - name: ansible_agentarea_secrets_azure_ca_cert
    ini:
      - section: agentarea_secrets_azure
        key: ca_cert
  validate_certs:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_AZURE_VALIDATE_CERTS
    vars:
      - name: ansible_agentarea_secrets_azure_validate_certs
    ini:
      - section: agentarea_secrets_azure
        key: validate_certs
  timeout:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_TIMEOUT
      - name: ANSIBLE_AGENTAREA_SECRETS_AZURE_TIMEOUT
    vars:
      - name: ansible_agentarea_secrets_timeout
      - name: ansible_agentarea_secrets_azure_timeout
"""
