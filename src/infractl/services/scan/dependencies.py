"""The dependency gate: pip-audit over infractl's Python environment against the OSV vulnerability database.

pip-audit needs the network, and its failures look like passes unless asked: `-s pypi` skips every package it
cannot reach and still says "No known vulnerabilities found" (exit 0). So the gate asks OSV (`-s osv`), with
`--strict`, and first checks that the service's host resolves (a DNS lookup, milliseconds, instead of pip-audit's
retries). Unreachable: the gate is *not run (offline)*, never passed; with INFRACTL_SCAN_PIP_AUDIT=required (CI)
it fails instead. A vulnerability fails the gate with the package, version, advisory and fixed versions.
"""

from __future__ import annotations

import json
from typing import Any

from infractl.adapters import process
from infractl.models.scan import Finding, Gate
from infractl.services.scan import tools

TOOL = "pip-audit"
SERVICE_HOST = "api.osv.dev"
OFFLINE_MARKERS = (
    "NameResolutionError",
    "Failed to resolve",
    "Temporary failure in name resolution",
    "Name or service not known",
    "Max retries exceeded",
    "ConnectionError",
    "ConnectTimeout",
    "ReadTimeout",
    "Network is unreachable",
)


def resolves(host: str) -> bool:
    """The host has an address (getent asks the system resolver; bounded, no retries)."""
    return process.probe(["getent", "ahosts", host], timeout=5)


def gate(*, required: bool, reachable: bool | None = None) -> Gate:
    binary = tools.python_tool("pip-audit")
    version = tools.version([binary, "--version"])
    if not (resolves(SERVICE_HOST) if reachable is None else reachable):
        return offline(required, f"{SERVICE_HOST} does not resolve", version)
    argv = [binary, "--vulnerability-service", "osv", "--strict", "--skip-editable"]
    argv += ["--format", "json", "--progress-spinner", "off", "--timeout", "20"]
    done = process.run(argv, ok_codes=(0, 1), timeout=900, env=tools.tool_env())
    return classify(done.returncode, done.stdout, done.stderr, required=required, version=version)


def offline(required: bool, why: str, version: str = "") -> Gate:
    if required:
        finding = Finding(
            rule="vulnerability-service-unreachable",
            message=f"{why}: the dependencies were not audited, and INFRACTL_SCAN_PIP_AUDIT=required",
        )
        return Gate(name="dependencies", status="failed", tool=TOOL, tool_version=version, findings=[finding], note=why)
    return Gate(name="dependencies", status="not-run", tool=TOOL, tool_version=version, note=f"offline: {why}")


def classify(returncode: int, stdout: str, stderr: str, *, required: bool, version: str = "") -> Gate:
    """pip-audit's outcome: its JSON report (vulnerabilities fail), or its failure (offline, or an error)."""
    report = _report(stdout)
    if report is None:
        text = f"{stdout}\n{stderr}"
        if any(marker in text for marker in OFFLINE_MARKERS):
            return offline(required, f"{SERVICE_HOST} is unreachable", version)
        last = next((line.strip() for line in reversed(text.splitlines()) if line.strip()), f"exit {returncode}")
        finding = Finding(rule="pip-audit-error", message=f"pip-audit failed: {last[:300]}")
        return Gate(name="dependencies", status="failed", tool=TOOL, tool_version=version, findings=[finding])
    deps = report.get("dependencies") or []
    findings = []
    for dep in deps:
        for vuln in dep.get("vulns") or []:
            fixed = ", ".join(vuln.get("fix_versions") or []) or "none yet"
            aliases = ", ".join(vuln.get("aliases") or [])
            findings.append(
                Finding(
                    file=f"{dep.get('name')}=={dep.get('version')}",
                    rule=str(vuln.get("id")),
                    message=f"{dep.get('name')} {dep.get('version')}: {vuln.get('id')}"
                    + (f" ({aliases})" if aliases else "")
                    + f"; fixed in: {fixed}",
                )
            )
    skipped = [d for d in deps if d.get("skip_reason")]
    audited = len(deps) - len(skipped)
    note = f"{audited} package(s) audited against OSV" + (f", {len(skipped)} skipped" if skipped else "")
    status = "failed" if findings or returncode != 0 else "passed"
    if status == "failed" and not findings:
        findings = [Finding(rule="pip-audit-error", message=f"pip-audit exited {returncode} without a vulnerability")]
    return Gate(name="dependencies", status=status, tool=TOOL, tool_version=version, findings=findings, note=note)


def _report(stdout: str) -> dict[str, Any] | None:
    start = stdout.find("{")
    if start < 0:
        return None
    try:
        data = json.loads(stdout[start:])
    except ValueError:
        return None
    return data if isinstance(data, dict) and "dependencies" in data else None
