# -*- coding: utf-8 -*-
"""Property-based tests of the two parsers that take user text (issue 14, "bad input, fuzzed"): references and .env
files. Whatever the input, they answer with a value or our typed error, never another exception; what they write
reads back unchanged (checked against python-dotenv, the library that defines .env behaviour)."""
import io

import dotenv
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ansible_collections.agentarea.secrets.plugins.module_utils.core._dotenv import parse, remove_key, set_key
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import InvalidReference
from ansible_collections.agentarea.secrets.plugins.module_utils.core._refs import SCHEMES, SecretRef, parse_ref

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# unicode text with the characters that matter to both grammars made likely
TRICKY = st.text(alphabet=st.one_of(st.sampled_from(list("#?&=%/:\\'\"` \t\r\n\x00$\u00e9\u2028export")),
                                    st.characters()), max_size=60)
# one segment of a location: anything but the separator and NUL (percent-encoding carries the rest)
SEGMENT = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00/"),
                  min_size=1, max_size=12)
KEY = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True)


@FUZZ
@given(TRICKY, st.sampled_from(sorted(SCHEMES) + ["", "nope"]))
def test_any_text_parses_or_raises_invalid_reference(tail, scheme):
    text = "%s://%s" % (scheme, tail) if scheme else tail
    try:
        ref = parse_ref(text)
    except InvalidReference as exc:
        assert str(exc)
        return
    assert isinstance(ref, SecretRef)
    assert parse_ref(str(ref)) == ref, "the canonical form parses to the same reference"


@FUZZ
@given(st.sampled_from(sorted(SCHEMES)), st.lists(SEGMENT, min_size=1, max_size=4), st.one_of(st.none(), SEGMENT),
       st.one_of(st.none(), SEGMENT))
def test_format_parse_round_trips(scheme, segments, key, version):
    spec = SCHEMES[scheme]
    if not spec.path_like:
        assume(len(segments) >= spec.min_parts and (not spec.max_parts or len(segments) <= spec.max_parts))
    params = {"version": version} if version is not None and "version" in spec.params else {}
    ref = SecretRef(scheme, "/".join(segments), key, params)
    assert parse_ref(str(ref)) == ref


@FUZZ
@given(TRICKY)
def test_dotenv_parse_never_raises_and_agrees_with_python_dotenv_on_keys(text):
    values = parse(text)
    assert isinstance(values, dict)
    theirs = dotenv.dotenv_values(stream=io.StringIO(text), interpolate=False)
    # on what both read, they read the same value (python-dotenv is the reference for .env semantics)
    for key in set(values) & set(theirs):
        assert values[key] == theirs[key], key


@FUZZ
@given(TRICKY, KEY, st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                            max_size=40))
def test_set_key_reads_back_and_keeps_every_other_line(text, key, value):
    lines_before = [line for line in text.splitlines(True) if key not in line]
    try:
        written = set_key(text, key, value)
    except ValueError as exc:
        # a line that does not parse would swallow the new key: refused, naming line numbers only
        message = str(exc)
        assert "line" in message
        assert len(value) < 4 or value not in message.replace(key, "")
        return
    assert parse(written)[key] == value
    assert dotenv.dotenv_values(stream=io.StringIO(written), interpolate=False)[key] == value
    kept = written.splitlines(True)
    for line in lines_before:
        # every line that did not bind the key is still there byte for byte (the one before an appended key may
        # gain the line ending it lacked)
        assert line in kept or line + "\n" in kept or line + "\r\n" in kept, repr(line)
    assert key not in parse(remove_key(written, key))


@pytest.mark.parametrize("bad", ["1ABC", "", "A B", "A\nB", "A=B"])
def test_set_key_refuses_bad_names_with_a_value_error(bad):
    with pytest.raises(ValueError):
        set_key("A=1\n", bad, "v")
