# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment:
    # Options of the AWS Secrets Manager backend (aws:// references), for lookups and modules alike.
    DOCUMENTATION = r"""
options:
  region:
    description:
      - AWS region of the secrets (aws:// references), such as C(eu-west-1).
      - Defaults to E(ANSIBLE_AGENTAREA_SECRETS_AWS_REGION), then E(AWS_REGION), then E(AWS_DEFAULT_REGION), then
        the profile's region.
    type: str
  profile:
    description:
      - Named profile of the AWS shared configuration files (aws:// references).
      - Defaults to E(ANSIBLE_AGENTAREA_SECRETS_AWS_PROFILE), then E(AWS_PROFILE). O(access_key) and O(secret_key)
        win over it; so do E(AWS_ACCESS_KEY_ID) and E(AWS_SECRET_ACCESS_KEY) over a profile that only comes from
        E(AWS_PROFILE), as with the AWS CLI.
    type: str
  access_key:
    description:
      - AWS access key ID (aws:// references), with O(secret_key) and, for temporary credentials, O(session_token).
      - Defaults to E(ANSIBLE_AGENTAREA_SECRETS_AWS_ACCESS_KEY). When neither keys nor O(profile) are set, boto3's
        own chain applies unchanged (E(AWS_ACCESS_KEY_ID), E(AWS_SECRET_ACCESS_KEY), E(AWS_SESSION_TOKEN) as AWX's
        AWS credential injects them, the shared files, SSO, container and instance roles).
    type: str
  secret_key:
    description:
      - AWS secret access key that goes with O(access_key). Defaults to E(ANSIBLE_AGENTAREA_SECRETS_AWS_SECRET_KEY).
    type: str
  session_token:
    description:
      - AWS session token of temporary credentials, with O(access_key) and O(secret_key).
      - Defaults to E(ANSIBLE_AGENTAREA_SECRETS_AWS_SESSION_TOKEN).
    type: str
  assume_role_arn:
    description:
      - Assume this IAM role with the credentials above and use the role's temporary credentials.
      - Lookups assume the role once per playbook run (the run's broker keeps its credentials).
      - STS is reached through boto3's usual endpoint (E(AWS_ENDPOINT_URL_STS), E(AWS_ENDPOINT_URL)), not
        O(endpoint_url).
      - Defaults to E(ANSIBLE_AGENTAREA_SECRETS_AWS_ASSUME_ROLE_ARN).
    type: str
  assume_role_session_name:
    description: Session name for O(assume_role_arn) (shows in CloudTrail).
    type: str
    default: agentarea-secrets
  endpoint_url:
    description:
      - Secrets Manager endpoint to use instead of the region's, such as a VPC endpoint or a local emulator.
      - Defaults to E(ANSIBLE_AGENTAREA_SECRETS_AWS_ENDPOINT_URL), then E(AWS_ENDPOINT_URL_SECRETSMANAGER), then
        E(AWS_ENDPOINT_URL).
    type: str
  timeout:
    description:
      - Seconds to wait for the store to answer.
    type: int
    default: 30
  retries:
    description:
      - How often to retry a request after a connection error, a timeout, or an answer that says to (throttling
        such as C(ThrottlingException) or HTTP 429, a server error), with back-off as O(retry_mode) says.
        V(0) disables retries.
      - For C(aws://) references, botocore makes O(retries) + 1 attempts in all. Left at its default, the AWS CLI's
        E(AWS_MAX_ATTEMPTS) (which counts the first attempt too) applies when set. Defaults to
        E(ANSIBLE_AGENTAREA_SECRETS_AWS_RETRIES).
      - A lookup of many C(aws://) secrets reads them in batches of 20 (BatchGetSecretValue); a batch still throttled
        after its retries is split in halves, and what a batch does not return is read one by one.
    type: raw
    default: 3
  retry_mode:
    description:
      - botocore's retry mode for C(aws://) references; C(adaptive) also slows the client down while AWS throttles.
      - Defaults to E(ANSIBLE_AGENTAREA_SECRETS_AWS_RETRY_MODE), then E(AWS_RETRY_MODE), then C(standard).
    type: str
    choices: [legacy, standard, adaptive]
"""

    # Which version is read (or labelled, by agentarea.secrets.secret); the DOCUMENTATION options are the
    # connection alone (the backend's CONNECTION), which access_policy takes as well.
    READ = r"""
options:
  version_stage:
    description:
      - Staging label to read, such as C(AWSPREVIOUS) or C(AWSPENDING), when the reference has no C(?stage=) or
        C(?version=). Neither set means C(AWSCURRENT).
      - With the M(agentarea.secrets.secret) module, the label a new version gets (C(AWSCURRENT) moves the current
        label, any other leaves readers on the current version).
    type: str
  version_id:
    description:
      - Version ID to read when the reference has no C(?version=) or C(?stage=). With O(version_stage) as well,
        AWS checks that the version carries that label.
    type: str
  binary_encoding:
    description:
      - How a binary AWS secret (C(SecretBinary)) is returned, and how a value is written. Unset or V(bytes) means
        binary secrets are read as bytes and text values are written as C(SecretString).
      - V(base64) returns C(SecretBinary) as its base64 text, and the M(agentarea.secrets.secret) module writes its
        value, which must then be base64 text, as C(SecretBinary) (so a second run compares equal and writes
        nothing). Secrets that hold text are read as they are.
    type: str
    choices: [bytes, base64]
"""

    # Module-only options (lookups never write or delete).
    MODULES = r"""
options:
  recovery_window_days:
    description:
      - With C(state=absent) on an C(aws://) reference, days (7 to 30) during which the deleted secret can be
        restored. AWS's default is 30. Excludes O(force_delete).
    type: int
  force_delete:
    description:
      - With C(state=absent), delete without a chance to recover. AWS deletes at once
        (C(ForceDeleteWithoutRecovery)); Azure Key Vault purges the soft-deleted secret after deleting it. Google
        Secret Manager always deletes for good.
    type: bool
    default: false
  kms_key_id:
    description:
      - KMS key (ID, ARN or alias) that encrypts a secret the module creates in AWS; for an existing secret, a
        different key here applies from the next value written.
      - Unset means the account's C(aws/secretsmanager) key.
    type: str
  description:
    description:
      - Description of a secret the module writes in AWS Secrets Manager (C(CreateSecret), else C(UpdateSecret)
        without a new value). A change alone changes no version. Unset keeps the current one.
      - For an C(ssm://) parameter, its description (C(PutParameter)). A change alone writes the current value again
        (a new version with the same value), as SSM has no other way to change it.
    type: str
  resource_policy:
    description:
      - Resource policy of a secret the module writes in AWS (a dict, or its JSON text). Compared with the secret's
        as normalised JSON, so key order and spacing change nothing; a difference is applied with
        C(PutResourcePolicy). V({}) or an empty string removes it (C(DeleteResourcePolicy)). Unset leaves it.
    type: raw
  replica_regions:
    description:
      - Regions an AWS secret the module writes is replicated to, as region names or dicts with C(region) and
        C(kms_key_id). The list is the whole set wanted; regions missing from it are removed from replication
        (C(RemoveRegionsFromReplication)), new ones added (C(ReplicateSecretToRegions), with the secret's creation
        for a new one). V([]) removes every replica. Unset leaves them.
    type: list
    elements: raw
  rotation_lambda:
    description:
      - ARN of the Lambda function that rotates an AWS secret the module writes, for teams that keep AWS's own
        rotation (C(RotateSecret) with C(RotateImmediately=false), so it is configured, not rotated now). Applied when the
        secret's rotation is off or has another function or interval. An empty string turns rotation off
        (C(CancelRotateSecret)). Unset leaves rotation as it is.
      - A secret with AWS rotation on is left alone by M(agentarea.secrets.rotate) unless O(rotate_lambda_managed).
    type: str
  rotation_interval:
    description:
      - Days (1 to 1000) between AWS's rotations by O(rotation_lambda) (C(RotationRules.AutomaticallyAfterDays)).
        Unset keeps the current interval.
    type: int
  rotate_lambda_managed:
    description:
      - Let M(agentarea.secrets.rotate) rotate an AWS secret that AWS rotates with its own Lambda function
        (C(RotationEnabled)). Unset, such a secret is left alone and the task fails with a message naming it, as
        two rotators would undo each other's work.
    type: bool
    default: false
"""

    # Sources of the AWS-only options (native variables first, then the collection's, which win).
    PLUGINS = r"""
options:
  region:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_AWS_REGION
    vars:
      - name: ansible_agentarea_secrets_aws_region
    ini:
      - section: agentarea_secrets_aws
        key: region
  profile:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_AWS_PROFILE
    vars:
      - name: ansible_agentarea_secrets_aws_profile
    ini:
      - section: agentarea_secrets_aws
        key: profile
  access_key:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_AWS_ACCESS_KEY
    vars:
      - name: ansible_agentarea_secrets_aws_access_key
  secret_key:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_AWS_SECRET_KEY
    vars:
      - name: ansible_agentarea_secrets_aws_secret_key
  session_token:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_AWS_SESSION_TOKEN
    vars:
      - name: ansible_agentarea_secrets_aws_session_token
  assume_role_arn:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_AWS_ASSUME_ROLE_ARN
    vars:
      - name: ansible_agentarea_secrets_aws_assume_role_arn
    ini:
      - section: agentarea_secrets_aws
        key: assume_role_arn
  endpoint_url:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_AWS_ENDPOINT_URL
    vars:
      - name: ansible_agentarea_secrets_aws_endpoint_url
    ini:
      - section: agentarea_secrets_aws
        key: endpoint_url
  retry_mode:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_AWS_RETRY_MODE
    vars:
      - name: ansible_agentarea_secrets_aws_retry_mode
    ini:
      - section: agentarea_secrets_aws
        key: retry_mode
"""

    # Sources of the options other backends share (timeout, retries). Only for the aws lookup: in
    # agentarea.secrets.secret a source declared here would feed every backend.
    LOOKUP_SHARED = r"""
options:
  timeout:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_TIMEOUT
      - name: ANSIBLE_AGENTAREA_SECRETS_AWS_TIMEOUT
    vars:
      - name: ansible_agentarea_secrets_timeout
      - name: ansible_agentarea_secrets_aws_timeout
  retries:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_RETRIES
      - name: ANSIBLE_AGENTAREA_SECRETS_AWS_RETRIES
    vars:
      - name: ansible_agentarea_secrets_retries
      - name: ansible_agentarea_secrets_aws_retries
    ini:
      - section: agentarea_secrets_aws
        key: retries
"""
