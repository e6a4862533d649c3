"""The secrets gate of an image layer (a tar blob, gzip'd or not): detect-secrets over its regular text files.

A layer holds thousands of third-party files and no baseline can cover them, so the layer scan uses only the
detectors whose patterns are specific to a kind of credential (cloud and service API keys, private keys; no keyword,
entropy, basic-auth or JWT heuristics, which flag every test fixture of every library), and AWS's documentation
example keys (ending in EXAMPLE or EXAMPLEKEY, shipped in boto3's own examples) are not reported. detect-secrets
costs ~0.3 ms a line, so the layer is first read once in memory and only the files in which one of those detectors'
own patterns (taken from the installed detect-secrets) matches are written out and handed to it for the verdict.
Binary files (a NUL byte in the first 8 KiB), files over MAX_BYTES, links and whiteouts are skipped.
"""

from __future__ import annotations

import json
import re
import tarfile
import tempfile
from pathlib import Path, PurePosixPath

from infractl.adapters import process
from infractl.errors import ExternalToolError, UsageError
from infractl.models.scan import Finding, Gate
from infractl.services.scan import tools

TOOL = "detect-secrets"
MAX_BYTES = 8 * 1024 * 1024
LAYER_DETECTORS = frozenset(
    {
        "AWSKeyDetector",
        "AzureStorageKeyDetector",
        "GitHubTokenDetector",
        "GitLabTokenDetector",
        "NpmDetector",
        "OpenAIDetector",
        "PrivateKeyDetector",
        "PypiTokenDetector",
        "SendGridDetector",
        "SlackDetector",
        "SquareOAuthDetector",
        "StripeDetector",
    }
)
# AWS documentation keys: AKIAIOSFODNN7EXAMPLE, wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY  # pragma: allowlist secret
DOC_EXAMPLES = r"EXAMPLE(KEY)?$"
# API documentation shipped in packages, not code: botocore's examples-1.json (IAM's show an example private key).
VENDOR_DOCS = re.compile(r"(^|/)site-packages/botocore/data/.+/examples-1\.json$")


def detectors() -> tuple[list[str], list[re.Pattern[str]]]:
    """(the detectors to disable, the patterns of the ones kept) from the installed detect-secrets."""
    try:
        from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    except ImportError:
        raise ExternalToolError(
            "detect-secrets is not installed in infractl's environment", hint=tools.INSTALL_HINT
        ) from None
    classes = list(get_mapping_from_secret_type_to_class().values())
    disabled = sorted(c.__name__ for c in classes if c.__name__ not in LAYER_DETECTORS)
    patterns = [p for c in classes if c.__name__ in LAYER_DETECTORS for p in getattr(c, "denylist", ())]
    return disabled, patterns


def member_path(name: str) -> PurePosixPath | None:
    """The path of a tar member inside the image (relative), or None when it is unsafe or a whiteout."""
    parts = [p for p in PurePosixPath(name).parts if p not in ("/", ".")]
    if not parts or ".." in parts or parts[-1].startswith(".wh."):
        return None
    return PurePosixPath(*parts)


def candidates(blob: Path, patterns: list[re.Pattern[str]], out: Path) -> tuple[int, list[str]]:
    """Write the layer's text files that match a pattern under out; (text files read, relative paths written)."""
    read = 0
    written = []
    try:
        with tarfile.open(blob, mode="r:*") as tar:
            for member in tar:
                path = member_path(member.name)
                if path is None or not member.isreg() or member.size > MAX_BYTES or VENDOR_DOCS.search(str(path)):
                    continue
                handle = tar.extractfile(member)
                if handle is None:
                    continue
                data = handle.read()
                if b"\0" in data[:8192]:
                    continue
                read += 1
                text = data.decode("utf-8", errors="replace")
                if any(p.search(text) for p in patterns):
                    target = out / path
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(data)
                    written.append(path.as_posix())
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise UsageError(
            f"{blob}: not a readable tar layer ({exc})", hint="give --layer NAME=PATH of a layer blob"
        ) from None
    return read, written


def layer(name: str, blob: Path) -> Gate:
    gate_name = f"secrets:{name}"
    binary = tools.python_tool("detect-secrets")
    disabled, patterns = detectors()
    with tempfile.TemporaryDirectory(prefix="infractl-layer-") as tmp:
        root = Path(tmp)
        read, written = candidates(blob, patterns, root)
        report: dict = {}
        if written:
            argv = [binary, "scan", "--no-verify", "--all-files", "--exclude-secrets", DOC_EXAMPLES]
            for detector in disabled:
                argv += ["--disable-plugin", detector]
            done = process.run([*argv, *written], cwd=root, timeout=1800, env=tools.tool_env())
            report = json.loads(done.stdout or "{}")
    findings = [
        Finding(
            file="/" + str(r.get("filename", "")),
            line=r.get("line_number"),
            rule=str(r.get("type")),
            message=f"{r.get('type')} in layer {name}",
        )
        for items in (report.get("results") or {}).values()
        for r in items
    ]
    findings.sort(key=lambda f: (f.file, f.line or 0))
    return Gate(
        name=gate_name,
        status="failed" if findings else "passed",
        tool=TOOL,
        tool_version=tools.version([binary, "--version"]),
        findings=findings,
        note=f"{blob.name}: {read} text file(s), {len(written)} matched a detector's pattern and were scanned",
    )
