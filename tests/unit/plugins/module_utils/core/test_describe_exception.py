# -*- coding: utf-8 -*-
"""describe_exception: a third-party exception in a few value-free words, the OS error it wraps included."""
import errno
import os

import requests

from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import describe_exception


def refused_through_requests():
    """What requests raises when nothing listens: ConnectionError(MaxRetryError(reason=NewConnectionError)),
    with ConnectionRefusedError underneath."""
    try:
        requests.get("http://127.0.0.1:9/", timeout=2)
    except requests.ConnectionError as exc:
        return exc
    raise AssertionError("something listens on port 9")


def test_a_connection_refused_says_so():
    text = describe_exception(refused_through_requests())
    assert text == "ConnectionError (%s)" % os.strerror(errno.ECONNREFUSED).lower()


def wrapped_permission_error():
    try:
        try:
            raise PermissionError(errno.EACCES, "denied", "/secret/path-never-shown")
        except OSError as inner:
            raise RuntimeError(ValueError("wrapped")) from inner
    except RuntimeError as exc:
        return exc
    raise AssertionError("not raised")


def test_the_os_error_is_found_through_causes_and_arguments():
    text = describe_exception(wrapped_permission_error())
    assert text == "RuntimeError (%s)" % os.strerror(errno.EACCES).lower()
    assert "/secret" not in text


def test_a_status_wins_and_nothing_else_is_shown():
    class ApiError(Exception):
        status = 503

    assert describe_exception(ApiError("token s3cr3t in the message")) == "ApiError (status=503)"
    assert describe_exception(ValueError("value s3cr3t")) == "ValueError"


def test_a_cycle_of_causes_ends():
    a, b = RuntimeError("a"), RuntimeError("b")
    a.__context__, b.__context__ = b, a
    assert describe_exception(a) == "RuntimeError"
