# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small .env parser and editor that runs on managed hosts without extra packages.

It follows python-dotenv's grammar (``export``, single and double quotes with their escapes, values spanning
lines inside quotes, ``#`` comments after whitespace, keys without ``=``) without interpolation, and
tests/unit compare it with python-dotenv on the same inputs. Edits keep every other line byte for byte.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import codecs
import json
import re

_MULTILINE_WS = re.compile(r'\s*', re.MULTILINE)
_WS = re.compile(r'[^\S\r\n]*')
_EXPORT = re.compile(r'(?:export[^\S\r\n]+)?')
_SQ_KEY = re.compile(r"'([^']+)'")
_KEY = re.compile(r'([^=\#\s]+)')
_EQUAL = re.compile(r'(=[^\S\r\n]*)')
# a backslash always escapes the next character, so a value ending in an escaped backslash ends at its quote
_SQ_VALUE = re.compile(r"'((?:\\.|[^'\\])*)'", re.DOTALL)
_DQ_VALUE = re.compile(r'"((?:\\.|[^"\\])*)"', re.DOTALL)
_UNQUOTED = re.compile(r'([^\r\n]*)')
_COMMENT = re.compile(r'((?:[^\S\r\n]*#[^\r\n]*)?)')
_UNQUOTED_COMMENT = re.compile(r'\s+#.*')
_EXPORT_PREFIX = re.compile(r'^\s*export[^\S\r\n]+')
BOM = '\ufeff'
_EOL = re.compile(r'[^\S\r\n]*(?:\r\n|\n|\r|$)')
_REST = re.compile(r'[^\r\n]*(?:\r|\n|\r\n)?')
_DQ_ESCAPES = re.compile(r'\\[\\\'"abfnrtv]')
_SQ_ESCAPES = re.compile(r"\\[\\']")
KEY_RE = re.compile(r'^[A-Za-z_][A-Za-z0-9_.-]*$')


class _ParseError(Exception):
    pass


class Binding:
    """One parsed unit of the file: a key with its value, or a comment/blank/invalid stretch (key None)."""

    __slots__ = ('key', 'value', 'original', 'error', 'comment')

    def __init__(self, key, value, original, error=False, comment=''):
        self.key, self.value, self.original, self.error = key, value, original, error
        self.comment = comment  # a trailing ``# ...`` with the blanks before it, kept when the line is rewritten

    @property
    def ending(self):
        for end in ('\r\n', '\n', '\r'):
            if self.original.endswith(end):
                return end
        return ''


def _decode(regex, text):
    return regex.sub(lambda m: codecs.decode(m.group(0), 'unicode-escape'), text)


class _Reader:
    def __init__(self, text):
        self.text, self.pos, self.mark = text, 0, 0

    def has_next(self):
        return self.pos < len(self.text)

    def peek(self):
        return self.text[self.pos:self.pos + 1]

    def read(self, regex):
        match = regex.match(self.text, self.pos)
        if match is None:
            raise _ParseError()
        self.pos = match.end()
        return match.groups()


def _value(reader):
    """(value, comment): an unquoted value's comment is part of what the regex read."""
    char = reader.peek()
    if char == "'":
        return _decode(_SQ_ESCAPES, reader.read(_SQ_VALUE)[0]), ''
    if char == '"':
        return _decode(_DQ_ESCAPES, reader.read(_DQ_VALUE)[0]), ''
    if char in ('', '\n', '\r'):
        return '', ''
    raw = reader.read(_UNQUOTED)[0]
    found = _UNQUOTED_COMMENT.search(raw)
    comment = raw[found.start():].rstrip() if found else ''
    return _UNQUOTED_COMMENT.sub('', raw).rstrip(), comment


def parse_bindings(text):
    if text.startswith(BOM):  # python-dotenv ignores a byte order mark; an edit keeps it
        yield Binding(None, None, BOM)
        text = text[len(BOM):]
    reader = _Reader(text)
    while reader.has_next():
        reader.mark = reader.pos
        try:
            reader.read(_MULTILINE_WS)
            if not reader.has_next():
                yield Binding(None, None, text[reader.mark:reader.pos])
                break
            reader.read(_EXPORT)
            char = reader.peek()
            if char == '#':
                key = None
            elif char == "'":
                key = reader.read(_SQ_KEY)[0]
            else:
                key = reader.read(_KEY)[0]
            reader.read(_WS)
            value, comment = None, ''
            if reader.peek() == '=':
                reader.read(_EQUAL)
                value, comment = _value(reader)
            comment = reader.read(_COMMENT)[0] or comment
            reader.read(_EOL)
            yield Binding(key, value, text[reader.mark:reader.pos], comment=comment)
        except _ParseError:
            reader.read(_REST)
            yield Binding(None, None, text[reader.mark:reader.pos], error=True)


def parse(text):
    """``{key: value}`` in file order (a later duplicate wins, as in python-dotenv); ``KEY`` alone maps to None."""
    values = {}
    for binding in parse_bindings(text):
        if binding.key is not None:
            values[binding.key] = binding.value
    return values


def invalid_lines(text):
    """1-based line numbers that do not parse (reported, never their content)."""
    lines, line = [], 1
    for binding in parse_bindings(text):
        if binding.error:
            lines.append(line)
        line += binding.original.count('\n')
    return lines


def render_value(value):
    """Quote a value so python-dotenv and Docker Compose read it back unchanged. Maps and lists are written as
    JSON (what the stores hold for them), never as Python's repr."""
    if isinstance(value, (dict, list)):
        value = json.dumps(value, sort_keys=True, separators=(',', ':'))
    value = str(value)
    if "'" not in value and '\\' not in value:
        return "'%s'" % value
    escaped = (value.replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n')
               .replace('\r', '\\r').replace('\t', '\\t'))
    return '"%s"' % escaped


def check_key(key):
    if not KEY_RE.match(key or ''):
        raise ValueError("'%s' is not a valid variable name (letters, digits and _ ; not starting with a digit)"
                         % key)


def line_ending(text):
    """The file's line ending: CRLF when its lines end so, else LF."""
    return '\r\n' if '\r\n' in text and text.count('\r\n') * 2 >= text.count('\n') else '\n'


def set_key(text, key, value, export=None):
    """Return text with ``key`` set to ``value``: the last binding of the key is rewritten in place (keeping
    its ``export``, indentation, trailing comment and line ending), any earlier duplicates are dropped, and a
    new key is appended with the file's line ending. Raise ValueError (naming line numbers, never content) when the
    result would not read back as ``value``: a line that does not parse (an unterminated quote) can swallow the
    lines after it, for python-dotenv as for us."""
    written = _set_key(text, key, value, export)
    expected = render_value(value)
    if _value_of(written, key) != _value_of('%s=%s' % (key, expected), key):
        bad = invalid_lines(text)
        raise ValueError('%s would not read back after the write: the file has lines that do not parse%s; fix '
                         'them first' % (key, ' (line %s)' % ', '.join(str(n) for n in bad[:5]) if bad else ''))
    return written


def _value_of(text, key):
    return parse(text).get(key, _ABSENT)


_ABSENT = object()


def _set_key(text, key, value, export=None):
    check_key(key)
    bindings = list(parse_bindings(text))
    positions = [i for i, b in enumerate(bindings) if b.key == key]
    if positions:
        last = bindings[positions[-1]]
        had_export = _EXPORT_PREFIX.match(last.original) is not None
        prefix = _EXPORT_PREFIX.match(last.original).group(0).lstrip() if had_export else ''
        if export is not None:
            prefix = (prefix or 'export ') if export else ''
        indent = last.original[:len(last.original) - len(last.original.lstrip())]
        line = '%s%s%s=%s%s%s' % (indent, prefix, key, render_value(value), last.comment, last.ending)
        bindings[positions[-1]] = Binding(key, value, line)
        for i in positions[:-1]:
            bindings[i] = None
        return ''.join(b.original for b in bindings if b is not None)
    ending = line_ending(text)
    if text and not text.endswith(('\n', '\r')):
        text += ending
    return text + '%s%s=%s%s' % ('export ' if export else '', key, render_value(value), ending)


def remove_key(text, key):
    """Text without any binding of ``key``."""
    return ''.join(b.original for b in parse_bindings(text) if b.key != key)
