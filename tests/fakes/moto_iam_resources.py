"""``moto_server`` with resource-level IAM enforcement for Secrets Manager, so least-privilege policies can be proved.

    INITIAL_NO_AUTH_ACTION_COUNT=4 python tests/fakes/moto_iam_resources.py -H 127.0.0.1 -p PORT

Stock moto 5.2.5 with ``INITIAL_NO_AUTH_ACTION_COUNT`` enforces IAM by action only for Secrets Manager. Two fixes
bring it to what AWS does for the policies ``access_policy`` writes:

- DIFF (moto): Secrets Manager requests are authorised against the resource ``*``, so a statement scoped to a
  secret's ARN never matches and even the consumer's own secret is denied. Here the resource is the ARN of the
  secret named by ``SecretId`` (as AWS does); requests without one (ListSecrets, CreateSecret) stay ``*``.
- DIFF (moto): IAM's ``?`` wildcard is passed to ``re`` unescaped (``-??????`` raises "multiple repeat" and the
  request fails with HTTP 500), and ``.`` matches any character. Here ``*`` and ``?`` are IAM wildcards and every
  other character is literal.

Everything else is moto as it is (the denial is still an XML error that botocore reports as code ``403``).
"""

import re
import sys

from moto.iam import access_control
from moto.secretsmanager.responses import SecretsManagerResponse
from moto.server import main


def _iam_match(pattern, string):
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.match("^%s$" % regex, string, re.DOTALL)


def _secret_arn(self):
    try:
        secret_id = self._get_param("SecretId")
    except Exception:  # an unparsable body: let moto answer it
        return "*"
    if not secret_id:
        return "*"
    try:
        return self.backend.secrets[secret_id].arn
    except Exception:  # unknown secret: AWS authorises against the ARN asked for, then says it does not exist
        return secret_id if secret_id.startswith("arn:") else "*"


for _name in dir(access_control):
    _cls = getattr(access_control, _name)
    if isinstance(_cls, type) and "_match" in vars(_cls):
        _cls._match = staticmethod(_iam_match)
SecretsManagerResponse._determine_resource = _secret_arn

if __name__ == "__main__":
    main(sys.argv[1:])
