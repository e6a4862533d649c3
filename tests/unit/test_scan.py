"""`infractl scan` without the scanners: report shapes, OpenAPI 3.1 → 3.0 conversion, the differ's output, the
baseline comparison, pip-audit's outcomes (offline is never a pass), layer member paths."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from infractl.errors import GateFailed
from infractl.exit_codes import ExitCode
from infractl.models.scan import Finding, Gate, ScanReport
from infractl.services.scan import dependencies, layers, oas30, openapi, reports, run, secrets, workflows


def report(*statuses: str) -> ScanReport:
    gates = [Gate(name=f"g{i}", status=s, tool="t") for i, s in enumerate(statuses)]  # type: ignore[arg-type]
    return ScanReport(root="/r", gates=gates)


def test_not_run_is_neither_a_pass_nor_a_failure():
    assert report("passed", "not-run").ok
    assert not report("passed", "failed", "not-run").ok
    assert report("not-run").counts() == {"passed": 0, "failed": 0, "not-run": 1}
    assert report("failed").model_dump(mode="json")["ok"] is False  # --json and scan.json carry the verdict


def test_failed_gates_raise_gate_failed_with_one_line_per_finding():
    run.raise_for_failures(report("passed", "not-run"))  # nothing failed: no error
    r = report("failed", "passed")
    r.gates[0].findings = [Finding(file="a.py", line=2, rule="AWS Access Key", message="a new secret")]
    with pytest.raises(GateFailed) as err:
        run.raise_for_failures(r)
    assert err.value.exit_code == ExitCode.GATE_FAILED == 7
    assert err.value.details == ["g0: a.py:2: AWS Access Key: a new secret"]


def test_markdown_shows_not_run_as_such_and_lists_findings():
    r = ScanReport(
        root="/r",
        base="0123456789abcdef",
        gates=[
            Gate(name="dependencies", status="not-run", tool="pip-audit", note="offline: api.osv.dev does not resolve"),
            Gate(
                name="secrets",
                status="failed",
                tool="detect-secrets",
                findings=[Finding(file="a|b.py", line=3, rule="AWS Access Key", message="a new secret")],
            ),
        ],
    )
    text = reports.markdown(r)
    assert "| dependencies | ⚪ not run |" in text
    assert "passed |" not in text.split("| dependencies |")[1].splitlines()[0]
    assert "`a\\|b.py:3` **AWS Access Key**: a new secret" in text  # pipes escaped: the table stays a table
    assert "1 gate(s) failed: 0 passed, 1 failed, 1 not run (API base `0123456789ab`)" in text


def test_reports_write_json_and_markdown(tmp_path: Path):
    paths = reports.write(report("passed"), tmp_path / "out")
    assert [p.name for p in paths] == ["scan.json", "scan.md"]
    assert json.loads(paths[0].read_text())["ok"] is True


def test_oas30_nullable_forms_const_examples_and_bounds():
    doc = {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1", "summary": "s", "license": {"name": "MIT", "identifier": "MIT"}},
        "paths": {
            "/x": {
                "get": {
                    "parameters": [{"name": "q", "in": "query", "schema": {"type": ["integer", "null"]}}],
                    "responses": {"200": {"description": "ok"}},
                }
            }
        },
        "components": {
            "schemas": {
                "A": {
                    "type": "object",
                    "properties": {
                        "error": {"anyOf": [{"type": "string"}, {"type": "null"}], "title": "Error"},
                        "ref": {"anyOf": [{"$ref": "#/components/schemas/B"}, {"type": "null"}]},
                        "kind": {"const": "run", "examples": ["run", "x"]},
                        "n": {"type": "number", "exclusiveMinimum": 0},
                        "const": {"type": "string"},  # a property named like a keyword stays a property
                        "type": {"type": "string"},
                    },
                    "$comment": "dropped",
                },
                "B": {"type": "object"},
            }
        },
        "webhooks": {},
    }
    out = oas30.document(doc)
    assert out["openapi"] == "3.0.3" and "webhooks" not in out
    assert "summary" not in out["info"] and out["info"]["license"] == {"name": "MIT"}
    assert out["paths"]["/x"]["get"]["parameters"][0]["schema"] == {"type": "integer", "nullable": True}
    props = out["components"]["schemas"]["A"]["properties"]
    assert props["error"] == {"type": "string", "title": "Error", "nullable": True}
    assert props["ref"] == {"allOf": [{"$ref": "#/components/schemas/B"}], "nullable": True}
    assert props["kind"] == {"enum": ["run"], "example": "run"}
    assert props["n"] == {"type": "number", "minimum": 0, "exclusiveMinimum": True}
    assert props["const"] == {"type": "string"} and props["type"] == {"type": "string"}
    assert "$comment" not in out["components"]["schemas"]["A"]
    assert oas30.document({"openapi": "3.0.3", "x": 1}) == {"openapi": "3.0.3", "x": 1}


def test_openapi_diff_output_and_findings_name_the_path_and_field():
    assert openapi.parse("No changes found between the two specifications\n") == {}
    assert openapi.parse("OpenApiDiffErrorImpl [VError]: Validation errors") is None
    out = "Breaking changes found between the two specifications:\n" + json.dumps(
        {
            "breakingDifferences": [
                {
                    "action": "remove",
                    "code": "path.remove",
                    "entity": "path",
                    "sourceSpecEntityDetails": [{"location": "paths./livez", "value": {"get": {}}}],
                    "destinationSpecEntityDetails": [],
                }
            ]
        }
    )
    (diff,) = openapi.parse(out)["breakingDifferences"]
    f = openapi.finding(diff)
    assert (f.file, f.rule, f.message) == ("docs/api/openapi.json", "path.remove", "path removed: paths./livez")
    old = {
        "paths": {"/r": {"post": {"requestBody": {"content": {"application/json": {"schema": {"$ref": "#/c/S"}}}}}}},
        "c": {"S": {"type": "object", "required": ["a"]}},
    }
    new = json.loads(json.dumps(old))
    new["c"]["S"]["required"] = ["a", "priority"]
    required = openapi.new_required(old, new)
    assert required == {"paths./r.post.requestBody": ["priority"]}
    body = {
        "code": "request.body.scope.remove",
        "destinationSpecEntityDetails": [{"location": "paths./r.post.requestBody.content.application/json.schema"}],
    }
    assert "(newly required: priority)" in openapi.finding(body, required).message


def result(file: str, secret: str, kind: str = "AWS Access Key", line: int = 1, **extra) -> dict:
    return {"filename": file, "hashed_secret": secret, "type": kind, "line_number": line, **extra}


def test_secrets_new_ones_and_audited_real_ones_fail_baselined_false_positives_pass():
    baseline = {
        "results": {
            "a.py": [result("a.py", "h1", is_secret=False)],
            "b.py": [result("b.py", "h2", "Secret Keyword", is_secret=True)],
        }
    }
    current = {
        "results": {
            "a.py": [result("a.py", "h1", line=9)],  # moved: still the baselined one (lines do not count)
            "b.py": [result("b.py", "h2", "Secret Keyword")],
            "c.py": [result("c.py", "h3", line=4)],
        }
    }
    findings = secrets.compare(baseline, current)
    assert [(f.file, f.line, f.rule) for f in findings] == [
        ("b.py", 1, "Secret Keyword"),
        ("c.py", 4, "AWS Access Key"),
    ]
    assert "rotate it" in findings[0].message and "new secret" in findings[1].message
    assert secrets.compare({}, {"results": {}}) == []


OFFLINE_STDERR = (
    "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='api.osv.dev', port=443): Max retries exceeded"
    " (Caused by NameResolutionError(\"Failed to resolve 'api.osv.dev'\"))"
)


def test_pip_audit_offline_is_not_run_or_a_failure_when_required():
    gate = dependencies.classify(1, "", OFFLINE_STDERR, required=False)
    assert (gate.status, gate.findings) == ("not-run", [])
    assert "offline" in gate.note
    gate = dependencies.classify(1, "", OFFLINE_STDERR, required=True)
    assert gate.status == "failed" and gate.findings[0].rule == "vulnerability-service-unreachable"


def test_pip_audit_vulnerabilities_fail_and_a_clean_audit_passes():
    vulnerable = {
        "dependencies": [
            {
                "name": "jinja2",
                "version": "3.1.2",
                "vulns": [{"id": "GHSA-h5c8", "fix_versions": ["3.1.3"], "aliases": ["CVE-2024-22195"]}],
            },
            {"name": "idna", "version": "3.7", "vulns": []},
        ],
        "fixes": [],
    }
    gate = dependencies.classify(1, json.dumps(vulnerable), "", required=False)
    assert gate.status == "failed"
    (f,) = gate.findings
    assert (f.file, f.rule) == ("jinja2==3.1.2", "GHSA-h5c8")
    assert "CVE-2024-22195" in f.message and "fixed in: 3.1.3" in f.message
    clean = {"dependencies": [{"name": "idna", "version": "3.7", "vulns": []}], "fixes": []}
    gate = dependencies.classify(0, json.dumps(clean), "", required=True)
    assert (gate.status, gate.note) == ("passed", "1 package(s) audited against OSV")
    gate = dependencies.classify(2, "", "usage: pip-audit [-h] ...\npip-audit: error: bad flag", required=False)
    assert gate.status == "failed" and "bad flag" in gate.findings[0].message  # an error is not "offline"


def test_the_offline_check_is_a_name_lookup_that_fails_fast():
    # RFC 6761: names under .invalid never resolve. The lookup is bounded (no pip-audit retries behind it).
    assert dependencies.resolves("api.osv.dev.invalid") is False
    gate = dependencies.gate(required=False, reachable=False)
    assert gate.status == "not-run" and gate.tool_version  # pip-audit is installed, it just cannot reach OSV
    assert dependencies.gate(required=True, reachable=False).status == "failed"


def test_layer_member_paths_refuse_escapes_and_whiteouts():
    assert str(layers.member_path("./opt/venv/x.py")) == "opt/venv/x.py"
    assert str(layers.member_path("/etc/passwd")) == "etc/passwd"
    assert layers.member_path("../../etc/shadow") is None
    assert layers.member_path("opt/.wh.old") is None
    assert layers.member_path("./") is None


def test_layer_candidates_are_text_files_matching_a_detector_pattern(tmp_path: Path):
    import re

    blob = tmp_path / "layer.tar"
    with tarfile.open(blob, "w") as tar:
        for name, data in {
            "app/plain.py": b"print('hello')\n",
            "app/key.txt": b"token = MATCHME\n",
            "app/bin.so": b"\x7fELF\0\0MATCHME",
        }.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("app/link")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        tar.addfile(link)
    out = tmp_path / "out"
    read, written = layers.candidates(blob, [re.compile("MATCHME")], out)
    assert (read, written) == (2, ["app/key.txt"])  # the binary and the link are skipped
    assert (out / "app" / "key.txt").read_bytes() == b"token = MATCHME\n"


def test_zizmor_findings_point_at_the_primary_location():
    data = {
        "ident": "template-injection",
        "desc": "code injection via template expansion",
        "determinations": {"severity": "High"},
        "locations": [
            {
                "symbolic": {"kind": "Related", "key": {"Local": {"verbatim_path": "w.yml"}}},
                "concrete": {"location": {"start_point": {"row": 2}}},
            },
            {
                "symbolic": {
                    "kind": "Primary",
                    "annotation": "may expand into attacker-controllable code",
                    "key": {"Local": {"verbatim_path": "w.yml"}},
                },
                "concrete": {"location": {"start_point": {"row": 12}}},
            },
        ],
    }
    f = workflows.zizmor_finding(data)
    assert (f.file, f.line, f.rule) == ("w.yml", 13, "template-injection")  # zizmor's rows count from 0
    assert f.message.endswith("may expand into attacker-controllable code (high)")
