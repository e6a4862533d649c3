"""Report files of `infractl validate`: JSON (everything), JUnit XML (CI test views) and SARIF 2.1.0 (code scanning).

JUnit: one test case per (stack, env, gate) that passed or did not run, and one failed test case per finding.
SARIF: one result per finding, its rule `<gate>/<rule>`, located at the file and line when known.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from infractl import __version__
from infractl.adapters import files
from infractl.models.validation import STATIC_GATES, Finding, ValidationReport

JSON_FILE = "validate.json"
JUNIT_FILE = "validate.junit.xml"
SARIF_FILE = "validate.sarif"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def digest(report: ValidationReport) -> str:
    """The SHA-256 of the report's validate.json as `write` writes it (the evidence entry of `validate` names it)."""
    import hashlib

    return hashlib.sha256(
        (json.dumps(report.model_dump(mode="json"), indent=2, sort_keys=True) + "\n").encode()
    ).hexdigest()


def write(report: ValidationReport, directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / JSON_FILE, directory / JUNIT_FILE, directory / SARIF_FILE]
    files.write_json(paths[0], report.model_dump(mode="json"))
    ET.ElementTree(junit(report)).write(paths[1], encoding="utf-8", xml_declaration=True)
    paths[2].write_text(json.dumps(sarif(report), indent=1) + "\n", encoding="utf-8")
    return paths


def _where(f: Finding) -> str:
    env = f.env or "all envs"
    return f"{f.stack}/{env}"


def junit(report: ValidationReport) -> ET.Element:
    suites = ET.Element("testsuites", name="infractl validate", time=f"{report.duration_s:.1f}")
    by_gate: dict[str, set[tuple[str, str, str]]] = {}
    for cell in report.cells:
        for gate, status in cell.gates.items():
            env = "" if gate in STATIC_GATES else cell.env  # static gates ran once per stack
            by_gate.setdefault(gate, set()).add((cell.stack, env, status))
    for gate, entries in by_gate.items():
        gate_findings = [f for f in report.findings if f.gate == gate]
        suite = ET.SubElement(suites, "testsuite", name=gate)
        tests = failures = skipped = 0
        for stack, env, status in sorted(entries):
            if status == "fail":
                continue  # its findings are the failed cases
            case = ET.SubElement(suite, "testcase", classname=f"{gate}.{stack}", name=f"{stack} {env}".strip())
            tests += 1
            if status == "not-run":
                ET.SubElement(case, "skipped", message="not run: an earlier gate failed or --fail-fast stopped it")
                skipped += 1
        for f in gate_findings:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"{gate}.{f.stack}",
                name=f"{f.rule} {f.address or f.file} [{_where(f)}]",
            )
            if f.file:
                case.set("file", f.file)
                if f.line:
                    case.set("line", str(f.line))
            failure = ET.SubElement(case, "failure", message=f.message, type=f.rule)
            failure.text = _text(f)
            tests += 1
            failures += 1
        suite.set("tests", str(tests))
        suite.set("failures", str(failures))
        suite.set("skipped", str(skipped))
        suite.set("errors", "0")
    return suites


def _text(f: Finding) -> str:
    lines = [f"gate: {f.gate}", f"rule: {f.rule}", f"stack: {f.stack}", f"env: {f.env or '(every env)'}"]
    if f.address:
        lines.append(f"address: {f.address}")
    if f.file:
        lines.append(f"file: {f.file}{':' + str(f.line) if f.line else ''}")
    lines.append(f.message)
    return "\n".join(lines)


def sarif(report: ValidationReport) -> dict[str, Any]:
    rules: dict[str, dict[str, Any]] = {}
    results = []
    for f in report.findings:
        rule_id = f"{f.gate}/{f.rule}"
        rules.setdefault(
            rule_id,
            {
                "id": rule_id,
                "name": rule_id.replace("/", "-"),
                "shortDescription": {"text": f"infractl validate {f.gate} gate: {f.rule}"},
                "helpUri": "https://github.com/example-org/infractl/blob/main/docs/validate.md",
                "properties": {"gate": f.gate},
            },
        )
        result: dict[str, Any] = {
            "ruleId": rule_id,
            "level": "error",
            "message": {"text": f"[{_where(f)}] {f.address + ': ' if f.address else ''}{f.message}"},
            "properties": {"stack": f.stack, "env": f.env, "address": f.address},
        }
        location: dict[str, Any] = {}
        if f.file:
            physical: dict[str, Any] = {"artifactLocation": {"uri": f.file}}  # relative to the repository root
            if f.line:
                physical["region"] = {"startLine": f.line}
            location["physicalLocation"] = physical
        if f.address:
            location["logicalLocations"] = [{"fullyQualifiedName": f"{f.stack}:{f.address}", "kind": "resource"}]
        if location:
            result["locations"] = [location]
        result["partialFingerprints"] = {"infractl/v1": f"{rule_id}|{f.stack}|{f.env}|{f.address}|{f.file}"}
        results.append(result)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "infractl validate",
                        "version": __version__,
                        "informationUri": "https://github.com/example-org/infractl/blob/main/docs/validate.md",
                        "rules": list(rules.values()),
                    }
                },
                "results": results,
                "invocations": [{"executionSuccessful": True}],
            }
        ],
    }
