# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Committed-secret scanning: a directory or a git work tree, and every blob its history ever added.

Two detectors run over each text file: detect-secrets (Yelp's, with its default plugins and filters, through its
Python API) and the catalog: every token-like substring of a line is fingerprinted with the collection's keyed
HMAC and compared with the catalog's fingerprints, so a match is a confirmed leak of that entry while no value
ever reaches the scanning host. Findings name the file, line, commit (history), kind and detector, never the
value, a prefix of it, or detect-secrets' unsalted hash of it (that stays internal, for de-duplication).

Git runs as a subprocess (argument lists, no shell) with a deadline. History is read as ``git log --all --raw``
(which blob each commit added or changed) and ``git cat-file --batch`` (the blobs); each (path, secret) is reported
once, at the oldest commit that introduced it, with ``in_working_tree`` telling whether it is still there. Blobs
are scanned in memory: no copy of history ever reaches the disk, so a run that is killed leaves nothing behind.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import io
import os
import re
import subprocess
import time

from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import (
    BackendUnavailable,
    InvalidOption,
    missing_dependency,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.core._deps import requires
from ansible_collections.agentarea.secrets.plugins.module_utils.core._fingerprint import PREFIX, fingerprint, resolve_key
from ansible_collections.agentarea.secrets.plugins.module_utils.hygiene._gitignore import GitIgnore, is_env_file

DETECT_SECRETS = 'detect-secrets'
CATALOG = 'catalog-fingerprint'
GITIGNORE = 'gitignore'
BATCH_BYTES = 16 * 1024 * 1024

# the brief's split (whitespace, quotes, '=' and ':'), a looser one that keeps '=' and ':' inside values
# (base64 padding, user:password), and a stricter one for URLs and lists
_QUOTED = re.compile(r'"([^"]+)"|\'([^\']+)\'')
_SPLITS = (re.compile(r'''[\s'"=:]+'''), re.compile(r'''[\s'"`]+'''), re.compile(r'''[\s'"`=:@/,;&?#()\[\]{}<>|\\]+'''))


def candidates(line, min_length=8):
    """Every token-like substring of ``line`` that could be a whole secret value."""
    found = set()
    for split in _SPLITS:
        for token in split.split(line):
            token = token.strip(',;')
            if len(token) >= min_length:
                found.add(token)
                for sep in ('=', ':'):
                    if sep in token:
                        rest = token.split(sep, 1)[1].strip(',;')
                        if len(rest) >= min_length:
                            found.add(rest)
    for quoted in _QUOTED.findall(line):  # values with spaces, when quoted
        text = quoted[0] or quoted[1]
        if len(text) >= min_length:
            found.add(text)
    stripped = line.strip()
    if len(stripped) >= min_length:
        found.add(stripped)
    return found


class CatalogIndex:
    """The catalog's fingerprints: ``[{name, fingerprint}]`` or ``[{name, fingerprints: [...]}]``."""

    def __init__(self, items, key=None, min_length=8):
        self.key = resolve_key(key) if items else None
        self.min_length = min_length
        self.by_fp = {}
        for item in items or []:
            name = item.get('name')
            fps = list(item.get('fingerprints') or []) + ([item['fingerprint']] if item.get('fingerprint') else [])
            if not name:
                raise InvalidOption('every catalog fingerprint needs a name', backend='secret_scan')
            for fp in fps:
                if not str(fp).startswith(PREFIX):
                    raise InvalidOption("catalog entry '%s': '%s' is not an agentarea.secrets fingerprint (%s...); "
                                        "compute it with the agentarea.secrets.fingerprint filter"
                                        % (name, str(fp)[:12], PREFIX), backend='secret_scan')
                self.by_fp.setdefault(fp, set()).add(str(name))

    def names_in(self, line):
        if not self.by_fp:
            return set()
        names = set()
        for token in candidates(line, self.min_length):
            names |= self.by_fp.get(fingerprint(token, self.key), set())
        return names


class Detector:
    """detect-secrets with its default plugins and filters, for as long as the ``with`` block lasts."""

    def __init__(self):
        scan, settings, util = requires('detect_secrets.core.scan', 'detect_secrets.settings',
                                        'detect_secrets.core.plugins.util', package='detect-secrets',
                                        backend='secret_scan')
        try:
            scan_file, default_settings = scan.scan_file, settings.default_settings
            get_mapping_from_secret_type_to_class = util.get_mapping_from_secret_type_to_class
        except AttributeError as exc:
            raise missing_dependency('detect-secrets', backend='secret_scan', import_error=exc)
        self._scan_file, self._settings = scan_file, default_settings()
        self._plugins = dict((k, v.__name__) for k, v in get_mapping_from_secret_type_to_class().items())

    def __enter__(self):
        self._settings.__enter__()
        return self

    def __exit__(self, *exc):
        return self._settings.__exit__(*exc)

    def scan(self, disk_path):
        """(line, kind, plugin, internal key) per potential secret; the key is detect-secrets' hash, kept here."""
        return [(s.line_number, s.type, self._plugins.get(s.type, s.type), s.secret_hash)
                for s in self._scan_file(disk_path)]

    def scan_data(self, name, data):
        """What ``scan`` finds, for content that exists only in memory (a blob of git history): it is never
        written to disk, where a killed run would leave it. Follows detect-secrets' ``scan_file`` step by step:
        the filters on the file name (but the one asking the disk whether the file exists), the transformers
        chosen by the name (YAML, INI), then the eager ones when the plain lines found nothing."""
        core, transformers, inject = requires('detect_secrets.core.scan', 'detect_secrets.transformers',
                                              'detect_secrets.util.inject', package='detect-secrets>=1.4',
                                              backend='secret_scan')
        try:
            get_transformed_file = transformers.get_transformed_file
            call_function_with_arguments = inject.call_function_with_arguments
            process_lines, name_filters = core._process_line_based_plugins, core.get_filters_with_parameter
        except AttributeError as exc:
            raise missing_dependency('detect-secrets>=1.4', backend='secret_scan', import_error=exc)
        for check in name_filters('filename'):
            if str(getattr(check, 'path', '')).endswith('.is_invalid_file'):
                continue
            try:
                if call_function_with_arguments(check, filename=name):
                    return []
            except TypeError:
                continue
        try:
            text = data.decode('utf-8')
        except UnicodeDecodeError:
            return []  # detect-secrets ignores files that are not text
        found = []
        for eager in (False, True):
            handle = _NamedText(text, name)
            lines = get_transformed_file(handle, use_eager_transformers=eager)
            if not lines:
                if eager:
                    break
                handle.seek(0)
                lines = handle.readlines()
            found = [(s.line_number, s.type, self._plugins.get(s.type, s.type), s.secret_hash)
                     for s in process_lines(lines=list(enumerate(lines, start=1)), filename=name)]
            if found:
                break
        return found


class _NamedText(io.StringIO):
    """A file-like text with the name detect-secrets' transformers look at."""

    def __init__(self, text, name):
        super(_NamedText, self).__init__(text)
        self.name = name


class Git:
    def __init__(self, root, timeout=300):
        self.root = root
        self.deadline = time.time() + timeout
        self.timeout = timeout

    def run(self, args, data=None):
        left = self.deadline - time.time()
        if left <= 0:
            raise BackendUnavailable('git took longer than %ss (git_timeout)' % self.timeout, backend='secret_scan')
        cmd = ['git', '-C', self.root, '-c', 'core.quotepath=off'] + list(args)
        try:
            proc = subprocess.run(cmd, input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=left,
                                  check=False)
        except subprocess.TimeoutExpired:
            raise BackendUnavailable('git %s took longer than %ss (git_timeout)' % (args[0], self.timeout),
                                     backend='secret_scan')
        except OSError as exc:
            raise BackendUnavailable('cannot run git: %s' % (exc.strerror or type(exc).__name__), backend='secret_scan')
        if proc.returncode != 0:
            err = proc.stderr.decode('utf-8', 'replace').strip().splitlines()
            raise BackendUnavailable('git %s failed (exit %d): %s' % (args[0], proc.returncode, err[-1] if err else ''),
                                     backend='secret_scan')
        return proc.stdout

    def is_work_tree(self):
        try:
            return self.run(['rev-parse', '--is-inside-work-tree']).strip() == b'true'
        except BackendUnavailable:
            return False

    def ls(self, *args):
        return [p.decode('utf-8', 'surrogateescape') for p in self.run(['ls-files', '-z'] + list(args)).split(b'\0') if p]

    def added_blobs(self):
        """(commit, path, blob) for every file a commit added or changed, oldest commit first."""
        out = self.run(['log', '--all', '--reverse', '--topo-order', '--no-renames', '--raw', '--no-abbrev', '-z',
                        '--relative', '--diff-filter=AM', '--format=%x01%H', '--', '.'])
        tokens = out.split(b'\0')
        commit, found, i = None, [], 0
        while i < len(tokens):
            token = tokens[i].lstrip(b'\n')
            if token.startswith(b'\x01'):
                commit = token[1:].decode('ascii')
            elif token.startswith(b':') and i + 1 < len(tokens):
                fields = token[1:].split(b' ')
                i += 1
                if len(fields) >= 5 and fields[1][:2] == b'10':  # regular files (no symlinks, no submodules)
                    found.append((commit, tokens[i].decode('utf-8', 'surrogateescape'), fields[3].decode('ascii')))
            i += 1
        return found

    def blobs(self, shas, max_bytes):
        """{sha: bytes} of the blobs not larger than ``max_bytes`` (others are left out), read in batches."""
        sizes = {}
        check = self.run(['cat-file', '--batch-check'], ('\n'.join(shas) + '\n').encode('ascii'))
        for line in check.decode('ascii', 'replace').splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1] == 'blob':
                sizes[parts[0]] = int(parts[2])
        wanted = [s for s in shas if s in sizes and sizes[s] <= max_bytes]
        batches, batch, total = [], [], 0
        for sha in wanted:
            if batch and total + sizes[sha] > BATCH_BYTES:
                batches.append(batch)
                batch, total = [], 0
            batch.append(sha)
            total += sizes[sha]
        if batch:
            batches.append(batch)
        out = {}
        for batch in batches:
            data = self.run(['cat-file', '--batch'], ('\n'.join(batch) + '\n').encode('ascii'))
            pos = 0
            for want in batch:  # "<sha> blob <size>\n<content>\n" each, in the order asked
                end = data.index(b'\n', pos)
                size = int(data[pos:end].split()[2])
                out[want] = data[end + 1:end + 1 + size]
                pos = end + 1 + size + 1
        return out, [s for s in shas if s in sizes and sizes[s] > max_bytes]


class Scanner:
    """Scan ``root``: ``ignore`` is the .gitignore as it is, ``planned`` as it will be after a fix."""

    def __init__(self, root, index, detector=None, excludes=(), max_bytes=1048576, git_timeout=300, extra_rules=()):
        self.root = os.path.abspath(root)
        if not os.path.isdir(self.root):
            raise InvalidOption('%s is not a directory' % root, backend='secret_scan')
        self.index, self.detector, self.excludes, self.max_bytes = index, detector, list(excludes), max_bytes
        self.git = Git(self.root, git_timeout)
        self.is_git = self.git.is_work_tree()
        self.ignore, self.planned = GitIgnore(self.root), GitIgnore(self.root, extra_rules)
        self.stats = {'files_scanned': 0, 'blobs_scanned': 0, 'commits_scanned': 0, 'skipped_large': 0,
                      'git': self.is_git}

    def excluded(self, rel):
        return any(fnmatch.fnmatch(rel, p) or fnmatch.fnmatch(os.path.basename(rel), p) for p in self.excludes)

    def scan_bytes(self, rel, data, disk_path=None):
        """Findings in one file's content (``rel`` names it); binary and large files are skipped."""
        if len(data) > self.max_bytes:
            self.stats['skipped_large'] += 1
            return []
        if b'\0' in data[:8192]:
            return []
        found = []
        text = data.decode('utf-8', 'replace')
        for number, line in enumerate(text.splitlines(), 1):
            for name in sorted(self.index.names_in(line)):
                found.append({'file': rel, 'line': number, 'kind': 'catalog secret', 'detector': CATALOG,
                              'catalog_entry': name, '_key': (rel, CATALOG, name)})
        if self.detector is not None:
            # a blob of history exists only in memory and stays there (never a temporary copy on disk)
            hits = self.detector.scan(disk_path) if disk_path else self.detector.scan_data(rel, data)
            for number, kind, plugin, key in hits:
                found.append({'file': rel, 'line': number, 'kind': kind, 'detector': '%s:%s' % (DETECT_SECRETS, plugin),
                              '_key': (rel, kind, key)})
        return found

    def tree_files(self):
        """(path, tracked) of every file that is or could be committed: tracked ones, and untracked ones that the
        .gitignore does not ignore (today)."""
        if self.is_git:
            tracked = set(self.git.ls())
            untracked = set(self.git.ls('--others')) - tracked
            listing = [(p, True) for p in tracked] + [(p, False) for p in untracked]
        else:
            listing = []
            for dirpath, dirs, names in os.walk(self.root):
                rel_dir = os.path.relpath(dirpath, self.root).replace(os.sep, '/')
                rel_dir = '' if rel_dir == '.' else rel_dir + '/'
                dirs[:] = [d for d in dirs if d != '.git' and not self.ignore.ignored(rel_dir + d, True)]
                listing += [(rel_dir + n, False) for n in names]
        return sorted((p, t) for p, t in listing
                      if not self.excluded(p) and (t or not self.ignore.ignored(p, is_dir=False)))

    def scan_tree(self):
        findings = []
        for rel, tracked in self.tree_files():
            path = os.path.join(self.root, rel)
            if not os.path.isfile(path) or os.path.islink(path):
                continue
            fixed = not tracked and self.planned.ignored(rel, is_dir=False)
            status = 'fixed' if fixed else 'open'
            if is_env_file(rel):
                kind = 'env file committed' if tracked else 'env file not ignored'
                findings.append({'file': rel, 'line': None, 'kind': kind, 'detector': GITIGNORE, 'status': status,
                                 '_key': (rel, kind, None)})
            try:
                with open(path, 'rb') as handle:
                    data = handle.read(self.max_bytes + 1)
            except (IOError, OSError):
                continue
            self.stats['files_scanned'] += 1
            for finding in self.scan_bytes(rel, data, disk_path=path):
                finding['status'] = status
                findings.append(finding)
        for finding in findings:
            finding['source'] = 'tree'
        return findings

    def scan_history(self, present):
        """Findings in every blob history added, each (path, secret) once at its oldest commit."""
        entries = [(c, p, b) for c, p, b in self.git.added_blobs() if not self.excluded(p)]
        self.stats['commits_scanned'] = len(set(c for c, _p, _b in entries))
        data, large = self.git.blobs(sorted(set(b for _c, _p, b in entries)), self.max_bytes)
        self.stats['skipped_large'] += len(large)
        seen, findings, cache = set(), [], {}
        for commit, rel, blob in entries:
            if blob not in data:
                continue
            if (rel, blob) not in cache:
                self.stats['blobs_scanned'] += 1
                cache[(rel, blob)] = self.scan_bytes(rel, data[blob])
            for finding in cache[(rel, blob)]:
                if finding['_key'] in seen:
                    continue
                seen.add(finding['_key'])
                findings.append(dict(finding, source='history', commit=commit, status='open',
                                     in_working_tree=finding['_key'] in present))
        return findings

    def run(self, history=True):
        ctx = self.detector if self.detector is not None else _Null()
        with ctx:
            tree = self.scan_tree()
            hist = self.scan_history(set(f['_key'] for f in tree)) if history and self.is_git else []
        for finding in tree + hist:
            finding.pop('_key', None)
        return tree + hist


class _Null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
