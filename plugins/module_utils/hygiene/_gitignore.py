# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``.gitignore`` rules as git applies them (gitignore(5)): patterns from the ``.gitignore`` of every directory
on the way, deeper files and later lines winning, ``!`` negation, ``/`` anchoring, directory-only patterns,
``*``, ``?``, ``[...]`` and ``**``; nothing inside an ignored directory can be re-included.

Only committed ``.gitignore`` files count, not ``.git/info/exclude`` or a user's global excludes: what protects
the repository must protect every clone. Used on hosts without git too, so it is a small matcher of its own.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

#: what a repository's .gitignore must cover: (rule to add, probes that must be ignored, probes that must not)
REQUIRED = (
    ('.env*', ('.env', '.env.local', '.env.production', 'app/.env'), ()),
    ('!.env.example', (), ('.env.example',)),
    ('secrets/', ('secrets/db_password.txt', 'secrets/tls/key.json'), ()),
    ('*.pem', ('server.pem', 'tls/server.pem'), ()),
    ('*.key', ('server.key', 'tls/server.key'), ()),
)
HEADER = '# Secrets never go into git (added by agentarea.secrets.secret_scan)'
ENV_EXAMPLES = ('.env.example', '.env.sample', '.env.template', '.env.dist')


def _translate(pattern):
    """A gitignore glob (without ``!`` and the trailing ``/``) as a regex over a slash-separated path."""
    anchored = '/' in pattern
    pattern = pattern.lstrip('/')
    out, i, n = [], 0, len(pattern)
    while i < n:
        c = pattern[i]
        if pattern.startswith('**', i):
            before = i == 0 or pattern[i - 1] == '/'
            after = i + 2 == n or pattern[i + 2] == '/'
            if before and after:
                if i + 2 == n:
                    out.append('.*')           # trailing /** : everything inside
                else:
                    out.append('(?:.*/)?')     # leading **/ or /**/ : zero or more directories
                    i += 1
                i += 2
                continue
            out.append('[^/]*')
            i += 2
            continue
        if c == '*':
            out.append('[^/]*')
        elif c == '?':
            out.append('[^/]')
        elif c == '[':
            j = pattern.find(']', i + 2 if pattern[i + 1:i + 2] in ('!', ']') else i + 1)
            if j < 0:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1:j]
                if body.startswith('!'):
                    body = '^' + body[1:]
                out.append('[%s]' % body.replace('\\', '\\\\'))
                i = j
        elif c == '\\' and i + 1 < n:
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(c))
        i += 1
    body = ''.join(out)
    return re.compile(('^' if anchored else '^(?:.*/)?') + body + '$', re.DOTALL)


def parse(text):
    """Rules of one .gitignore: a list of (regex, negated, directory_only, source line)."""
    rules = []
    for raw in text.splitlines():
        line = raw.rstrip('\r')
        stripped = re.sub(r'(?<!\\)\s+$', '', line)
        if not stripped or stripped.startswith('#'):
            continue
        negated = stripped.startswith('!')
        pattern = stripped[1:] if negated else stripped
        if pattern.startswith('\\!') or pattern.startswith('\\#'):
            pattern = pattern[1:]
        dir_only = pattern.endswith('/')
        pattern = pattern.rstrip('/')
        if not pattern:
            continue
        rules.append((_translate(pattern), negated, dir_only, stripped))
    return rules


class GitIgnore:
    """The ``.gitignore`` files of a tree under ``root``; ``extra`` are rules added to the root file (a planned
    fix, evaluated before it is written)."""

    def __init__(self, root, extra=()):
        self.root = root
        self._cache = {}
        self.extra = parse('\n'.join(extra))

    def _rules(self, directory):
        if directory not in self._cache:
            try:
                with open(os.path.join(self.root, directory, '.gitignore'), 'r') as handle:
                    rules = parse(handle.read())
            except (IOError, OSError, UnicodeDecodeError):
                rules = []
            self._cache[directory] = rules + (self.extra if directory == '' else [])
        return self._cache[directory]

    def _match(self, path, is_dir):
        """The last matching rule's verdict for ``path`` itself (not its parents): True, False or None."""
        verdict = None
        parts = path.split('/')
        for depth in range(len(parts)):
            base = '/'.join(parts[:depth])
            rel = '/'.join(parts[depth:])
            for regex, negated, dir_only, _line in self._rules(base):
                if dir_only and not is_dir:
                    continue
                if regex.match(rel):
                    verdict = not negated
        return verdict

    def ignored(self, path, is_dir=None):
        """Whether ``path`` (relative, with ``/``) is ignored: itself, or any directory it is in."""
        path = path.strip('/')
        parts = path.split('/')
        for depth in range(1, len(parts)):
            if self._match('/'.join(parts[:depth]), True):
                return True
        if is_dir is None:
            is_dir = os.path.isdir(os.path.join(self.root, path))
        return bool(self._match(path, is_dir))


def coverage(root, extra=()):
    """The rules of REQUIRED that the tree's .gitignore files do not satisfy (with ``extra`` added)."""
    ignore = GitIgnore(root, extra)
    missing = []
    for rule, must, must_not in REQUIRED:
        if any(not ignore.ignored(p, is_dir=False) for p in must) or any(ignore.ignored(p, is_dir=False)
                                                                         for p in must_not):
            missing.append(rule)
    return missing


def plan_fix(root):
    """(rules to append to the root .gitignore, rules still missing after that). Rules are added in REQUIRED's
    order, each only if still needed once the earlier ones are in (so ``!.env.example`` follows ``.env*``)."""
    added = []
    for rule, _must, _must_not in REQUIRED:
        if rule in coverage(root, added):
            added.append(rule)
    return added, coverage(root, added)


def fixed_text(current, added):
    if not added:
        return current
    text = current or ''
    if text and not text.endswith('\n'):
        text += '\n'
    if text:
        text += '\n'
    return text + HEADER + '\n' + '\n'.join(added) + '\n'


def is_env_file(name):
    base = name.rsplit('/', 1)[-1]
    return (base == '.env' or base.startswith('.env.')) and base not in ENV_EXAMPLES
