# -*- coding: utf-8 -*-
"""AWS Systems Manager Parameter Store (``ssm://``) through ansible-playbook against moto's server (the harness's
``aws`` service, which serves SSM and KMS too): SecureString under a KMS key created in moto, version and label
selection, GetParametersByPath (recursive, over more than one page of 10), the secret module's writes (type, tier,
KMS key, tags, overwrite; check -> apply -> apply again -> clean up), secret_info, and the error of a missing name. The backend
contract (write/read/CAS/versions/list/tags/delete) is test_backend_contract.py's "ssm" row. Set-up and checks use
boto3 directly; every playbook runs with the canaries, so no value shows in any output.

moto's SSM does not check that a KeyId exists nor encrypt with it; the tests check that the key asked for is the
one the parameter records, which is what the real service checks too (and refuses with InvalidKeyId otherwise).
"""
import json

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.harness.cloud_helpers import play, prefix, sha  # noqa: F401 pylint: disable=unused-import

CANARY = "canary-4e1b9a70-ssm"
CANARY2 = "canary-d2c85f13-ssm"
CANARY3 = "canary-77a0be5c-ssm"
ALL = [CANARY, CANARY2, CANARY3]


@pytest.fixture(scope="module")
def aws(harness):
    return harness.start("aws")


def client(info, service):
    return boto3.client(service, endpoint_url=info["url"], region_name=info["region"],
                        aws_access_key_id=info["access_key"], aws_secret_access_key=info["secret_key"])


@pytest.fixture(scope="module")
def ssm(aws):  # pylint: disable=redefined-outer-name
    return client(aws, "ssm")


@pytest.fixture(scope="module")
def kms_key(aws):  # pylint: disable=redefined-outer-name
    return client(aws, "kms").create_key(Description="agentarea ssm tests")["KeyMetadata"]["KeyId"]


def describe(ssm, name):  # pylint: disable=redefined-outer-name
    found = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": [name]}])
    return found["Parameters"][0] if found["Parameters"] else None


def tags(ssm, name):  # pylint: disable=redefined-outer-name
    listed = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=name)["TagList"]
    return dict((t["Key"], t["Value"]) for t in listed)


def test_lookups_securestring_kms_versions_labels_and_both_name_forms(ansible, aws, ssm, kms_key, prefix):
    name = "/%s/db/password" % prefix
    ssm.put_parameter(Name=name, Value=CANARY, Type="SecureString", KeyId=kms_key)
    ssm.put_parameter(Name=name, Value=CANARY2, Type="SecureString", KeyId=kms_key, Overwrite=True)
    ssm.label_parameter_version(Name=name, ParameterVersion=1, Labels=["stable"])
    ssm.put_parameter(Name="/%s/db/json" % prefix, Type="SecureString", KeyId=kms_key,
                      Value=json.dumps({"user": "app", "password": CANARY3}))
    top = "%s-top" % prefix
    ssm.put_parameter(Name=top, Value=CANARY3, Type="String")
    assert describe(ssm, name)["KeyId"] == kms_key and describe(ssm, name)["Type"] == "SecureString"
    reads = play("""
        - name: read
          ansible.builtin.set_fact:
            current: "{{ lookup('agentarea.secrets.ssm', '%(n)s') }}"
            relative: "{{ lookup('agentarea.secrets.ssm', '%(p)s/db/password') }}"
            triple: "{{ lookup('agentarea.secrets.secret', 'ssm:///%(p)s/db/password') }}"
            double: "{{ lookup('agentarea.secrets.secret', 'ssm://%(p)s/db/password') }}"
            first: "{{ lookup('agentarea.secrets.ssm', '%(n)s', version='1') }}"
            stable: "{{ lookup('agentarea.secrets.ssm', '%(n)s', label='stable') }}"
            stable_ref: "{{ lookup('agentarea.secrets.secret', 'ssm://%(p)s/db/password?label=stable') }}"
            second_ref: "{{ lookup('agentarea.secrets.secret', 'ssm://%(p)s/db/password?version=2') }}"
            field: "{{ lookup('agentarea.secrets.ssm', '%(p)s/db/json', key='password') }}"
            whole: "{{ lookup('agentarea.secrets.ssm', 'ssm://%(p)s/db/json') }}"
            top: "{{ lookup('agentarea.secrets.ssm', '%(top)s') }}"
            batch: "{{ query('agentarea.secrets.ssm', '%(n)s', '%(top)s', '%(p)s/nope', on_missing='skip') }}"
          no_log: true
        - name: check
          ansible.builtin.assert:
            that:
              - current | hash('sha256') == '%(h2)s'
              - relative | hash('sha256') == '%(h2)s'
              - triple | hash('sha256') == '%(h2)s'
              - double | hash('sha256') == '%(h2)s'
              - first | hash('sha256') == '%(h)s'
              - stable | hash('sha256') == '%(h)s'
              - stable_ref | hash('sha256') == '%(h)s'
              - second_ref | hash('sha256') == '%(h2)s'
              - field | hash('sha256') == '%(h3)s'
              - whole.user == 'app' and whole.password | hash('sha256') == '%(h3)s'
              - top | hash('sha256') == '%(h3)s'
              - batch | map('hash', 'sha256') | list == ['%(h2)s', '%(h3)s']
            quiet: true
    """ % {"n": name, "p": prefix, "top": top, "h": sha(CANARY), "h2": sha(CANARY2), "h3": sha(CANARY3)})
    ansible.playbook(reads, env=aws["env"], canaries=ALL)
    ansible.playbook(reads, env=aws["env"], canaries=ALL, verbosity=4)
    # options as lookup arguments instead of the environment: ssm_endpoint_url and the AWS connection options
    explicit = play("""
        - name: explicit
          ansible.builtin.assert:
            that: lookup('agentarea.secrets.ssm', '%(n)s', ssm_endpoint_url='%(url)s', region='%(region)s',
                         access_key='testing', secret_key='testing') | hash('sha256') == '%(h2)s'
            quiet: true
    """ % {"n": name, "url": aws["url"], "region": aws["region"], "h2": sha(CANARY2)})
    ansible.playbook(explicit, canaries=ALL)
    ssm.delete_parameters(Names=[name, "/%s/db/json" % prefix, top])


def test_bypath_recursive_and_paginated(ansible, aws, ssm, prefix):
    expected = {}
    for i in range(24):  # more than one page of 10, below the path and in the tree
        name = "/%s/app/%s%02d" % (prefix, "nested/" if i % 4 == 0 else "", i)
        value = "%s-%02d" % (CANARY, i)
        ssm.put_parameter(Name=name, Value=value, Type="SecureString" if i % 2 else "String")
        expected[name] = value
    direct = dict((k, v) for k, v in expected.items() if "/nested/" not in k)
    assert len(direct) == 18 and len(expected) == 24
    reads = play("""
        - name: read
          ansible.builtin.set_fact:
            tree: "{{ lookup('agentarea.secrets.ssm', '/%(p)s/app', bypath=true, recursive=true) }}"
            flat: "{{ lookup('agentarea.secrets.ssm', '%(p)s/app', bypath=true) }}"
            by_ref: "{{ lookup('agentarea.secrets.secret', 'ssm://%(p)s/app?bypath=true&recursive=true') }}"
            one: "{{ lookup('agentarea.secrets.secret', 'ssm://%(p)s/app?bypath=true#/%(p)s/app/01') }}"
            empty: "{{ lookup('agentarea.secrets.ssm', '/%(p)s/nothing', bypath=true, on_missing='skip')
                       | default('none', true) }}"
          no_log: true
        - name: check
          ansible.builtin.assert:
            that:
              - tree | length == 24 and by_ref | length == 24
              - flat | length == %(direct)d
              - (tree | dict2items | map(attribute='value') | map('hash', 'sha256') | sort) == %(tree_h)s
              - (flat | dict2items | map(attribute='key') | sort) == %(flat_keys)s
              - one | hash('sha256') == '%(one_h)s'
              - empty == 'none'
            quiet: true
    """ % {"p": prefix, "direct": len(direct), "tree_h": json.dumps(sorted(sha(v) for v in expected.values())),
           "flat_keys": json.dumps(sorted(direct)), "one_h": sha(expected["/%s/app/01" % prefix])})
    ansible.playbook(reads, env=aws["env"], canaries=ALL + list(expected.values()))
    ssm.delete_parameters(Names=sorted(expected))


def test_description_is_written_changed_alone_and_kept_when_unset(ansible, aws, ssm, prefix):
    """amazon.aws.ssm_parameter's ``description``: set on create, a change alone writes the value again (SSM has
    no other way), unset keeps it; check mode and a second run change nothing. One playbook, a task per step."""
    name = "/%s/described" % prefix
    steps = play("""
        - name: create
          agentarea.secrets.secret: {ref: "ssm://%(p)s/described", value: "{{ value }}", description: first}
          register: created
        - name: again
          agentarea.secrets.secret: {ref: "ssm://%(p)s/described", value: "{{ value }}", description: first}
        - name: check
          agentarea.secrets.secret: {ref: "ssm://%(p)s/described", value: "{{ value }}", description: second}
          check_mode: true
        - name: checked
          agentarea.secrets.secret_info: {ref: "ssm://%(p)s/described"}
        - name: change
          agentarea.secrets.secret: {ref: "ssm://%(p)s/described", value: "{{ value }}", description: second}
        - name: unchanged
          agentarea.secrets.secret: {ref: "ssm://%(p)s/described", value: "{{ value }}", description: second}
        - name: new value, description unset
          agentarea.secrets.secret: {ref: "ssm://%(p)s/described", value: "{{ value2 }}"}
        - name: info
          agentarea.secrets.secret_info: {ref: "ssm://%(p)s/described"}
    """ % {"p": prefix})
    run = ansible.playbook(steps, extra_vars={"value": CANARY, "value2": CANARY2}, env=aws["env"], diff=True,
                           canaries=ALL, allowed_files=["_extra_vars.json"])
    created, again, check = run.task("create"), run.task("again"), run.task("check")
    assert created["changed"] and created["action"] == "created" and created["version"] == "1"
    assert not again["changed"]
    assert check["changed"] and check["action"] == "tagged"
    assert run.task("checked")["metadata"]["description"] == "first" and run.task("checked")["version"] == "1"
    change = run.task("change")
    assert change["changed"] and change["action"] == "tagged" and change["version"] == "2"
    assert change["fingerprint"] == created["fingerprint"]
    assert not run.task("unchanged")["changed"]
    assert run.task("new value, description unset")["action"] == "updated"
    info = run.task("info")
    assert info["version"] == "3" and info["metadata"]["description"] == "second"
    assert describe(ssm, name)["Description"] == "second"
    assert ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"] == CANARY2


def test_secret_module_type_tier_kms_tags_and_overwrite(ansible, aws, ssm, kms_key, prefix):
    name = "/%s/api/token" % prefix
    env = aws["env"]
    write = play("""
        - name: write
          agentarea.secrets.secret:
            ref: ssm://%(p)s/api/token
            value: "{{ value }}"
            ssm_tier: Advanced
            ssm_key_id: %(key)s
            tags: "{{ tags }}"
          register: written
    """ % {"p": prefix, "key": kms_key})
    first = {"value": CANARY, "tags": {"owner": "platform", "env": "test"}}
    # check mode: nothing is written
    checked = ansible.playbook(write, extra_vars=first, env=env, check=True, canaries=ALL, allowed_files=["_extra_vars.json"])
    assert checked.task("write")["changed"] and checked.task("write")["action"] == "created"
    assert describe(ssm, name) is None
    created = ansible.playbook(write, extra_vars=first, env=env, canaries=ALL, allowed_files=["_extra_vars.json"]).task("write")
    assert created["changed"] and created["action"] == "created" and created["version"] == "1"
    desc = describe(ssm, name)
    assert (desc["Type"], desc["Tier"], desc["KeyId"]) == ("SecureString", "Advanced", kms_key)
    assert tags(ssm, name) == {"owner": "platform", "env": "test"}
    assert ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"] == CANARY
    # idempotent: the same value and tags change nothing
    again = ansible.playbook(write, extra_vars=first, env=env, canaries=ALL, allowed_files=["_extra_vars.json"]).task("write")
    assert not again["changed"] and again["version"] == "1" and again["fingerprint"] == created["fingerprint"]
    # tags alone: no new version
    retag = dict(first, tags={"owner": "security"})
    tagged = ansible.playbook(write, extra_vars=retag, env=env, canaries=ALL, allowed_files=["_extra_vars.json"]).task("write")
    assert tagged["changed"] and tagged["action"] == "tagged" and tagged["version"] == "1"
    assert tags(ssm, name) == {"owner": "security"}
    # a new value: a new version (Overwrite), tier and key kept
    second = dict(retag, value=CANARY2)
    updated = ansible.playbook(write, extra_vars=second, env=env, canaries=ALL, allowed_files=["_extra_vars.json"]).task("write")
    assert updated["changed"] and updated["action"] == "updated" and updated["version"] == "2"
    assert updated["previous_version"] == "1" and updated["fingerprint"] != created["fingerprint"]
    assert describe(ssm, name)["Tier"] == "Advanced"
    info = play("""
        - name: info
          agentarea.secrets.secret_info:
            ref: ssm://%(p)s/api/token
    """ % {"p": prefix})
    facts = ansible.playbook(info, env=env, canaries=ALL).task("info")
    assert facts["exists"] and facts["version"] == "2" and facts["fingerprint"] == updated["fingerprint"]
    assert [v["version"] for v in facts["versions"]] == ["1", "2"]
    assert facts["metadata"]["tags"] == {"owner": "security"} and facts["metadata"]["tier"] == "Advanced"
    # ssm_overwrite: false never replaces an existing value (a conflict naming the reference and the store)
    no_overwrite = play("""
        - name: keep
          agentarea.secrets.secret:
            ref: ssm://%(p)s/api/token
            value: "{{ value }}"
            ssm_overwrite: false
    """ % {"p": prefix})
    refused = ansible.playbook(no_overwrite, extra_vars={"value": CANARY3}, env=env, canaries=ALL, expect_rc=2,
                               allowed_files=["_extra_vars.json"])
    assert "ssm_overwrite is false" in refused.output and "ssm://%s/api/token" % prefix in refused.output
    assert ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"] == CANARY2
    # a type change alone writes the same value again (a new version), and is idempotent afterwards
    as_string = play("""
        - name: retype
          agentarea.secrets.secret:
            ref: ssm://%(p)s/api/token
            value: "{{ value }}"
            ssm_type: String
          register: retyped
    """ % {"p": prefix})
    retyped = ansible.playbook(as_string, extra_vars={"value": CANARY2}, env=env, canaries=ALL,
                               allowed_files=["_extra_vars.json"]).task("retype")
    assert retyped["changed"] and retyped["action"] == "tagged" and retyped["version"] == "3"
    assert describe(ssm, name)["Type"] == "String"
    assert not ansible.playbook(as_string, extra_vars={"value": CANARY2}, env=env, canaries=ALL,
                                allowed_files=["_extra_vars.json"]).task("retype")["changed"]
    # one field of a JSON parameter, then delete: check mode, apply, apply again
    field = play("""
        - name: field
          agentarea.secrets.secret:
            ref: ssm://%(p)s/api/json#password
            value: "{{ value }}"
          register: field
    """ % {"p": prefix})
    ssm.put_parameter(Name="/%s/api/json" % prefix, Type="SecureString", Value=json.dumps({"user": "app"}))
    assert ansible.playbook(field, extra_vars={"value": CANARY3}, env=env, canaries=ALL,
                            allowed_files=["_extra_vars.json"]).task("field")["changed"]
    stored = json.loads(ssm.get_parameter(Name="/%s/api/json" % prefix, WithDecryption=True)["Parameter"]["Value"])
    assert stored == {"user": "app", "password": CANARY3}
    delete = play("""
        - name: delete
          agentarea.secrets.secret:
            ref: "{{ item }}"
            state: absent
          loop: ['ssm://%(p)s/api/token', 'ssm:///%(p)s/api/json']
          register: deleted
    """ % {"p": prefix})
    assert ansible.playbook(delete, env=env, check=True, canaries=ALL).task("delete")["changed"]
    assert describe(ssm, name) is not None
    assert ansible.playbook(delete, env=env, canaries=ALL).task("delete")["changed"]
    assert describe(ssm, name) is None and describe(ssm, "/%s/api/json" % prefix) is None
    assert not ansible.playbook(delete, env=env, canaries=ALL).task("delete")["changed"]


def test_missing_parameter_error_names_reference_and_store(ansible, aws, ssm, prefix):
    ssm.put_parameter(Name="/%s/present" % prefix, Value=CANARY, Type="SecureString")
    for term in ("'%s/absent'" % prefix, "'%s/present', label='nolabel'" % prefix):
        failing = play("""
            - name: read
              ansible.builtin.debug:
                msg: "{{ lookup('agentarea.secrets.ssm', %s) | length }}"
        """ % term)
        result = ansible.playbook(failing, env=aws["env"], canaries=ALL, expect_rc=2)
        assert "ssm://%s/" % prefix in result.output and "ssm '" in result.output, result
        assert "ParameterNotFound" in result.output or "ParameterVersionNotFound" in result.output, result
        assert "Traceback" not in result.output
    skipped = play("""
        - name: read
          ansible.builtin.assert:
            that: lookup('agentarea.secrets.ssm', '%s/absent', on_missing='skip') | default('none', true) == 'none'
            quiet: true
    """ % prefix)
    ansible.playbook(skipped, env=aws["env"], canaries=ALL)
    try:
        ssm.delete_parameter(Name="/%s/present" % prefix)
    except ClientError:
        pass
