# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""agentarea.secrets.report_file: the whole task, on the controller, in the worker (no module is transferred or
started). See the module's documentation."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os
import stat

from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import SecretError
from ansible_collections.agentarea.secrets.plugins.module_utils.core._fileio import SecretFile
from ansible_collections.agentarea.secrets.plugins.module_utils.core._filemode import parse_mode

ARGUMENT_SPEC = {
    'path': {'type': 'path', 'required': True},
    'content': {'type': 'str', 'required': True, 'no_log': False},
    'mode': {'type': 'raw', 'default': '0600'},
    'directory_mode': {'type': 'raw', 'default': '0700'},
}


def _missing_directories(directory):
    """The directories of ``directory`` that do not exist yet, the outermost first."""
    missing = []
    while directory and directory != os.path.dirname(directory) and not os.path.lexists(directory):
        missing.append(directory)
        directory = os.path.dirname(directory)
    return list(reversed(missing))


def _chmod_directory(path, mode):
    fd = os.open(path, os.O_RDONLY | getattr(os, 'O_DIRECTORY', 0) | getattr(os, 'O_NOFOLLOW', 0))
    try:
        os.fchmod(fd, mode)
    finally:
        os.close(fd)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        try:
            _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        except Exception as exc:  # pylint: disable=broad-except  # AnsibleActionFail carries the message
            return dict(result, failed=True, msg=to_text(exc))
        path = os.path.abspath(os.path.expanduser(args['path']))
        content = args['content']
        try:
            # a report has no allow_world_access option: the message must not suggest one
            mode = parse_mode(args['mode'], what='mode', world_option=None)
            directory_mode = parse_mode(args['directory_mode'], what='directory_mode', world_option=None)
            return dict(result, **self._write(path, content, mode, directory_mode))
        except SecretError as exc:
            return dict(result, failed=True, path=path, msg='report_file: %s' % to_text(exc))

    def _write(self, path, content, mode, directory_mode):
        data = content.encode('utf-8')
        check = bool(self._task.check_mode)
        missing = _missing_directories(os.path.dirname(path))
        out = {'path': path, 'size': len(data), 'mode': '%04o' % mode}
        with SecretFile(path, lock=False, create_dirs=not check) as handle:
            st = handle.lstat()
            before = handle.read() if st is not None else None
            if before == data:
                if stat.S_IMODE(st.st_mode) == mode:
                    return dict(out, changed=False)
                if not check:
                    handle.set_meta(mode=mode)
                return dict(out, changed=True)
            if not check:
                handle.write(data, mode=mode)
        for directory in missing if not check else ():
            try:
                _chmod_directory(directory, directory_mode)
            except OSError as exc:
                if exc.errno != errno.ENOENT:
                    return dict(out, failed=True, msg='report_file: wrote %s but cannot set the mode of %s: %s'
                                % (path, directory, os.strerror(exc.errno)))
        if self._task.diff:
            out['diff'] = {'before_header': path, 'after_header': path,
                           'before': '' if before is None else to_text(before, errors='surrogate_or_replace'),
                           'after': content}
        return dict(out, changed=True)
