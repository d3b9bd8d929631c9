# -*- coding: utf-8 -*-
"""Our .env parser must read files exactly as python-dotenv (interpolation off) does."""
import io

import dotenv
import pytest

from ansible_collections.agentarea.secrets.plugins.module_utils.core import _dotenv

SAMPLES = [
    "A=1\nB=2\n",
    'export B="x y" # comment\n',
    "C='single \\' quote'\n",
    "# only a comment\n\n\n",
    "D=unquoted # inline comment\nE=a#b\n",
    'F="multi\nline"\n',
    "G\nH=\n",
    'I="esc\\n\\t\\"q\\\\"\n',
    "  J = spaced  \n",
    "this is not valid\nK=after\n",
    "L='multi\nline single'\n",
    "X=${Y}\nY=$X\n",
    'Q="unterminated\nR=1\n',
    "CRLF=1\r\nNEXT=2\r\n",
    "'quoted key'=v\n",
    "DUP=1\nDUP=2\n",
    "URL=postgresql://u:p%40ss@db:5432/app?sslmode=require\n",
    "",
    "NOEOL=last",
    # issue 12 item 8: a value ending in a backslash, and the quoted key after it
    'BS="ends in \\\\"\nNEXT="next"\n',
    "BS='ends in \\\\'\nNEXT='next'\n",
    'BS="a\\\\" # c\nNEXT="b\\\\\\"c"\n',
    "BS=unquoted\\\nNEXT=\"n\"\n",
    'PEM="-----BEGIN KEY-----\nabc\\\\\n-----END KEY-----"\nAFTER="x"\n',
    # issue 12 item 11
    "export\tTAB=1\n",
    "K=1 # c\r\nL='2' # d\r\n",
    "\ufeffBOM=1\n",
]


@pytest.mark.parametrize("text", SAMPLES)
def test_parse_matches_python_dotenv(text):
    expected = dict(dotenv.dotenv_values(stream=io.StringIO(text), interpolate=False))
    assert _dotenv.parse(text) == expected


VALUES = ["plain", "it's", "back\\slash", "ends in a backslash\\", "\\\\", "\\", 'dq"x', "multi\nline",
          "  spaces  ", "#hash", "$HOME", "", "ünïcode", "a'b\"c\\d\ne"]


@pytest.mark.parametrize("value", VALUES)
def test_set_key_round_trips_through_python_dotenv(value):
    base = "# header\nexport KEEP=1 # keep me\nTARGET=old\nOTHER='x'\n"
    text = _dotenv.set_key(base, "TARGET", value)
    parsed = dict(dotenv.dotenv_values(stream=io.StringIO(text), interpolate=False))
    assert parsed["TARGET"] == value
    assert parsed["KEEP"] == "1" and parsed["OTHER"] == "x"
    assert text.startswith("# header\nexport KEEP=1 # keep me\n")
    assert text.endswith("OTHER='x'\n")


def test_set_key_appends_and_removes():
    text = _dotenv.set_key("A=1", "NEW", "v")
    assert text == "A=1\nNEW='v'\n"
    assert _dotenv.remove_key(text, "NEW") == "A=1\n"


def test_set_key_drops_earlier_duplicates_and_keeps_export():
    text = _dotenv.set_key("export K=1\nX=2\nexport K=3\n", "K", "new")
    assert text == "X=2\nexport K='new'\n"


def test_invalid_key_rejected():
    with pytest.raises(ValueError):
        _dotenv.set_key("", "1BAD", "v")


def test_invalid_lines_are_reported_by_number():
    assert _dotenv.invalid_lines("A=1\nbad line\nB=2\n") == [2]


def test_a_value_ending_in_a_backslash_is_set_once():
    text = _dotenv.set_key("A=1\n", "BS", "x\\")
    text = _dotenv.set_key(text, "Q", "quoted")
    again = _dotenv.set_key(text, "BS", "x\\")
    assert again == text  # the second run rewrites the line in place, no duplicate
    assert dict(dotenv.dotenv_values(stream=io.StringIO(text))) == {"A": "1", "BS": "x\\", "Q": "quoted"}
    assert _dotenv.parse(text) == {"A": "1", "BS": "x\\", "Q": "quoted"}


def test_rewrite_keeps_export_tab_comment_and_crlf():
    text = "# head\r\nexport\tK=old # rotated monthly\r\nU=1  # unquoted comment\r\nL=2\r\n"
    text = _dotenv.set_key(text, "K", "new")
    text = _dotenv.set_key(text, "U", "2")
    assert text == "# head\r\nexport\tK='new' # rotated monthly\r\nU='2'  # unquoted comment\r\nL=2\r\n"
    assert _dotenv.set_key(text, "N", "v").endswith("L=2\r\nN='v'\r\n")
    assert _dotenv.set_key("A=1\r\nB=2", "N", "v") == "A=1\r\nB=2\r\nN='v'\r\n"
    assert dict(dotenv.dotenv_values(stream=io.StringIO(text))) == {"K": "new", "U": "2", "L": "2"}


def test_structured_values_are_written_as_json():
    text = _dotenv.set_key("", "TLS", {"cert": "C", "key": "K's"})
    assert dotenv.dotenv_values(stream=io.StringIO(text))["TLS"] == '{"cert":"C","key":"K\'s"}'
    text = _dotenv.set_key("", "L", ["a", 1])
    assert dotenv.dotenv_values(stream=io.StringIO(text))["L"] == '["a",1]'


def test_byte_order_mark_is_kept():
    assert _dotenv.set_key("\ufeffA=1\n", "A", "2") == "\ufeffA='2'\n"
