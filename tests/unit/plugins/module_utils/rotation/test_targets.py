# -*- coding: utf-8 -*-
"""What the rotation targets declare (their options, their driver) and the admin connection they share."""

import inspect
import sys

import pytest

from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import MissingDependency
from ansible_collections.agentarea.secrets.plugins.module_utils.revoke._sessions import session_option_spec
from ansible_collections.agentarea.secrets.plugins.module_utils.rotation._engine import (
    KINDS, Rotation, target_class, target_option_spec,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.rotation._contract import ContractSteps
from ansible_collections.agentarea.secrets.plugins.module_utils.rotation._resume import ResumeSteps
from ansible_collections.agentarea.secrets.plugins.module_utils.rotation._steps import RotationSteps
from ansible_collections.agentarea.secrets.plugins.module_utils.rotation.targets._base import (
    DatabaseTarget, Target, TargetRejected, merge_option_specs,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.rotation import _contract, _engine, _resume, _steps


def test_the_target_option_is_the_union_of_what_each_target_declares():
    spec = target_option_spec()
    own = {}
    for kind in KINDS:
        for name, option in target_class(kind).option_spec().items():
            assert spec[name] == option, (kind, name)
            own.setdefault(name, set()).add(kind)
    assert set(spec) == set(own)
    # a database's connection options are its own, shared ones come from DatabaseTarget
    assert own['sslmode'] == {'postgres'} and own['tls'] == {'redis'} and own['user_host'] == {'mysql'}
    assert own['admin_password'] == {'postgres', 'mysql', 'redis'} and spec['admin_password']['no_log'] is True
    assert own['publish_previous'] == {'static', 'jwt'} and own['register'] == {'api_key'}
    assert spec['algorithm']['choices'] == ['HS256', 'HS512', 'RS256', 'ES256', 'EdDSA']


def test_every_option_a_target_reads_is_declared():
    """``opt(name)`` of an undeclared name would always be None: the module would drop what a user wrote."""
    internal = {'overlap_seconds', 'socket_dir'}  # set by the engine, and by the modules from target.socket
    for kind in KINDS:
        cls = target_class(kind)
        read = set()
        for klass in cls.__mro__[:-1]:  # not object
            source = inspect.getsource(klass)
            read.update(part.split("'")[0] for part in source.split("self.opt('")[1:])
        missing = read - set(cls.option_spec()) - internal
        assert not missing, (kind, missing)


def test_two_targets_declaring_one_option_differently_is_an_error():
    class One(Target):
        OPTIONS = dict(port=dict(type='int'))

    class Other(Target):
        OPTIONS = dict(port=dict(type='str'))

    class Same(Target):
        OPTIONS = dict(port=dict(type='int'))

    assert merge_option_specs([One, Same]) == {'port': {'type': 'int'}}
    with pytest.raises(ValueError, match='port is declared differently by One and Other'):
        merge_option_specs([One, Other])


def test_option_specs_are_copies():
    spec = target_option_spec()
    spec['register']['options']['status_codes']['default'].append(500)
    assert 500 not in target_option_spec()['register']['options']['status_codes']['default']


def test_revoke_sessions_take_the_database_targets_connection_options():
    spec = session_option_spec()
    assert spec['kind'] == {'type': 'str', 'required': True, 'choices': ['postgres', 'mysql', 'redis']}
    assert spec['username'] == {'type': 'str', 'required': True}
    assert spec['disable_login'] == {'type': 'bool', 'default': False}
    connection = dict((k, v) for k, v in spec.items() if k not in ('kind', 'username', 'disable_login'))
    for kind in ('postgres', 'mysql', 'redis'):
        for name, option in target_class(kind).connection_spec().items():
            assert name == 'username' or connection[name] == option
    assert 'url_template' not in spec and 'acl_rules' not in spec


@pytest.mark.parametrize('kind, module, package', [('postgres', 'psycopg', 'psycopg'), ('mysql', 'pymysql', 'PyMySQL'),
                                                   ('redis', 'redis', 'redis'), ('jwt', 'jwt', 'PyJWT')])
def test_a_missing_driver_names_its_package_and_the_target(monkeypatch, kind, module, package):
    monkeypatch.setitem(sys.modules, module, None)  # import raises ImportError
    with pytest.raises(MissingDependency) as err:
        target_class(kind).driver()
    assert "'%s' is required" % package in str(err.value) and kind in str(err.value)


class Conn:
    def __init__(self, user):
        self.user, self.closed = user, False

    def close(self):
        self.closed = True


def database_target(per_user, admin_password=None, refuse=()):
    class Db(DatabaseTarget):
        KIND = 'db'
        ADMIN_PER_USER = per_user
        logins = []

        def connect(self, user, password):
            if user in refuse:
                raise TargetRejected('refused')
            self.logins.append(user)
            return Conn(user)

    options = {'username': 'app'}
    if admin_password:
        options.update(admin_username='root', admin_password=admin_password)
    return Db(options, 'single')


def test_the_admin_connection_is_opened_once():
    target = database_target(per_user=False)
    first = target.admin_conn({'username': 'app', 'password': 'a'})
    assert target.admin_conn({'username': 'other', 'password': 'b'}) is first and target.logins == ['app']
    assert target.self_service
    target.close()
    assert first.closed and target.admin_conn({'username': 'other', 'password': 'b'}).user == 'other'


def test_a_per_user_admin_connection_follows_the_role_asked_for():
    target = database_target(per_user=True)
    first = target.admin_conn({'username': 'app_a', 'password': 'a'})
    assert target.admin_conn({'username': 'app_a', 'password': 'a'}) is first
    second = target.admin_conn({'username': 'app_b', 'password': 'b'})
    assert first.closed and second.user == 'app_b' and target.logins == ['app_a', 'app_b']


def test_an_admin_credential_wins_over_the_fallback():
    target = database_target(per_user=True, admin_password='pw')
    assert target.admin_conn({'username': 'app', 'password': 'a'}).user == 'root' and not target.self_service
    assert target.admin_conn(None).user == 'root' and target.logins == ['root']


def test_a_refused_admin_login_leaves_no_connection():
    target = database_target(per_user=False, refuse=('app',))
    with pytest.raises(TargetRejected):
        target.admin_conn({'username': 'app', 'password': 'a'})
    assert target.admin_conn({'username': 'app_b', 'password': 'b'}).user == 'app_b'


def test_the_engine_is_one_object():
    """Issue 16: the phases are methods of Rotation; no module-level function takes the engine and changes it."""
    assert issubclass(Rotation, (RotationSteps, ResumeSteps, ContractSteps))
    for module in (_steps, _resume, _contract, _engine):
        for name, value in vars(module).items():
            if callable(value) and not isinstance(value, type) and getattr(value, '__module__', None) == module.__name__:
                assert 'engine' not in value.__code__.co_varnames[:value.__code__.co_argcount], (module.__name__, name)
    assert not hasattr(_engine, 'plan') and callable(Rotation.plan)
