"""A call moto cannot serve gets an error every SDK parses, names the call and is not retried (issue 14 item 14).

The answers are parsed with botocore's own parsers and judged by botocore's own retry rules (standard mode: 5xx,
throttling and transient codes retry). The Go SDK v2, which Terraform's provider uses, retries the same classes
(500/502/503/504, throttling codes, RequestTimeout); the integration test runs a real Terraform resource.
"""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import botocore.session
import pytest
from botocore.awsrequest import AWSResponse
from botocore.parsers import create_parser
from botocore.retries.standard import RetryContext, StandardRetryConditions

from infractl.adapters.emulator_patches import unimplemented
from infractl.adapters.emulator_patches.server import _not_implemented

SESSION = botocore.session.get_session()

# (botocore service, operation, the request's protocol markers, its SigV4 signing name)
CASES = [
    (
        "kms",
        "CreateCustomKeyStore",
        {"HTTP_X_AMZ_TARGET": "TrentService.CreateCustomKeyStore", "CONTENT_TYPE": "application/x-amz-json-1.1"},
        "kms",
    ),
    ("elasticache", "DeleteCacheSubnetGroup", {"CONTENT_TYPE": "application/x-www-form-urlencoded"}, "elasticache"),
    ("ec2", "GetVpnConnectionDeviceTypes", {"CONTENT_TYPE": "application/x-www-form-urlencoded"}, "ec2"),
    ("s3", "PutBucketAnalyticsConfiguration", {"QUERY_STRING": "analytics&id=a"}, "s3"),
    ("route53", "CreateCidrCollection", {}, "route53"),
    ("eks", "CreateAddon", {"CONTENT_TYPE": "application/json"}, "eks"),
]


def _parsed(service: str, operation: str, environ: dict) -> tuple[dict, AWSResponse, object]:
    model = SESSION.get_service_model(service)
    op = model.operation_model(operation)
    captured: list = []
    body = _not_implemented(
        {"REQUEST_METHOD": "POST", **environ},
        operation,
        f"The {_snake(operation)} action has not been implemented",
        lambda status, headers: captured.extend([status, headers]),
    )
    status, headers = int(captured[0].split()[0]), dict(captured[1])
    parser = create_parser(model.metadata["protocol"])
    parsed = parser.parse({"status_code": status, "headers": headers, "body": body}, op.output_shape)
    response = AWSResponse("https://127.0.0.1", status, headers, io.BytesIO(body))
    return parsed, response, op


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


@pytest.mark.parametrize(("service", "operation", "environ", "signing"), CASES, ids=[c[0] for c in CASES])
def test_an_unimplemented_action_is_a_non_retryable_error_naming_it(service, operation, environ, signing, monkeypatch):
    monkeypatch.setattr("infractl.adapters.emulator_patches.server._scope", lambda _environ: (signing, "eu-west-1"))
    parsed, response, op = _parsed(service, operation, environ)
    error = parsed["Error"]
    assert error["Code"] == "NotImplemented"
    assert f"{signing} {operation} is not implemented by the AWS emulator" in error["Message"]
    context = RetryContext(
        attempt_number=1, operation_model=op, parsed_response=parsed, http_response=response, caught_exception=None
    )
    assert not StandardRetryConditions(max_attempts=25).is_retryable(context)
    assert 400 <= response.status_code < 500


def test_moto_s_own_500_is_retried_by_the_same_rules():
    """The contrast: what moto answers without the patch is a 500, which the same rules retry."""
    op = SESSION.get_service_model("kms").operation_model("CreateCustomKeyStore")
    response = AWSResponse("https://127.0.0.1", 500, {}, io.BytesIO(b"<html>Internal Server Error</html>"))
    parsed = {"Error": {"Code": "500", "Message": ""}, "ResponseMetadata": {"HTTPStatusCode": 500}}
    context = RetryContext(
        attempt_number=1, operation_model=op, parsed_response=parsed, http_response=response, caught_exception=None
    )
    assert StandardRetryConditions(max_attempts=25).is_retryable(context)


def test_rest_xml_signing_names_are_botocore_s_rest_xml_services():
    """Read from the head of each service model (its metadata comes first): parsing ~400 models takes 20 s."""
    loader = SESSION.get_component("data_loader")
    names = set()
    for service in loader.list_available_services("service-2"):
        version = loader.determine_latest_version(service, "service-2")
        path = next(Path(p) for p in loader.search_paths if (Path(p) / service / version).is_dir())
        found = sorted((path / service / version).glob("service-2.json*"))[0]
        opener = gzip.open if found.suffix == ".gz" else open
        with opener(found, "rt", encoding="utf-8") as fh:
            head = fh.read(8192)
        start = head.index("{", head.index('"metadata"'))
        metadata, _ = json.JSONDecoder().raw_decode(head, start)
        if metadata["protocol"] == "rest-xml":
            names.add(metadata.get("signingName") or metadata["endpointPrefix"])
    assert names == set(unimplemented.REST_XML_SIGNING_NAMES)


def test_the_action_is_named_from_moto_s_message_or_the_request():
    assert unimplemented.action_name("POST /", "The delete_cache_subnet_group action has not been implemented") == (
        "DeleteCacheSubnetGroup"
    )
    assert unimplemented.action_name("PUT ?analytics&id", "Method PATCH has not been implemented") == (
        "PUT ?analytics&id"
    )
    text = unimplemented.message("s3", "PUT ?analytics&id", "Method PATCH has not been implemented", "5.2.1")
    assert text == (
        "s3 PUT ?analytics&id is not implemented by the AWS emulator (moto 5.2.1): Method PATCH has not been "
        "implemented; see docs/emulator.md"
    )
