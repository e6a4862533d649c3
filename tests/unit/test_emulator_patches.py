import json
import subprocess
import sys

from infractl.adapters.aws import tls_only_policy
from infractl.adapters.emulator_patches.budgets import same_notification
from infractl.adapters.emulator_patches.ec2 import strip_template_tag_specs
from infractl.adapters.emulator_patches.s3 import replication_rule_view
from infractl.adapters.emulator_server import secure_transport_view


def test_tls_only_deny_does_not_apply_over_tls():
    view = json.loads(secure_transport_view(json.dumps(tls_only_policy("b"))))
    assert view["Statement"] == []


def test_statement_with_conditions_moto_cannot_evaluate_never_applies():
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
    assert json.loads(secure_transport_view(json.dumps(policy)))["Statement"] == []
    sse_header_deny = {
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": "arn:aws:s3:::b/*",
                "Condition": {
                    "Null": {"s3:x-amz-server-side-encryption": "false"},
                    "StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"},
                },
            }
        ]
    }
    assert json.loads(secure_transport_view(json.dumps(sse_header_deny)))["Statement"] == []


def test_unrelated_statements_untouched():
    policy = {"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObject", "Resource": "*"}]}
    assert json.loads(secure_transport_view(json.dumps(policy)))["Statement"] == policy["Statement"]


# --- the patch helpers, without a server (test_emulator_patches_server.py runs them in one) ----------------------


def test_apply_patches_twice_wraps_each_moto_attribute_once():
    """In a child process, so this test process's moto stays stock."""
    code = """
from infractl.adapters.emulator_server import apply_patches
apply_patches()
from moto.eks.models import Cluster, Nodegroup
from moto.rds.models import DBInstance, DBParameterGroup
def patched():
    return (DBInstance.__init__, DBInstance.update, DBParameterGroup.update_parameters, Cluster.__init__,
            Nodegroup.__init__)
first = patched()
apply_patches()
again = patched()
assert first == again, "a second apply_patches() wrapped again"
assert all(not hasattr(f.__wrapped__, "__wrapped__") for f in again), "a wrapper wraps a wrapper"
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_replication_rule_view_from_parsed_xml():
    """Rules are stored as xmltodict parsed them: single tags are not lists, empty elements are None."""
    rule = {
        "ID": "r",
        "Priority": "2",
        "Status": "Enabled",
        "Filter": {"And": {"Prefix": None, "Tag": {"Key": "a", "Value": "1"}}},
        "SourceSelectionCriteria": {"SseKmsEncryptedObjects": {"Status": "Enabled"}},
        "Destination": {"Bucket": "arn:aws:s3:::dst"},
    }
    assert replication_rule_view(rule) == {
        "ID": "r",
        "Priority": "2",
        "Status": "Enabled",
        "Filter": {"And": {"Prefix": "", "Tags": [{"Key": "a", "Value": "1"}]}},
        "DeleteMarkerReplication": {"Status": "Disabled"},  # the AWS default when none was put
        "SourceSelectionCriteria": {"SseKmsEncryptedObjects": {"Status": "Enabled"}},
        "Destination": {"Bucket": "arn:aws:s3:::dst"},
    }


def test_replication_rule_view_keeps_v1_prefix_and_defaults_an_empty_filter():
    base = {"ID": "r", "Priority": 1, "Status": "Enabled", "Destination": {"Bucket": "arn:aws:s3:::dst"}}
    assert replication_rule_view({**base, "Prefix": "logs/"})["Prefix"] == "logs/"
    assert replication_rule_view({**base, "Filter": None})["Filter"] == {"Prefix": ""}
    assert replication_rule_view(base)["Filter"] == {"Prefix": ""}


def test_notifications_match_on_type_operator_threshold_and_threshold_type():
    stored = {"NotificationType": "ACTUAL", "ComparisonOperator": "GREATER_THAN", "Threshold": 80}
    assert same_notification(stored, {**stored, "Threshold": 80.0, "ThresholdType": "PERCENTAGE"})
    assert not same_notification(stored, {**stored, "ThresholdType": "ABSOLUTE_VALUE"})
    assert not same_notification(stored, {**stored, "NotificationType": "FORECASTED"})


def test_launch_template_data_loses_only_the_templates_own_tag_specifications():
    data = {
        "TagSpecifications": [
            {"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "node"}]},
            {"ResourceType": "launch-template", "Tags": [{"Key": "env", "Value": "dev"}]},
        ]
    }
    strip_template_tag_specs(data)
    assert data == {"TagSpecifications": [{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "node"}]}]}

    only_template = {"ImageId": "ami-1", "TagSpecifications": [{"ResourceType": "launch-template", "Tags": []}]}
    strip_template_tag_specs(only_template)
    assert only_template == {"ImageId": "ami-1"}


def test_installed_moto_is_the_version_the_patches_were_tested_with():
    import moto

    from infractl.adapters.emulator_server import TESTED_MOTO

    assert moto.__version__ == TESTED_MOTO
    pyproject = (__import__("pathlib").Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    assert f'"moto[server]=={TESTED_MOTO}"' in pyproject


def test_server_calls_run_one_at_a_time():
    """The server patch lets one request in at a time and hands back the whole body; unwrapped, two threads are in
    the app together (so the measure below can fail)."""
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    from infractl.adapters.emulator_patches.server import serialized

    inside = {"now": 0, "most": 0}
    guard = threading.Lock()

    def app(self, environ, start_response):  # a moto app whose body is rendered while iterating
        with guard:
            inside["now"] += 1
            inside["most"] = max(inside["most"], inside["now"])
        time.sleep(0.05)

        def body():
            yield b"<ok"
            time.sleep(0.02)
            yield b"/>"
            with guard:
                inside["now"] -= 1

        return body()

    def most_at_once(handler) -> int:
        inside.update(now=0, most=0)
        with ThreadPoolExecutor(4) as pool:
            bodies = list(pool.map(lambda _: b"".join(handler(None, {}, None)), range(8)))
        assert bodies == [b"<ok/>"] * 8
        return inside["most"]

    assert most_at_once(app) > 1
    assert most_at_once(serialized(app)) == 1


def test_the_health_probe_waits_behind_no_call():
    """A long call holds the server's lock; the emulator's health probe (GET /moto-api/) is answered meanwhile, so a
    busy emulator never looks dead (which would make `start` launch a second one)."""
    import threading
    import time

    from infractl.adapters.emulator_patches.server import serialized

    release = threading.Event()

    def app(self, environ, start_response):
        start_response("200 OK", [])
        if environ.get("PATH_INFO") == "/slow":
            release.wait(5)
        return [b"ok"]

    handler = serialized(app)
    slow = threading.Thread(
        target=handler, args=(None, {"REQUEST_METHOD": "POST", "PATH_INFO": "/slow"}, lambda *a: None)
    )
    slow.start()
    time.sleep(0.1)  # the slow call holds the lock now
    began = time.monotonic()
    assert handler(None, {"REQUEST_METHOD": "GET", "PATH_INFO": "/moto-api/"}, lambda *a: None) == [b"ok"]
    assert time.monotonic() - began < 1
    release.set()
    slow.join()


def test_only_successful_answers_of_mutating_calls_are_kept():
    from infractl.adapters.emulator_patches.server import _Answers

    answers = _Answers()

    def env(invocation: str, method: str = "POST") -> dict:
        return {"HTTP_AMZ_SDK_INVOCATION_ID": invocation, "REQUEST_METHOD": method}

    answers.keep(env("a"), "CreateRole", "200 OK", [], b"<created/>")
    answers.keep(env("b"), "CreateRole", "500 INTERNAL SERVER ERROR", [], b"<oops/>")
    answers.keep(env("c"), "DescribeVpcs", "200 OK", [], b"<vpcs/>")
    answers.keep(env("d", "GET"), "GET ?tagging", "200 OK", [], b"<tags/>")
    assert answers.get("a") == ("200 OK", [], b"<created/>")
    assert [answers.get(i) for i in "bcd"] == [None, None, None]
