# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment:
    # Options of the Vault/OpenBao backend (vault:// references), for lookups and modules alike.
    DOCUMENTATION = r"""
options:
  url:
    description:
      - Address of the Vault or OpenBao server (vault:// references), such as C(https://vault.internal:8200).
      - Defaults to E(ANSIBLE_AGENTAREA_SECRETS_VAULT_URL), then E(VAULT_ADDR).
      - For Vault, O(ca_cert) defaults to E(ANSIBLE_AGENTAREA_SECRETS_VAULT_CA_CERT), then E(VAULT_CACERT), and
        O(validate_certs) to E(ANSIBLE_AGENTAREA_SECRETS_VAULT_VALIDATE_CERTS), then C(true).
    type: str
  namespace:
    description:
      - Vault Enterprise / OpenBao namespace to work in (vault:// references). The auth method is used in it too.
      - Defaults to E(VAULT_NAMESPACE).
    type: str
  auth_method:
    description:
      - How to log in to Vault (vault:// references). Defaults to E(ANSIBLE_AGENTAREA_SECRETS_VAULT_AUTH_METHOD), then
        V(token).
      - V(token) uses O(token), or the token in O(token_file), as it is (no login, never revoked). V(none) sends no
        token at all, for a Vault Agent (or another proxy) in front of Vault that adds its own
        (C(use_auto_auth_token)); point O(url) at the agent's listener. The others log in once per playbook run in
        lookups (the run's broker holds the token, see the lookups' C(cache) option), and the token they get is
        revoked at the end of the run unless O(keep_token). A module logs in once per task.
      - V(approle) uses O(role_id) and O(secret_id); V(userpass) and V(ldap) O(username) and O(password); V(jwt)
        O(role) and O(jwt); V(kubernetes) O(role) and the pod's service-account token (O(kubernetes_token_path), or
        O(jwt)); V(cert) the TLS client certificate O(client_cert)/O(client_key) and optionally O(role);
        V(aws_iam) a C(sts:GetCallerIdentity) request signed with AWS credentials (O(aws_access_key) and
        O(aws_secret_key), else botocore's chain of O(aws_profile), the C(AWS_*) environment variables, the instance
        or task role) and optionally O(role). V(aws_iam) needs the C(botocore) Python package.
      - V(azure) logs in with O(role) and an Azure AD token for O(azure_resource), which is O(jwt) when given, else a service
        principal's (O(azure_tenant_id), O(azure_client_id), O(azure_client_secret)), else the managed identity's
        (App Service's E(IDENTITY_ENDPOINT) and E(IDENTITY_HEADER) when both are set, else the VM's instance
        metadata service C(http://169.254.169.254), or E(AZURE_POD_IDENTITY_AUTHORITY_HOST); O(azure_client_id)
        picks a user-assigned identity), with O(azure_subscription_id), O(azure_resource_group_name),
        O(azure_vm_name) or O(azure_vmss_name) when given. A service principal's token comes from
        C(https://login.microsoftonline.com), or E(AZURE_AUTHORITY_HOST).
      - V(gcp) logs in with O(role) and a JWT for the audience C(vault/<role>), which is O(jwt) when given, else one signed
        with a service-account key (O(gcp_service_account_info) or O(gcp_credentials_file), for an C(iam) role;
        needs the C(google-auth) Python package), else the instance's identity token from the GCE metadata server
        (C(metadata.google.internal), or E(GCE_METADATA_HOST); for a C(gce) role).
      - For V(azure) and V(gcp), O(role_id) names the role when O(role) is unset, as community.hashi_vault names it.
    type: str
    choices: [approle, aws_iam, azure, cert, gcp, jwt, kubernetes, ldap, none, token, userpass]
  mount_point:
    description:
      - Where the auth method is mounted, when not at its default path (C(approle), C(userpass), C(ldap), C(jwt),
        C(kubernetes), C(cert), C(aws) for V(aws_iam), C(azure), C(gcp)).
    type: str
  token:
    description:
      - Vault token for O(auth_method=token). Defaults to E(ANSIBLE_AGENTAREA_SECRETS_VAULT_TOKEN), then E(VAULT_TOKEN),
        as AWX's Vault credential injects it.
      - Never read from C(~/.vault-token) implicitly; set O(token_file) to read it.
      - O(token) and O(token_file) exclude each other; a token that only comes from E(VAULT_TOKEN) is ignored when
        O(token_file) is set.
    type: str
  token_file:
    description:
      - File that holds the token for O(auth_method=token), such as a Vault Agent sink file, or C(~/.vault-token)
        as C(vault login) writes it (C(~) is expanded; that file is only read when named here).
      - The file is read again whenever it changes (its inode, modification time or size), so that a long run
        picks up the token the agent renewed or got anew.
      - The file must be a regular file that other users cannot read or write (mode C(0600) or C(0640)); a
        missing, unreadable or empty file is an error that names the file, never the token.
    type: path
  token_validate:
    description:
      - Look the token up (C(auth/token/lookup-self)) before it is used, for O(auth_method=token) and
        O(auth_method=none), so that an invalid, expired or revoked token fails as that rather than as a denied read.
    type: bool
    default: false
  role_id:
    description: AppRole role ID (O(auth_method=approle)).
    type: str
  secret_id:
    description: AppRole secret ID (O(auth_method=approle)); leave unset for roles without C(bind_secret_id).
    type: str
  username:
    description: User name for O(auth_method=userpass).
    type: str
  password:
    description: Password for O(auth_method=userpass).
    type: str
  role:
    description:
      - Role to log in as, for O(auth_method=jwt), O(auth_method=kubernetes), O(auth_method=azure),
        O(auth_method=gcp) and (optionally) O(auth_method=cert).
    type: str
  jwt:
    description:
      - Signed JWT for O(auth_method=jwt) (a CI job token, for example), or for O(auth_method=kubernetes) instead
        of the token file, or for O(auth_method=azure) and O(auth_method=gcp) instead of a token they fetch or sign.
    type: str
  kubernetes_token_path:
    description: The service-account token file read by O(auth_method=kubernetes).
    type: path
    default: /var/run/secrets/kubernetes.io/serviceaccount/token
  aws_access_key:
    description:
      - AWS access key ID for O(auth_method=aws_iam); with O(aws_secret_key). Unset, botocore finds credentials
        (O(aws_profile), the C(AWS_*) environment variables, the instance or task role).
    type: str
  aws_secret_key:
    description: AWS secret access key for O(auth_method=aws_iam).
    type: str
  aws_session_token:
    description: AWS session token for O(auth_method=aws_iam), with temporary O(aws_access_key)/O(aws_secret_key).
    type: str
  aws_profile:
    description: Profile of the AWS shared configuration whose credentials O(auth_method=aws_iam) signs with.
    type: str
  aws_region:
    description:
      - AWS region that O(auth_method=aws_iam) signs its STS request for; it must be the region of the STS
        endpoint the Vault aws auth method is configured with (C(sts_region)). Unset means C(us-east-1) (the
        global endpoint, Vault's default).
    type: str
  aws_iam_server_id:
    description:
      - Value of the C(X-Vault-AWS-IAM-Server-ID) header that O(auth_method=aws_iam) signs, when the Vault aws
        auth method requires one (C(iam_server_id_header_value)).
    type: str
  azure_tenant_id:
    description: Azure AD tenant (directory) ID of the service principal of O(auth_method=azure).
    type: str
  azure_client_id:
    description:
      - For O(auth_method=azure), the client (application) ID of the service principal (with
        O(azure_client_secret) and O(azure_tenant_id)), or of the user-assigned managed identity to use. Unset, the
        system-assigned managed identity.
    type: str
  azure_client_secret:
    description: Client secret of the service principal of O(auth_method=azure).
    type: str
  azure_resource:
    description:
      - The resource that the Azure AD token of O(auth_method=azure) is for; it must match the C(resource) the
        Vault azure auth method is configured with. Unset means C(https://management.azure.com/).
    type: str
  azure_subscription_id:
    description: Subscription of the VM, sent by O(auth_method=azure) (Vault needs it for roles bound to subscriptions).
    type: str
  azure_resource_group_name:
    description: Resource group of the VM, sent by O(auth_method=azure) (for roles bound to resource groups).
    type: str
  azure_vm_name:
    description: Name of the VM, sent by O(auth_method=azure) (ignored by Vault when O(azure_vmss_name) is set).
    type: str
  azure_vmss_name:
    description: Name of the VM scale set, sent by O(auth_method=azure).
    type: str
  gcp_credentials_file:
    description:
      - A service-account key file (JSON) whose key signs the JWT of O(auth_method=gcp), for a Vault C(iam) role.
        Not read from E(GOOGLE_APPLICATION_CREDENTIALS); set this option (or its variable) to use it.
    type: path
  gcp_service_account_info:
    description:
      - The service-account key itself (a dict, or its JSON text as an AWX credential injects it) whose key signs
        the JWT of O(auth_method=gcp). Excludes O(gcp_credentials_file).
    type: raw
  ca_cert:
    description:
      - CA certificate file that signed the server certificate of the store.
      - For Vault it defaults to E(ANSIBLE_AGENTAREA_SECRETS_VAULT_CA_CERT), then E(VAULT_CACERT), then the
        system's CA bundle.
    type: path
  validate_certs:
    description:
      - Whether to verify the store's TLS certificate. Unset means C(true).
    type: bool
  client_cert:
    description:
      - TLS client certificate (PEM) presented to Vault; required by O(auth_method=cert), and by servers that ask
        for mutual TLS.
    type: path
  client_key:
    description: Private key (PEM file) of O(client_cert), when the certificate file does not hold it.
    type: path
  timeout:
    description:
      - Seconds to wait for the store to answer.
    type: int
    default: 30
  retries:
    description:
      - How often to retry a Vault request after a connection error, a timeout, or an answer of 412, 429 or 5xx,
        with exponential back-off (0 s, 1 s, 2 s, 4 s ...). V(0) disables retries. Only reads are retried after an
        answer or a lost connection (a write may have landed).
      - For Vault also community.hashi_vault's dict form, handed to urllib3's C(Retry) on top of these defaults,
        with the keys C(total) (sets C(connect), C(read) and C(status) too), C(connect), C(read), C(status), C(backoff_factor),
        C(status_forcelist), C(allowed_methods) (a list of HTTP methods; C(null) retries every method, writes
        included) and C(respect_retry_after_header). In the environment or C(ansible.cfg) the dict is JSON text.
    type: raw
    default: 3
  proxies:
    description:
      - "Proxy for Vault requests: a URL for every scheme, or a dict such as C({https: http://proxy:3128})."
      - E(HTTPS_PROXY) and E(NO_PROXY) in the environment are honoured without it.
    type: raw
  keep_token:
    description:
      - Keep the token that a login created instead of revoking it at the end of the run (or, without the run
        cache, at the end of the task).
    type: bool
    default: false
"""

    # What and how a secret is read (the mount, the KV version, the engine, leases); the DOCUMENTATION options are
    # the connection alone (the backend's CONNECTION), which access_policy and vault_audit take as well.
    READ = r"""
options:
  mount:
    description:
      - The KV mount that a bare path of the P(agentarea.secrets.vault#lookup) lookup is relative to.
      - In a C(vault://) reference the mount is the start of the location; it is found from the server
        (C(sys/internal/ui/mounts)), so mounts with a C(/) in their name work; C(?mount=) names one explicitly.
    type: str
    default: secret
  kv_version:
    description:
      - KV secrets engine version of the mount, V(1) or V(2). Detected from the mount when not set (one request per
        mount; the reference parameter C(?kv_version=) also sets it).
    type: int
    choices: [1, 2]
  engine:
    description:
      - V(kv) reads and writes KV secrets.
      - V(dynamic) reads a dynamic credential, such as C(database/creds/<role>) (the location is the full API path),
        and returns a dict with the engine's fields (C(username), C(password) ...) and C(lease_id),
        C(lease_duration), C(renewable). The lease is revoked at the end of the playbook run unless O(keep_lease);
        each credential is issued once per run and shared by every task that uses it.
      - V(dynamic) needs something that revokes the lease when the run ends (the run's broker in lookups, see their
        C(cache) option, or else the P(agentarea.secrets.run_cache#callback) callback), or O(keep_lease=true).
    type: str
    choices: [kv, dynamic]
    default: kv
  keep_lease:
    description:
      - Keep the leases of dynamic credentials instead of revoking them at the end of the run; they end at their
        TTL. As Vault revokes a token's leases with the token, this also keeps the login token that created them.
    type: bool
    default: false
"""

    # Options only the modules use (lookups never delete); agentarea.secrets.secret documents them as well.
    MODULES = r"""
options:
  destroy_versions:
    description:
      - With C(state=absent) on a KV v2 C(vault://) reference, destroy these versions for good instead of
        soft-deleting the latest one (which C(vault kv undelete) can bring back). Lookups ignore it.
      - V(all) removes every version and the metadata of the secret; a second run finds nothing to remove.
      - With version numbers, pin one of them in the reference (C(?version=N)) so that a second run sees it
        destroyed and changes nothing; without a pin the module acts while the latest version is live.
    type: list
    elements: str
"""

    # Sources of the Vault-only options (env first, then the collection's names, which win).
    PLUGINS = r"""
options:
  url:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_VAULT_URL
    vars:
      - name: ansible_agentarea_secrets_vault_url
    ini:
      - section: agentarea_secrets_vault
        key: url
  namespace:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_VAULT_NAMESPACE
    vars:
      - name: ansible_agentarea_secrets_vault_namespace
    ini:
      - section: agentarea_secrets_vault
        key: namespace
  auth_method:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_VAULT_AUTH_METHOD
    vars:
      - name: ansible_agentarea_secrets_vault_auth_method
    ini:
      - section: agentarea_secrets_vault
        key: auth_method
  mount_point:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_VAULT_MOUNT_POINT
    vars:
      - name: ansible_agentarea_secrets_vault_mount_point
    ini:
      - section: agentarea_secrets_vault
        key: mount_point
  token:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_VAULT_TOKEN
    vars:
      - name: ansible_agentarea_secrets_vault_token
  token_file:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_VAULT_TOKEN_FILE
    vars:
      - name: ansible_agentarea_secrets_vault_token_file
    ini:
      - section: agentarea_secrets_vault
        key: token_file
  token_validate:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_VAULT_TOKEN_VALIDATE
    vars:
      - name: ansible_agentarea_secrets_vault_token_validate
    ini:
      - section: agentarea_secrets_vault
        key: token_validate
  role_id:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_VAULT_ROLE_ID
    vars:
      - name: ansible_agentarea_secrets_vault_role_id
    ini:
      - section: agentarea_secrets_vault
        key: role_id
  secret_id:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_VAULT_SECRET_ID
    vars:
      - name: ansible_agentarea_secrets_vault_secret_id
  username:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_VAULT_USERNAME
    vars:
      - name: ansible_agentarea_secrets_vault_username
    ini:
      - section: agentarea_secrets_vault
        key: username
  password:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_VAULT_PASSWORD
    vars:
      - name: ansible_agentarea_secrets_vault_password
  role:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_VAULT_ROLE
    vars:
      - name: ansible_agentarea_secrets_vault_role
    ini:
      - section: agentarea_secrets_vault
        key: role
  jwt:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_VAULT_JWT
    vars:
      - name: ansible_agentarea_secrets_vault_jwt
  kubernetes_token_path:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_VAULT_KUBERNETES_TOKEN_PATH
    vars:
      - name: ansible_agentarea_secrets_vault_kubernetes_token_path
    ini:
      - section: agentarea_secrets_vault
        key: kubernetes_token_path
  aws_access_key:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_VAULT_AWS_ACCESS_KEY
    vars:
      - name: ansible_agentarea_secrets_vault_aws_access_key
    ini:
      - section: agentarea_secrets_vault
        key: aws_access_key
  aws_secret_key:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_VAULT_AWS_SECRET_KEY
    vars:
      - name: ansible_agentarea_secrets_vault_aws_secret_key
  aws_session_token:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_VAULT_AWS_SESSION_TOKEN
    vars:
      - name: ansible_agentarea_secrets_vault_aws_session_token
  aws_profile:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_VAULT_AWS_PROFILE
    vars:
      - name: ansible_agentarea_secrets_vault_aws_profile
    ini:
      - section: agentarea_secrets_vault
        key: aws_profile
  aws_region:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_VAULT_AWS_REGION
    vars:
      - name: ansible_agentarea_secrets_vault_aws_region
    ini:
      - section: agentarea_secrets_vault
        key: aws_region
  aws_iam_server_id:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_VAULT_AWS_IAM_SERVER_ID
    vars:
      - name: ansible_agentarea_secrets_vault_aws_iam_server_id
    ini:
      - section: agentarea_secrets_vault
        key: aws_iam_server_id
  azure_tenant_id:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_VAULT_AZURE_TENANT_ID
    vars:
      - name: ansible_agentarea_secrets_vault_azure_tenant_id
    ini:
      - section: agentarea_secrets_vault
        key: azure_tenant_id
  azure_client_id:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_VAULT_AZURE_CLIENT_ID
    vars:
      - name: ansible_agentarea_secrets_vault_azure_client_id
    ini:
      - section: agentarea_secrets_vault
        key: azure_client_id
  azure_client_secret:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_VAULT_AZURE_CLIENT_SECRET
    vars:
      - name: ansible_agentarea_secrets_vault_azure_client_secret
  azure_resource:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_VAULT_AZURE_RESOURCE
    vars:
      - name: ansible_agentarea_secrets_vault_azure_resource
    ini:
      - section: agentarea_secrets_vault
        key: azure_resource
  azure_subscription_id:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_VAULT_AZURE_SUBSCRIPTION_ID
    vars:
      - name: ansible_agentarea_secrets_vault_azure_subscription_id
    ini:
      - section: agentarea_secrets_vault
        key: azure_subscription_id
  azure_resource_group_name:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_VAULT_AZURE_RESOURCE_GROUP_NAME
    vars:
      - name: ansible_agentarea_secrets_vault_azure_resource_group_name
    ini:
      - section: agentarea_secrets_vault
        key: azure_resource_group_name
  azure_vm_name:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_VAULT_AZURE_VM_NAME
    vars:
      - name: ansible_agentarea_secrets_vault_azure_vm_name
    ini:
      - section: agentarea_secrets_vault
        key: azure_vm_name
  azure_vmss_name:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_VAULT_AZURE_VMSS_NAME
    vars:
      - name: ansible_agentarea_secrets_vault_azure_vmss_name
    ini:
      - section: agentarea_secrets_vault
        key: azure_vmss_name
  gcp_credentials_file:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_VAULT_GCP_CREDENTIALS_FILE
    vars:
      - name: ansible_agentarea_secrets_vault_gcp_credentials_file
    ini:
      - section: agentarea_secrets_vault
        key: gcp_credentials_file
  gcp_service_account_info:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_VAULT_GCP_SERVICE_ACCOUNT_INFO
    vars:
      - name: ansible_agentarea_secrets_vault_gcp_service_account_info
  client_cert:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_VAULT_CLIENT_CERT
    vars:
      - name: ansible_agentarea_secrets_vault_client_cert
    ini:
      - section: agentarea_secrets_vault
        key: client_cert
  client_key:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_VAULT_CLIENT_KEY
    vars:
      - name: ansible_agentarea_secrets_vault_client_key
    ini:
      - section: agentarea_secrets_vault
        key: client_key
  proxies:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_VAULT_PROXIES
    vars:
      - name: ansible_agentarea_secrets_vault_proxies
    ini:
      - section: agentarea_secrets_vault
        key: proxies
  mount:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_VAULT_MOUNT
    vars:
      - name: ansible_agentarea_secrets_vault_mount
    ini:
      - section: agentarea_secrets_vault
        key: mount
  kv_version:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_VAULT_KV_VERSION
    vars:
      - name: ansible_agentarea_secrets_vault_kv_version
    ini:
      - section: agentarea_secrets_vault
        key: kv_version
  keep_token:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_VAULT_KEEP_TOKEN
    vars:
      - name: ansible_agentarea_secrets_vault_keep_token
    ini:
      - section: agentarea_secrets_vault
        key: keep_token
  keep_lease:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_VAULT_KEEP_LEASE
    vars:
      - name: ansible_agentarea_secrets_vault_keep_lease
    ini:
      - section: agentarea_secrets_vault
        key: keep_lease
"""

    # Sources of the options other backends share (ca_cert, validate_certs, timeout, retries). Only for the vault
    # lookup: in agentarea.secrets.secret a source declared here would feed every backend (VAULT_CACERT to
    # Kubernetes). There the Vault backend still reads VAULT_CACERT and ANSIBLE_AGENTAREA_SECRETS_VAULT_CA_CERT itself.
    LOOKUP_SHARED = r"""
options:
  ca_cert:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_VAULT_CA_CERT
    vars:
      - name: ansible_agentarea_secrets_vault_ca_cert
    ini:
      - section: agentarea_secrets_vault
        key: ca_cert
  validate_certs:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_VAULT_VALIDATE_CERTS
    vars:
      - name: ansible_agentarea_secrets_vault_validate_certs
    ini:
      - section: agentarea_secrets_vault
        key: validate_certs
  timeout:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_TIMEOUT
      - name: ANSIBLE_AGENTAREA_SECRETS_VAULT_TIMEOUT
    vars:
      - name: ansible_agentarea_secrets_timeout
      - name: ansible_agentarea_secrets_vault_timeout
  retries:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_RETRIES
      - name: ANSIBLE_AGENTAREA_SECRETS_VAULT_RETRIES
    vars:
      - name: ansible_agentarea_secrets_retries
      - name: ansible_agentarea_secrets_vault_retries
    ini:
      - section: agentarea_secrets_vault
        key: retries
"""
