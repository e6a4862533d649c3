"""Helm: the only module that imports the Helm SDK (helm-python-sdk, imported inside functions so `infractl --help`
stays fast), and the `helm` binary for deploys. Renders and lints with no cluster; errors name the chart."""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from infractl.errors import ConfigError, ExternalToolError

SDK_HINT = "pip install helm-python-sdk (listed in the devtools extra: pip install -e '.[devtools]')"
# "- at '/api/replicas': got string, want integer" in Helm's schema error.
_SCHEMA_LINE = re.compile(r"^-\s*at\s+'(?P<path>[^']*)':\s*(?P<msg>.*)$")


# The SDK logs through Go's default logger straight to file descriptor 2, one line per chart load and subchart:
# "found symbolic link in path" for every charts/common link to the library chart (helm/common/README.md).
_SDK_NOISE = ("found symbolic link in path",)


_STDERR_SWAP = threading.Lock()  # fd 2 is the process's: one swap at a time


@contextlib.contextmanager
def _filtered_stderr() -> Iterator[None]:
    """Hold what the SDK writes to fd 2 during the call, then pass on every line but the known notes above: nothing
    else is hidden, only delayed until the call returns."""
    with _STDERR_SWAP, tempfile.TemporaryFile() as held:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(held.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            for line in held.read().decode("utf-8", "replace").splitlines(keepends=True):
                if not any(note in line for note in _SDK_NOISE):
                    sys.stderr.write(line)
            sys.stderr.flush()


def _sdk() -> Any:
    try:
        import helm_python
    except ImportError as exc:  # an optional extra
        raise ExternalToolError("the Helm SDK is not installed", hint=SDK_HINT) from exc
    return helm_python


def render(chart_dir: Path, values: dict[str, Any], *, release: str, namespace: str) -> dict[str, str]:
    """Render the chart offline as an install: {template path: text}, NOTES.txt left out, hooks included.

    `Chart.render` (not a dry-run install) because a release's manifest leaves out hook resources (the Temporal schema
    Job); both check the values against values.schema.json first, so a wrong value type fails here as a ConfigError.
    """
    helm = _sdk()
    name = chart_dir.name
    with _filtered_stderr():
        try:
            chart = helm.Chart.load(str(chart_dir))
        except helm.HelmError as exc:
            raise ExternalToolError(f"chart {name}: cannot load {chart_dir}: {exc}") from None
        try:
            out = chart.render(values, name=release, namespace=namespace, is_install=True)
        except helm.HelmError as exc:
            raise _values_error(name, str(exc)) from None
        finally:
            chart.close()
    return {path: text for path, text in sorted(out.items()) if not path.endswith("NOTES.txt")}


def lint(chart_dir: Path, values: dict[str, Any], *, namespace: str, kube_version: str | None = None) -> list[str]:
    """`helm lint --strict` with these values: the warnings and errors as `path: message` lines (empty = clean)."""
    helm = _sdk()
    try:
        with _filtered_stderr():
            report = helm.lint(str(chart_dir), values, strict=True, namespace=namespace, kube_version=kube_version)
    except helm.HelmError as exc:
        raise _values_error(chart_dir.name, str(exc)) from None
    lines = [f"{m['path']}: {m['error']}" for m in report.get("messages", []) if m.get("severity", 0) >= 2]
    return lines + [str(e) for e in report.get("errors", [])]


def _values_error(chart: str, text: str) -> ConfigError | ExternalToolError:
    """Helm's schema failure names each failing value (`- at '/a/b': got string, want integer`): a ConfigError with
    one `chart: a.b: problem` line each. Any other render failure is a template problem: ExternalToolError."""
    found = [m for m in (_SCHEMA_LINE.match(line.strip()) for line in text.splitlines()) if m]
    if found:
        lines = [
            f"chart {chart}: values {m['path'].strip('/').replace('/', '.') or '(top level)'}: {m['msg']}"
            for m in found
        ]
        return ConfigError(lines[0], details=lines[1:], hint=f"see helm/{chart}/values.schema.json")
    first, *rest = [line for line in text.splitlines() if line.strip()] or ["(no message)"]
    return ExternalToolError(f"chart {chart}: render failed: {first}", details=rest)


# --- deploys: the helm binary --------------------------------------------------------------------------------------


def binary() -> str | None:
    """The helm binary on PATH, or None."""
    from infractl.adapters import process

    try:
        return process.find_binary("helm")
    except ExternalToolError:
        return None


def current_kube_context(kubeconfig: str | None = None) -> str | None:
    """The current context of the kubeconfig (KUBECONFIG's first file, else ~/.kube/config), or None."""
    import yaml

    paths = (kubeconfig or os.environ.get("KUBECONFIG") or str(Path.home() / ".kube" / "config")).split(os.pathsep)
    for path in paths:
        p = Path(path).expanduser()
        if not p.is_file():
            continue
        try:
            data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError):
            continue
        if isinstance(data, dict) and data.get("current-context"):
            return str(data["current-context"])
    return None


def upgrade_install_args(
    *, release: str, chart_dir: Path, namespace: str, values_file: Path, kube_context: str | None, timeout: str = "10m"
) -> list[str]:
    """The argv of one `helm upgrade --install` (pure: unit-tested without the binary). --atomic: a failed install
    or upgrade is rolled back (it implies --wait), so a release is never left half-applied."""
    argv = ["helm", "upgrade", "--install", release, str(chart_dir), "--namespace", namespace, "--create-namespace"]
    argv += ["--values", str(values_file), "--atomic", "--wait", "--timeout", timeout]
    if kube_context:
        argv += ["--kube-context", kube_context]
    return argv


def run(argv: Sequence[str]) -> str:
    from infractl.adapters import process

    return process.run(argv).stdout
