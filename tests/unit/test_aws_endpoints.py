"""The aws provider's endpoint list: read from its schema and its own conflict diagnostics, cached per version."""

import json

from infractl.adapters import aws_endpoints


def schema(attrs):
    block = {"block_types": {"endpoints": {"block": {"attributes": attrs}}}}
    return {"provider_schemas": {aws_endpoints.PROVIDER: {"provider": {"block": block}}}}


def test_schema_endpoints_leave_out_deprecated_attributes():
    doc = schema({"s3": {"type": "string"}, "sdb": {"type": "string", "deprecated": True}, "kms": {}})
    assert aws_endpoints.schema_endpoints(doc) == ["kms", "s3"]


def test_aliases_the_provider_refuses_together_are_dropped_keeping_the_first_named():
    line = json.dumps(
        {
            "type": "diagnostic",
            "diagnostic": {
                "severity": "warning",
                "summary": "Invalid Attribute Combination",
                "detail": 'Only one of the following attributes should be set:\n"endpoints[0].logs", '
                '"endpoints[0].cloudwatchlog", "endpoints[0].cloudwatchlogs"\n',
            },
        }
    )
    groups = aws_endpoints.conflict_groups(["plain text", line, json.dumps({"type": "version"})])
    assert groups == [["logs", "cloudwatchlog", "cloudwatchlogs"]]
    assert aws_endpoints.without_aliases(["cloudwatchlog", "cloudwatchlogs", "logs", "s3"], groups) == ["logs", "s3"]


def test_local_version_is_the_newest_in_the_provider_folders(tmp_path):
    for v in ("5.9.0", "5.100.0", "5.60.1"):
        (tmp_path / "m" / "registry.terraform.io" / "hashicorp" / "aws" / v).mkdir(parents=True)
    assert aws_endpoints.local_version([None, tmp_path / "nothing", tmp_path / "m"]) == "5.100.0"
    assert aws_endpoints.local_version([tmp_path / "nothing"]) is None


def test_an_unknown_version_is_derived_once_and_cached(tmp_path):
    calls = []

    def derive(version):
        calls.append(version)
        return ["ec2", "s3"]

    assert aws_endpoints.endpoints("9.9.9", cache_dir=tmp_path, derive_version=derive) == ("ec2", "s3")
    assert aws_endpoints.endpoints("9.9.9", cache_dir=tmp_path, derive_version=derive) == ("ec2", "s3")
    assert calls == ["9.9.9"]
    newest = max(aws_endpoints.packaged(), key=lambda v: tuple(map(int, v.split("."))))
    assert aws_endpoints.endpoints(newest, cache_dir=tmp_path, derive_version=derive) == tuple(
        aws_endpoints.packaged()[newest]
    )
