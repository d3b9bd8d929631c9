# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWS credentials and errors for ``_aws.py``: which boto3 session to build, who it is (for cache keys, never a
credential), and how botocore exceptions become typed errors.

Credentials, first found wins: ``access_key``/``secret_key`` (+ ``session_token``), ``profile``, then boto3's own
chain (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``/``AWS_SESSION_TOKEN``, shared files, SSO, container and
instance roles). ``assume_role_arn`` then assumes a role with those; its temporary credentials are kept in the
(encrypted) run cache until five minutes before they expire, so a playbook run calls STS once.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.agentarea.secrets.plugins.module_utils.core._backend import iso, to_datetime, utc_now
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import (
    BackendUnavailable, InvalidOption, InvalidReference, SecretAccessDenied, SecretError, SecretNotFound,
    describe_exception,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.core._deps import requires
from ansible_collections.agentarea.secrets.plugins.module_utils.backends._cloud import hashed

_DENIED = ('AccessDeniedException', 'AccessDenied', '403', 'UnrecognizedClientException', 'InvalidSignatureException',
           'ExpiredTokenException', 'InvalidClientTokenId', 'SignatureDoesNotMatch', 'KMSAccessDeniedException')
_UNAVAILABLE = ('InternalServiceError', 'InternalFailure', 'ServiceUnavailable', 'RequestTimeout',
                'RequestTimeoutException')
#: the error codes botocore's retry handlers treat as throttling (and HTTP 429 without a known code)
_THROTTLED = ('Throttling', 'ThrottlingException', 'ThrottledException', 'RequestThrottledException',
              'TooManyRequestsException', 'RequestLimitExceeded', 'RequestThrottled', 'SlowDown')
RETRY_MODES = ('legacy', 'standard', 'adaptive')
RETRY_MODE_CHOICES = list(RETRY_MODES)  # an argument spec's choices (a list)
#: the ``retries`` option's default (declared as the Vault backend declares it); at the default, AWS_MAX_ATTEMPTS wins
DEFAULT_RETRIES = 3


def import_boto3(ref=None):
    boto3, _config = requires('boto3', 'botocore.config', package='boto3', ref=ref, backend='aws')
    return boto3


def error_code(exc):
    response = getattr(exc, 'response', None)
    return str(response.get('Error', {}).get('Code', '')) if isinstance(response, dict) else ''


def who(options, environ):
    """The identity part of a cache key: whose credentials, never the credentials."""
    if options.get('access_key'):
        return 'keys:' + hashed(options['access_key'])
    if options.get('profile'):
        return 'profile:' + options['profile']
    return 'env:%s:%s' % (hashed(environ.get('AWS_ACCESS_KEY_ID', '')), environ.get('AWS_PROFILE', ''))


def retry_settings(options, environ=None):
    """(retry mode, attempts in all) of a request: ``retry_mode`` (else AWS_RETRY_MODE, read into the options by
    the backend, else ``standard``) and ``retries`` + 1, except that ``retries`` left at its default gives way to
    the AWS CLI's AWS_MAX_ATTEMPTS (which counts the first attempt too)."""
    environ = environ or {}
    mode = options.get('retry_mode') or 'standard'
    retries = options.get('retries')
    attempts = None
    if retries is None or int(retries) == DEFAULT_RETRIES:
        try:
            attempts = int(environ.get('AWS_MAX_ATTEMPTS') or 0) or None
        except (TypeError, ValueError):
            attempts = None
    if attempts is None:
        attempts = (DEFAULT_RETRIES if retries is None else int(retries)) + 1
    return mode, max(1, attempts)


def botocore_config(options, environ=None):
    import botocore.config  # pylint: disable=import-outside-toplevel
    timeout = options.get('timeout') or 30
    mode, attempts = retry_settings(options, environ)
    # total_max_attempts counts the first attempt (max_attempts would count retries only)
    return botocore.config.Config(connect_timeout=timeout, read_timeout=timeout,
                                  retries={'mode': mode, 'total_max_attempts': attempts},
                                  user_agent_extra='agentarea.secrets')


# Most of the time boto3 takes to create a client goes into parsing botocore's JSON data (endpoint rules, the
# service model) and registering a new session's handlers. One data loader per process keeps the parsed data;
# warm() runs in the controller's main process (the run_cache callback) so that every forked worker inherits the
# parsed data and one unused session. Only data files and handlers: never credentials, regions or connections.
_LOADER = []
_WARM = {}


def warm():
    """Main process, before workers fork: parse Secrets Manager's model and endpoints into the shared loader, send
    one GetSecretValue to a loopback server (never AWS; dummy keys) so that what a first request builds is
    inherited too, and keep one fresh (never used, credential-free) botocore session for the next forked process."""
    # pylint: disable=import-outside-toplevel
    import json

    import botocore.config
    from ansible_collections.agentarea.secrets.plugins.module_utils.core._warmup import loopback
    boto3 = import_boto3()
    scratch = _boto3_session(boto3, region_name='us-east-1', aws_access_key_id='warm-up',
                             aws_secret_access_key='warm-up')
    scratch.client('secretsmanager')
    body = json.dumps({'ARN': 'arn:aws:secretsmanager:us-east-1:000000000000:secret:warm-up-AbCdEf', 'Name': 'warm-up',
                       'VersionId': 'warm-up', 'SecretString': '{}', 'VersionStages': ['AWSCURRENT'],
                       'CreatedDate': 1767225600.0})
    try:
        with loopback(body.encode('utf-8'), content_type='application/x-amz-json-1.1') as url:
            config = botocore.config.Config(proxies={}, connect_timeout=2, read_timeout=2,
                                            retries={'mode': 'standard', 'max_attempts': 1})
            client = scratch.client('secretsmanager', endpoint_url=url, config=config)
            client.get_secret_value(SecretId='warm-up', VersionStage='AWSCURRENT')
            client.close()
    finally:
        _WARM.clear()
        _WARM[os.getpid()] = _botocore_session(fresh=True)


def _botocore_session(fresh=False):
    """A botocore session sharing the process's data loader; in a forked worker, the one warm() left (once)."""
    import botocore.session  # pylint: disable=import-outside-toplevel
    if not fresh:
        for pid in [p for p in _WARM if p != os.getpid()]:
            return _WARM.pop(pid)  # inherited and unused: this process is its only user
    session = botocore.session.get_session()
    if _LOADER:
        session.register_component('data_loader', _LOADER[0])
    else:
        _LOADER.append(session.get_component('data_loader'))
    return session


def _boto3_session(boto3, **kwargs):
    session = boto3.session.Session(botocore_session=_botocore_session(), **kwargs)
    loader = getattr(session, '_loader', None)
    if loader is not None:  # boto3 appends its data path once per session, and the loader is shared
        loader.search_paths[:] = list(dict.fromkeys(loader.search_paths))
    return session


def make_session(options, cache=None, ident='', environ=None):
    """The one boto3 session of a backend instance."""
    boto3 = import_boto3()
    environ = environ or {}
    kwargs = {'region_name': options.get('region')}
    if options.get('access_key'):
        kwargs.update(aws_access_key_id=options['access_key'], aws_secret_access_key=options['secret_key'],
                      aws_session_token=options.get('session_token'))
    elif options.get('profile') and not (options['profile'] == environ.get('AWS_PROFILE')
                                         and environ.get('AWS_ACCESS_KEY_ID')):
        # A profile that only came from AWS_PROFILE while AWS_ACCESS_KEY_ID is set too is left to boto3, whose
        # chain then takes the keys first, as the AWS CLI does (AWX injects keys; a stray AWS_PROFILE must not win).
        kwargs['profile_name'] = options['profile']
    session = _boto3_session(boto3, **kwargs)
    if not options.get('assume_role_arn'):
        return session
    creds = role_credentials(session, options, cache, ident, environ)
    return _boto3_session(boto3, aws_access_key_id=creds['AccessKeyId'], aws_secret_access_key=creds['SecretAccessKey'],
                          aws_session_token=creds['SessionToken'], region_name=options.get('region'))


def role_credentials(session, options, cache, ident, environ=None):
    """STS credentials of ``assume_role_arn``: from the run cache while they have 5 minutes left, else assumed.
    STS is reached through boto3's usual endpoint resolution (``AWS_ENDPOINT_URL_STS``, ``AWS_ENDPOINT_URL``), not
    through ``endpoint_url``, which is the Secrets Manager endpoint."""
    ident = '%s|%s|%s' % (ident, options['assume_role_arn'], options.get('assume_role_session_name'))

    def cached():
        creds = cache.get('aws-role', ident) if cache is not None else None
        if creds and (to_datetime(creds.get('Expiration')) - utc_now()).total_seconds() > 300:
            return creds
        return None
    creds = cached()
    if creds is not None:
        return creds
    if cache is None:
        return _assume_role(session, options, environ)
    with cache.lock('aws-role', ident):  # single flight: workers that miss together assume the role once
        creds = cached()
        if creds is None:
            creds = _assume_role(session, options, environ)
            cache.put('aws-role', ident, creds)
    return creds


def _assume_role(session, options, environ=None):
    try:
        resp = session.client('sts', config=botocore_config(options, environ)).assume_role(
            RoleArn=options['assume_role_arn'],
            RoleSessionName=options.get('assume_role_session_name') or 'agentarea-secrets')
    except Exception as exc:  # pylint: disable=broad-except
        raise to_error(exc, None, 'assuming role %s' % options['assume_role_arn'],
                       context=context_of(options, environ))
    creds = dict((k, resp['Credentials'][k]) for k in ('AccessKeyId', 'SecretAccessKey', 'SessionToken'))
    creds['Expiration'] = iso(resp['Credentials']['Expiration'])
    return creds


def context_of(options, environ=None):
    """What an error message says about the configuration: timeout, retry mode and attempts."""
    mode, attempts = retry_settings(options, environ)
    return {'timeout': options.get('timeout') or 30, 'mode': mode, 'attempts': attempts}


def is_throttled(exc):
    response = getattr(exc, 'response', None)
    status = response.get('ResponseMetadata', {}).get('HTTPStatusCode') if isinstance(response, dict) else None
    return error_code(exc) in _THROTTLED or status == 429


def _down(error):
    """Mark an error that says the store itself is in trouble (throttling, timeouts, server errors, no endpoint),
    not this one secret: a batch of reads stops there (``AwsBackend.read_many``)."""
    error.store_down = True
    return error


def to_error(exc, ref, action, backend='aws', context=None):
    """A typed error for a botocore exception. AWS messages are left out (validation errors may echo a request
    value), except for denials, which name the principal, action and resource. ``context`` (:func:`context_of`)
    lets throttling and timeouts say how long and how often the request was tried."""
    if isinstance(exc, SecretError):
        return exc
    name, code = type(exc).__name__, error_code(exc)
    response = getattr(exc, 'response', None) if isinstance(getattr(exc, 'response', None), dict) else {}
    status = response.get('ResponseMetadata', {}).get('HTTPStatusCode')
    where = dict(ref=ref, backend=backend)
    context = context or {}
    if is_throttled(exc):
        tried = response.get('ResponseMetadata', {}).get('RetryAttempts')
        tried = (tried + 1) if isinstance(tried, int) else context.get('attempts')
        return _down(BackendUnavailable('%s: throttled by AWS (%s, HTTP %s), still after %s attempt(s) (retry mode '
                                        '%s); raise retries, use retry_mode adaptive, or lower the request rate'
                                        % (action, code or 'TooManyRequests', status, tried or '?',
                                           context.get('mode') or 'standard'), **where))
    if name in ('ReadTimeoutError', 'ConnectTimeoutError') or (name.endswith('TimeoutError') and not code):
        return _down(BackendUnavailable('%s: no answer within %s s (timeout), %s attempt(s) (%s); the store is slow '
                                        'or unreachable: raise timeout or check the endpoint'
                                        % (action, context.get('timeout', '?'), context.get('attempts', '?'), name),
                                        **where))
    if code == 'ResourceNotFoundException':
        return SecretNotFound('%s: no such secret, or no version with that stage or id' % action, **where)
    if code in _DENIED or status in (401, 403):
        msg = str(response.get('Error', {}).get('Message') or '')[:300]
        return SecretAccessDenied('%s: access denied (%s)%s' % (action, code or status, ': ' + msg if msg else ''),
                                  **where)
    if code == 'DecryptionFailure':
        return SecretAccessDenied('%s: KMS refused to decrypt the secret (kms:Decrypt on its key)' % action, **where)
    if name == 'NoCredentialsError':
        return InvalidOption('no AWS credentials found: set access_key and secret_key, profile or assume_role_arn, '
                             'or the AWS_* environment', **where)
    if name == 'NoRegionError':
        return InvalidOption('no AWS region: set region (or AWS_REGION)', **where)
    if name in ('ProfileNotFound', 'PartialCredentialsError'):
        return InvalidOption('%s: %s' % (action, describe_exception(exc)), **where)
    if name == 'ParamValidationError' or code in ('InvalidParameterException', 'ValidationException'):
        return InvalidReference('%s: AWS rejected the request (%s)' % (action, code or name), **where)
    if code in _UNAVAILABLE or (status or 0) >= 500 or 'Endpoint' in name or 'Timeout' in name:
        return _down(BackendUnavailable('%s: %s' % (action, describe_exception(exc)), **where))
    return BackendUnavailable('%s failed: %s%s' % (action, describe_exception(exc), ' ' + code if code else ''),
                              **where)
