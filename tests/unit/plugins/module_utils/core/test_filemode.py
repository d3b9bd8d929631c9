# -*- coding: utf-8 -*-
"""Modes as ansible.builtin.file reads them, 0..0777 only, no world access to a secret file unless allowed."""
import pytest

from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import InvalidOption
from ansible_collections.agentarea.secrets.plugins.module_utils.core._filemode import parse_mode


@pytest.mark.parametrize("mode, expected", [
    ("0640", 0o640), ("640", 0o640), ("0o600", 0o600), ("0400", 0o400), ("0", 0),
    (0o640, 0o640),           # unquoted YAML 0640 arrives as the int 416
    (384, 0o600),             # ... and 0600 as 384
    ("u=rw,g=r", 0o640), ("u=rw", 0o600), ("u=rw,g=,o=", 0o600), ("ug=rw", 0o660),
    (None, None), ("", None),
])
def test_accepted_modes(mode, expected):
    assert parse_mode(mode) == expected


def test_symbolic_modes_apply_to_the_present_mode():
    assert parse_mode("g-r", current=0o100640) == 0o600
    assert parse_mode("g+w", current=0o640) == 0o660
    assert parse_mode("a-x", current=0o750) == 0o640


@pytest.mark.parametrize("mode, message", [
    (644, "644 is not a permission mode between 0 and 0777; an unquoted YAML number such as 644 is decimal"),
    ("-1", "is neither an octal mode"),
    (-1, "is not a permission mode between 0 and 0777"),
    ("4777", "has set-user-ID, set-group-ID or sticky bits"),
    ("1600", "has set-user-ID, set-group-ID or sticky bits"),
    ("0999", "is neither an octal mode"),
    ("u=rws", "is neither an octal mode"),
    ("rw-r-----", "is neither an octal mode"),
    (True, "must be an octal string"),
])
def test_refused_modes(mode, message):
    with pytest.raises(InvalidOption) as info:
        parse_mode(mode)
    assert message in str(info.value)


@pytest.mark.parametrize("mode", ["0644", "0604", "0602", "0601", "o=r", "a=r", 0o666])
def test_world_access_needs_an_explicit_allow(mode):
    with pytest.raises(InvalidOption) as info:
        parse_mode(mode)
    assert "gives every user of the host access to a secret file" in str(info.value)
    assert "allow_world_access: true" in str(info.value)
    assert parse_mode(mode, allow_world=True) & 0o007


def test_a_caller_without_the_allow_option_is_not_told_to_set_it():
    """report_file has no allow_world_access: its refusal must not suggest one."""
    with pytest.raises(InvalidOption) as info:
        parse_mode("0644", what="mode", world_option=None)
    assert "gives every user of the host access" in str(info.value)
    assert "allow_world_access" not in str(info.value)


def test_the_error_names_the_option():
    with pytest.raises(InvalidOption) as info:
        parse_mode("0777", what="consumers[0]: mode")
    assert str(info.value).startswith("consumers[0]: mode 0777")
