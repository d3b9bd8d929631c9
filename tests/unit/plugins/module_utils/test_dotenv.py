# -*- coding: utf-8 -*-
"""Our .env parser must read files exactly as python-dotenv (interpolation off) does."""
import io

import dotenv
import pytest

from ansible_collections.agentarea.secrets.plugins.module_utils import _dotenv

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
]


@pytest.mark.parametrize("text", SAMPLES)
def test_parse_matches_python_dotenv(text):
    expected = dict(dotenv.dotenv_values(stream=io.StringIO(text), interpolate=False))
    assert _dotenv.parse(text) == expected


VALUES = ["plain", "it's", "back\\slash", 'dq"x', "multi\nline", "  spaces  ", "#hash", "$HOME", "", "ünïcode",
          "a'b\"c\\d\ne"]


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
