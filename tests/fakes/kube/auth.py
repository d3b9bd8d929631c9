# -*- coding: utf-8 -*-
"""Service-account tokens: their claims, and the TokenReview endpoint OpenBao's kubernetes auth calls."""
import base64
import json


def token_review(body):
    """Authenticate a service-account JWT by its claims. DIFF: the signature is not verified, and the service
    account is not required to exist."""
    token = ((body or {}).get("spec") or {}).get("token") or ""
    status = {"authenticated": False, "error": "invalid bearer token"}
    claims = jwt_claims(token)
    if claims:
        ns, name, uid = sa_identity(claims)
        if ns and name:
            user = {"username": "system:serviceaccount:%s:%s" % (ns, name), "uid": uid or "",
                    "groups": ["system:serviceaccounts", "system:serviceaccounts:%s" % ns, "system:authenticated"]}
            status = {"authenticated": True, "user": user,
                      "audiences": (body.get("spec") or {}).get("audiences") or ["https://kubernetes.default.svc"]}
    return {"kind": "TokenReview", "apiVersion": "authentication.k8s.io/v1",
            "metadata": {"creationTimestamp": None}, "spec": body.get("spec") or {}, "status": status}


def jwt_claims(token):
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return None
    return claims if isinstance(claims, dict) else None


def sa_identity(claims):
    bound = claims.get("kubernetes.io")
    if isinstance(bound, dict):  # projected (bound) token
        sa = bound.get("serviceaccount") or {}
        return bound.get("namespace"), sa.get("name"), sa.get("uid")
    return (claims.get("kubernetes.io/serviceaccount/namespace"),
            claims.get("kubernetes.io/serviceaccount/service-account.name"),
            claims.get("kubernetes.io/serviceaccount/service-account.uid"))
