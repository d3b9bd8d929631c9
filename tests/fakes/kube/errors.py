# -*- coding: utf-8 -*-
"""API errors as the real server returns them: a Status body with reason, message and details."""


class ApiError(Exception):
    def __init__(self, code, reason, message, details=None):
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details

    def status(self):
        out = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": self.message,
               "reason": self.reason, "code": self.code}
        if self.details is not None:
            out["details"] = self.details
        return out


def details(res, name):
    d = {"name": name, "kind": res.plural}
    if res.group:
        d["group"] = res.group
    return d


def not_found(res, name):
    return ApiError(404, "NotFound", '%s "%s" not found' % (res.qualified, name), details(res, name))


def conflict(res, name):
    return ApiError(409, "Conflict", 'Operation cannot be fulfilled on %s "%s": the object has been modified; please '
                    "apply your changes to the latest version and try again" % (res.qualified, name),
                    details(res, name))


def invalid(res, name, field, msg, reason="FieldValueInvalid"):
    kind = res.kind + ("." + res.group if res.group else "")
    d = {"name": name, "kind": res.kind, "causes": [{"reason": reason, "message": msg, "field": field}]}
    if res.group:
        d["group"] = res.group
    return ApiError(422, "Invalid", '%s "%s" is invalid: %s: %s' % (kind, name, field, msg), d)


def bad_request(msg):
    return ApiError(400, "BadRequest", msg)
