import json

from infractl.adapters.aws import tls_only_policy
from infractl.adapters.emulator_server import secure_transport_view


def test_tls_only_deny_does_not_apply_over_tls():
    view = json.loads(secure_transport_view(json.dumps(tls_only_policy("b"))))
    assert view["Statement"] == []


def test_statement_requiring_tls_keeps_its_other_conditions():
    policy = {
        "Version": "2012-10-17",
        "Statement": {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::b/*",
            "Condition": {
                "Bool": {"aws:SecureTransport": "true"},
                "StringEquals": {"aws:PrincipalOrgID": "o-1"},
            },
        },
    }
    (statement,) = json.loads(secure_transport_view(json.dumps(policy)))["Statement"]
    assert statement["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": "o-1"}}


def test_unrelated_statements_untouched():
    policy = {"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObject", "Resource": "*"}]}
    assert json.loads(secure_transport_view(json.dumps(policy)))["Statement"] == policy["Statement"]
