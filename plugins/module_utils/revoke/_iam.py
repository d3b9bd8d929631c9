# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Revoke the access keys of a leaked AWS IAM user: deactivate (reversible) or delete every key except those kept,
reporting key ids (which are not secrets) and when each was last used. See ``_revoke.py`` for the common rules."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.agentarea.secrets.plugins.module_utils.core._backend import iso
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import SecretError, SecretNotFound

GLOBAL_REGION = 'us-east-1'


def iam_client(aws_backend, endpoint_url=None):
    """An IAM client with the AWS backend's credentials (keys, profile, assumed role). Its ``endpoint_url`` is the
    Secrets Manager endpoint, so IAM takes its own, else boto3's (``AWS_ENDPOINT_URL_IAM``, ``AWS_ENDPOINT_URL``)."""
    from ansible_collections.agentarea.secrets.plugins.module_utils.backends.aws._auth import (
        botocore_config, make_session, to_error,
    )
    try:
        session = make_session(aws_backend.options, aws_backend.cache, aws_backend.identity())
        # IAM is global: without a configured region, sign for the aws partition's (us-east-1)
        region = session.region_name or GLOBAL_REGION
        return session.client('iam', region_name=region, endpoint_url=endpoint_url or None,
                              config=botocore_config(aws_backend.options))
    except Exception as exc:  # pylint: disable=broad-except
        raise to_error(exc, None, 'connecting to IAM')


def _iam_call(what, func, **kwargs):
    from ansible_collections.agentarea.secrets.plugins.module_utils.backends.aws._auth import error_code, to_error
    try:
        return func(**kwargs)
    except Exception as exc:  # pylint: disable=broad-except
        if error_code(exc) == 'NoSuchEntity':
            raise SecretNotFound('%s: no such IAM user or access key' % what, backend='aws') from None
        raise to_error(exc, None, what) from None


def list_access_keys(iam, user):
    keys, marker = [], None
    while True:
        kwargs = {'UserName': user}
        if marker:
            kwargs['Marker'] = marker
        resp = _iam_call("listing the access keys of IAM user '%s'" % user, iam.list_access_keys, **kwargs)
        keys.extend(resp.get('AccessKeyMetadata') or [])
        if not resp.get('IsTruncated'):
            return keys
        marker = resp.get('Marker')


def last_used(iam, key_id):
    try:
        used = _iam_call('reading when an access key was last used', iam.get_access_key_last_used,
                         AccessKeyId=key_id).get('AccessKeyLastUsed') or {}
    except SecretError:
        return {}
    out = {'last_used': iso(used.get('LastUsedDate'))}
    for src, dst in (('ServiceName', 'last_used_service'), ('Region', 'last_used_region')):
        if used.get(src) and used[src] != 'N/A':
            out[dst] = used[src]
    return out


def revoke_access_keys(iam, spec, report, own_key_id=None):
    """Deactivate (default) or delete every access key of ``spec['user']`` not in ``keep_access_key_ids``. A key
    this task signs with is done last, so the others are done before it stops working."""
    user, action = spec['user'], spec.get('action') or 'deactivate'
    keep = set(spec.get('keep_access_key_ids') or [])
    out = {'user': user, 'action': action, 'keys': []}
    try:
        keys = list_access_keys(iam, user)
    except SecretError as exc:
        report.failed("IAM user '%s'" % user, exc, 'revoke.aws_access_key', out, backend='aws', user=user)
        return out
    ids = [k['AccessKeyId'] for k in keys]
    out['kept'] = sorted(keep & set(ids))
    missing = sorted(keep - set(ids))
    if missing:
        out['keep_not_found'] = missing
        report.note("keep_access_key_ids names keys that IAM user '%s' does not have: %s" % (user, ', '.join(missing)))
    keys.sort(key=lambda k: k['AccessKeyId'] == own_key_id)
    count = 0
    for key in keys:
        key_id = key['AccessKeyId']
        item = {'access_key_id': key_id, 'status': key.get('Status'), 'created': iso(key.get('CreateDate'))}
        item.update(last_used(iam, key_id))
        out['keys'].append(item)
        if key_id in keep:
            item['state'] = 'kept'
            continue
        if action == 'deactivate' and key.get('Status') != 'Active':
            item['state'] = 'none'
            continue
        if key_id == own_key_id:
            report.note('access key %s, which this task signs its requests with, was %s last' % (key_id, action + 'd'))
        try:
            if not report.check_mode:
                if action == 'delete':
                    _iam_call('deleting access key %s' % key_id, iam.delete_access_key, UserName=user,
                              AccessKeyId=key_id)
                else:
                    _iam_call('deactivating access key %s' % key_id, iam.update_access_key, UserName=user,
                              AccessKeyId=key_id, Status='Inactive')
        except SecretError as exc:
            report.failed("access key %s of IAM user '%s'" % (key_id, user), exc, 'revoke.aws_access_key', item,
                          backend='aws', user=user, access_key_id=key_id)
            continue
        item['state'] = ('would_' + action) if report.check_mode else (action + 'd')
        count += 1
        report.done('aws_access_keys', 1, 'revoke.aws_access_key', backend='aws', user=user, access_key_id=key_id,
                    how=action)
    out['state'] = report.state(count) if not any(k.get('state') == 'failed' for k in out['keys']) else 'failed'
    return out
