#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: report_file
short_description: Write a report or a run's state file on the controller, atomically, without starting a module
version_added: 0.2.0
author:
  - agentarea.secrets contributors (@agentarea)
description:
  - Writes O(content) to O(path) on the Ansible controller. The work is done by the action plugin in the task's
    worker process, so a write costs milliseconds instead of the half second of a module start (Python, Ansible's
    module code, ours) that M(ansible.builtin.copy) or M(ansible.builtin.template) pay twice with
    C(delegate_to=localhost). The roles write their reports and the emergency runbook its state file (saved at every
    timeline event) this way.
  - Runs on the controller whatever host the task runs for, as the user running C(ansible-playbook); C(delegate_to)
    and C(become) have no effect. Use M(ansible.builtin.copy) or M(agentarea.secrets.secret_file) to write files on
    managed hosts or as another user.
  - The file is written through a temporary file in the same directory (created 0600, given its final mode, synced,
    then renamed over the old file), so a reader sees the old or the new content, never part of it.
  - A symbolic link at O(path) is refused, and so is one in its directories that a user other than root or the user
    running Ansible owns. Missing directories are created with O(directory_mode).
  - Unchanged content writes nothing; a mode that differs is corrected in place. A second run with the same content
    changes nothing.
  - Meant for reports and state that hold names, fingerprints and outcomes, not for secret values; write those with
    M(agentarea.secrets.secret_file).
options:
  path:
    description: The file on the controller.
    type: path
    required: true
  content:
    description:
      - The text to write, as is (add a final newline yourself). Render a template with
        P(ansible.builtin.template#lookup) to write one.
    type: str
    required: true
  mode:
    description:
      - The file's permissions, an octal string such as V("0640") or a symbolic one such as V(u=rw,g=r). A mode that
        gives other users access is refused.
    type: raw
    default: '0600'
  directory_mode:
    description: Permissions of the directories this task creates (existing ones are left as they are).
    type: raw
    default: '0700'
attributes:
  action:
    support: full
    description: All of the work is done by the action plugin, on the controller.
  check_mode:
    support: full
    description: Reports whether the file would change, writes nothing.
  diff_mode:
    support: full
    description: The content before and after.
  platform:
    platforms: posix
    support: full
    description: The controller's file system.
seealso:
  - module: agentarea.secrets.secret_file
  - module: ansible.builtin.copy
"""

EXAMPLES = r"""
- name: Save the state of the run (no module start, whatever the play's hosts)
  agentarea.secrets.report_file:
    path: "{{ report_dir }}/incident-{{ incident }}.state.json"
    content: "{{ state | to_nice_json }}\n"
    mode: "0640"
    directory_mode: "0750"
  run_once: true

- name: A Markdown report rendered from the role's template
  agentarea.secrets.report_file:
    path: "{{ report_dir }}/rotate.md"
    content: "{{ lookup('ansible.builtin.template', 'rotate.md.j2') }}"
    mode: "0640"
  run_once: true
"""

RETURN = r"""
path:
  description: The file written (absolute).
  returned: always
  type: str
  sample: /var/lib/agentarea/reports/incident-INC-1042.state.json
mode:
  description: The file's permissions after the task.
  returned: always
  type: str
  sample: '0640'
size:
  description: Bytes of content.
  returned: always
  type: int
  sample: 2048
"""
