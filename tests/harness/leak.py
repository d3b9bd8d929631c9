# -*- coding: utf-8 -*-
"""The leak test every capability uses: one playbook, run the ways that most often expose values, with canaries."""

MODES = (
    {"verbosity": 4, "diff": True},                                         # -vvvv --diff
    {"check": True, "diff": True, "verbosity": 2},                          # --check --diff
    {"env": {"ANSIBLE_CALLBACK_RESULT_FORMAT": "json", "ANSIBLE_DISPLAY_ARGS_TO_STDOUT": "true"}},  # JSON results
)


def run_leak_suite(ansible, playbook, canaries, env=None, files=None, expect_rc=None, allowed_files=()):
    """Run ``playbook`` in every mode; the runner fails the test if a canary shows up in stdout, stderr, the tree
    callback's registered results or any file the run left in its working directory or HOME."""
    results = []
    for mode in MODES:
        mode = dict(mode)
        run_env = dict(env or {})
        run_env.update(mode.pop("env", {}))
        results.append(ansible.playbook(playbook, env=run_env, files=files, canaries=canaries, expect_rc=expect_rc,
                                        allowed_files=allowed_files, **mode))
    for result in results:
        assert "Traceback" not in result.output, result
    return results
