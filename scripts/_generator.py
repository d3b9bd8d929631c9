# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the scripts that write a generated file of the collection share (gen-doc-fragments.py, which writes
plugins/doc_fragments/stores.py, and gen-lookup-config.py, which writes plugins/plugin_utils/_lookup_config.py):
the collection's doc fragments loaded by path, and the command line that rewrites the file or, with ``--check``,
only says whether it is out of date."""

from __future__ import absolute_import, division, print_function

import argparse
import importlib.util
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
FRAGMENTS = ROOT / 'plugins' / 'doc_fragments'


class GeneratorError(Exception):
    pass


def fragment_class(name):
    """``ModuleDocFragment`` of plugins/doc_fragments/<name>.py, loaded by path (no collection loader needed)."""
    path = FRAGMENTS / (name + '.py')
    spec = importlib.util.spec_from_file_location('_agentarea_doc_fragment_' + name, str(path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ModuleDocFragment


def main(argv, description, render, target, command, prog):
    """Rewrite ``target`` with ``render()``, or with ``--check`` exit 1 when it differs; 2 on a GeneratorError."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('--check', action='store_true',
                        help='exit 1 when %s is out of date; write nothing' % target.name)
    args = parser.parse_args(argv)
    try:
        text = render()
    except GeneratorError as exc:
        sys.stderr.write('%s: %s\n' % (prog, exc))
        return 2
    current = target.read_text() if target.exists() else None
    if args.check:
        if current != text:
            sys.stderr.write('%s is out of date: run `%s`\n' % (target.relative_to(ROOT), command))
            return 1
        return 0
    if current != text:
        target.write_text(text)
        print('wrote %s' % target.relative_to(ROOT))
    return 0
