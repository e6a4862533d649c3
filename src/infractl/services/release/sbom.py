"""The SBOM of an image: CycloneDX 1.6, read from the image's own layers (not from requirements files).

- Debian packages: `var/lib/dpkg/status` of the merged file system (the top-most layer that has it wins; a
  whiteout of it, or of a directory above it, hides the lower ones), every package whose status is "installed",
  as `pkg:deb/debian/<name>@<version>?arch=<arch>`.
- Python packages: every `*/site-packages/*.dist-info/METADATA` (and `dist-packages`) left in the merged file
  system, as `pkg:pypi/<normalized name>@<version>`, with the license when the metadata declares one briefly.
- The image itself is `metadata.component` (type container, purl `pkg:oci/<name>@<digest>`), and depends on
  every package. The serial number is a uuid5 of the image, and the timestamp is the build's SOURCE_DATE_EPOCH
  (or absent), so the same image always gives the same SBOM bytes.

Each layer (gzip'd or plain tar) is streamed once, and only the few members above are read.
Every document is validated against the CycloneDX 1.6 JSON schema (shipped with cyclonedx-python-lib) before it
is returned.
"""

from __future__ import annotations

import functools
import json
import re
import tarfile
import uuid
import warnings
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from email.parser import HeaderParser
from pathlib import Path, PurePosixPath
from typing import Any

from infractl.errors import VerificationError
from infractl.services.release.signing import check_digest

DPKG_STATUS = "var/lib/dpkg/status"
DIST_INFO = re.compile(r"(?:^|/)(?:site|dist)-packages/[^/]+\.dist-info/METADATA$")
OPAQUE = ".wh..wh..opq"
WHITEOUT = ".wh."
MAX_MEMBER_BYTES = 64 << 20  # a dpkg status of a full distribution is a few MB; METADATA a few KB
SBOM_NAMESPACE = uuid.UUID("6b1f0a8e-8f2c-5c1e-9d4a-1f0e2b7c3a55")  # infractl's namespace for SBOM serial numbers


# --- reading the layers -------------------------------------------------------------------------------------------


def _normalize(name: str) -> str:
    path = PurePosixPath("/" + name).as_posix().lstrip("/")
    return "" if path == "." else path


def _wanted(path: str) -> bool:
    return path == DPKG_STATUS or bool(DIST_INFO.search(path))


def _read_layer(layer: Path) -> tuple[dict[str, bytes], list[str], list[str]]:
    """(wanted files, whited-out paths, opaque directories) of one layer, streamed once."""
    files: dict[str, bytes] = {}
    removed: list[str] = []
    opaque: list[str] = []
    try:
        with open(layer, "rb") as raw, tarfile.open(fileobj=raw, mode="r|*") as tar:
            for member in tar:
                path = _normalize(member.name)
                parent, _, base = path.rpartition("/")
                if base == OPAQUE:
                    opaque.append(parent)
                elif base.startswith(WHITEOUT):
                    removed.append(f"{parent}/{base[len(WHITEOUT) :]}" if parent else base[len(WHITEOUT) :])
                elif member.isfile() and _wanted(path):
                    if member.size > MAX_MEMBER_BYTES:
                        raise VerificationError(f"{layer}: {path} is {member.size} bytes, more than an SBOM reads")
                    stream = tar.extractfile(member)
                    files[path] = stream.read() if stream else b""
    except FileNotFoundError:
        raise VerificationError(f"{layer}: no such layer file") from None
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise VerificationError(f"{layer}: not a readable tar layer (plain or gzip'd): {exc}") from None
    return files, removed, opaque


def _hidden(path: str, removed: Iterable[str], opaque: Iterable[str]) -> bool:
    return any(path == r or path.startswith(r + "/") for r in removed) or any(
        path.startswith(d + "/") if d else True for d in opaque
    )


def merged_files(layers: Sequence[Path]) -> dict[str, bytes]:
    """The wanted files of the image's merged file system, layers given bottom to top. A layer's whiteouts hide
    what the layers below it hold, never the layer's own files."""
    state: dict[str, bytes] = {}
    for layer in layers:
        files, removed, opaque = _read_layer(Path(layer))
        state = {p: data for p, data in state.items() if not _hidden(p, removed, opaque)}
        state.update(files)
    return state


# --- packages -----------------------------------------------------------------------------------------------------


def dpkg_packages(status: str) -> list[dict[str, str]]:
    """The installed packages of a dpkg status file: [{Package, Version, Architecture, ...}]."""
    packages = []
    for stanza in re.split(r"\n\s*\n", status):
        fields: dict[str, str] = {}
        key = None
        for line in stanza.splitlines():
            if line[:1] in (" ", "\t"):
                continue  # a continuation line (descriptions, conffiles): nothing the SBOM needs
            key, sep, value = line.partition(":")
            if sep:
                fields[key.strip()] = value.strip()
        if fields.get("Package") and fields.get("Version") and fields.get("Status", "").split()[-1:] == ["installed"]:
            packages.append(fields)
    return packages


def python_package(metadata: str) -> dict[str, str] | None:
    """Name, Version and a short license of a dist-info METADATA; None without a name or version."""
    headers = HeaderParser().parsestr(metadata)
    name, version = headers.get("Name"), headers.get("Version")
    if not name or not version:
        return None
    found = {"name": str(name).strip(), "version": str(version).strip()}
    expression = headers.get("License-Expression")
    short = headers.get("License")
    if expression:
        found["license_expression"] = str(expression).strip()
    elif (
        short and "\n" not in str(short).strip() and len(str(short).strip()) <= 100 and str(short).strip() != "UNKNOWN"
    ):
        found["license_name"] = str(short).strip()
    return found


def normalize_pypi(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


# --- the document -------------------------------------------------------------------------------------------------


def from_layers(
    layers: Sequence[Path],
    *,
    name: str,
    version: str,
    digest: str,
    source_date_epoch: int | None = None,
) -> dict[str, Any]:
    """The CycloneDX 1.6 SBOM (a JSON-ready dict) of the image name:version at digest whose layer blobs are
    layers (bottom to top). The same inputs always give the same document."""
    from cyclonedx.model.bom import Bom, BomMetaData
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.model.license import DisjunctiveLicense, LicenseExpression
    from cyclonedx.output.json import JsonV1Dot6
    from packageurl import PackageURL

    check_digest(digest)
    files = merged_files(layers)
    components: dict[str, Any] = {}
    if DPKG_STATUS in files:
        for pkg in dpkg_packages(files[DPKG_STATUS].decode("utf-8", "replace")):
            arch = pkg.get("Architecture", "")
            purl = PackageURL(
                type="deb",
                namespace="debian",
                name=pkg["Package"],
                version=pkg["Version"],
                qualifiers={"arch": arch} if arch else None,
            )
            components[purl.to_string()] = Component(
                type=ComponentType.LIBRARY,
                name=pkg["Package"],
                version=pkg["Version"],
                purl=purl,
                bom_ref=purl.to_string(),
            )
    for path in sorted(p for p in files if p != DPKG_STATUS):
        pkg = python_package(files[path].decode("utf-8", "replace"))
        if pkg is None:
            continue
        purl = PackageURL(type="pypi", name=normalize_pypi(pkg["name"]), version=pkg["version"])
        licenses = []
        if "license_expression" in pkg:
            licenses = [LicenseExpression(pkg["license_expression"])]
        elif "license_name" in pkg:
            licenses = [DisjunctiveLicense(name=pkg["license_name"])]
        components.setdefault(
            purl.to_string(),
            Component(
                type=ComponentType.LIBRARY,
                name=pkg["name"],
                version=pkg["version"],
                purl=purl,
                bom_ref=purl.to_string(),
                licenses=licenses,
            ),
        )
    image_purl = PackageURL(type="oci", name=name.rsplit("/", 1)[-1].lower(), version=digest)
    image = Component(
        type=ComponentType.CONTAINER, name=name, version=version, purl=image_purl, bom_ref=image_purl.to_string()
    )
    stamp = datetime.fromtimestamp(source_date_epoch or 0, tz=UTC)
    bom = Bom(
        serial_number=uuid.uuid5(SBOM_NAMESPACE, f"{name}\n{version}\n{digest}"),
        metadata=BomMetaData(component=image, timestamp=stamp),
        components=list(components.values()),
    )
    bom.register_dependency(image, list(components.values()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the library's advice on dependency graphs of empty images
        doc = json.loads(JsonV1Dot6(bom).output_as_string())
    if source_date_epoch is None:
        doc["metadata"].pop("timestamp", None)
    else:
        doc["metadata"]["timestamp"] = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    validate(doc)
    return doc


@functools.cache
def _validator() -> Any:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    return JsonStrictValidator(SchemaVersion.V1_6)


def validate(doc: dict[str, Any]) -> None:
    """VerificationError naming the JSON path of the first CycloneDX 1.6 schema error in doc."""
    if not isinstance(doc, dict):
        raise VerificationError("the SBOM is not a JSON object")
    if doc.get("bomFormat") != "CycloneDX" or doc.get("specVersion") != "1.6":
        raise VerificationError(
            f"the SBOM is not CycloneDX 1.6 (bomFormat {doc.get('bomFormat')!r},"
            f" specVersion {doc.get('specVersion')!r})"
        )
    try:
        text = json.dumps(doc)
    except (TypeError, ValueError) as exc:
        raise VerificationError(f"the SBOM is not JSON data: {exc}") from None
    error = _validator().validate_str(text)
    if error is not None:
        detail = getattr(error, "data", error)
        path = getattr(detail, "json_path", "$")
        message = str(getattr(detail, "message", detail))
        if len(message) > 200:
            message = message[:200] + "…"
        raise VerificationError(f"the SBOM is not valid CycloneDX 1.6: {path}: {message}")


def purls(doc: dict[str, Any]) -> list[str]:
    """The package URLs of the SBOM's components, in document order."""
    return [c["purl"] for c in doc.get("components", []) if isinstance(c, dict) and isinstance(c.get("purl"), str)]
