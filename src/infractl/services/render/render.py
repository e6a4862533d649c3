"""Render the Helm charts of one environment, and deploy them (docs/render.md): `infractl render` and
`infractl deploy` (cli/render.py) call render, deploy and state_outputs. The values come from values.py.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from infractl.adapters import helm
from infractl.errors import CommandError, ConfigError, ExternalToolError, UsageError
from infractl.models.project import Project
from infractl.models.render import ChartRender, DeployResult, RenderResult
from infractl.services.context import Context
from infractl.services.render.charts import CHARTS, ChartSpec, chart_path
from infractl.services.render.values import STATE_STACKS, EnvValues, SloSource, kube_version_for, values_for


def render(
    project: Project,
    env_name: str,
    out_dir: Path,
    *,
    outputs: dict[str, dict[str, Any]] | None = None,
    slo: SloSource | None = None,
) -> RenderResult:
    """Build each chart's values from the env model (and the applied stacks' outputs, when given; the SLO rules and
    dashboards from slo, default values.slo_definitions), render it (schema-checked), lint it strictly, and write
    `<out>/<env>/<chart>.yaml` and `<out>/<env>/values/<chart>.yaml`. Nothing is written unless every chart renders
    and lints."""
    return _render(project, values_for(project, env_name, outputs, slo=slo), out_dir)


def _render(project: Project, built: EnvValues, out_dir: Path) -> RenderResult:
    env_name = built.env.name
    kube_version = kube_version_for(built.env)
    rendered: list[tuple[ChartSpec, dict[str, Any], str, Counter[str]]] = []
    for spec in CHARTS:
        chart_dir = chart_path(project, spec.name)
        values = built.charts[spec.name]
        templates = helm.render(chart_dir, values, release=spec.name, namespace=spec.namespace)
        problems = helm.lint(chart_dir, values, namespace=spec.namespace, kube_version=kube_version)
        if problems:
            raise ExternalToolError(f"chart {spec.name}: helm lint --strict failed for {env_name}", details=problems)
        text, kinds = _manifest(templates)
        rendered.append((spec, values, text, kinds))
    dest = out_dir / built.env.name
    charts: list[ChartRender] = []
    written: list[str] = []
    for spec, values, text, kinds in rendered:
        manifest = dest / f"{spec.name}.yaml"
        values_file = dest / "values" / f"{spec.name}.yaml"
        try:
            values_file.parent.mkdir(parents=True, exist_ok=True)
            manifest.write_text(text, encoding="utf-8")
            values_file.write_text(_dump(values), encoding="utf-8")
        except OSError as exc:
            raise UsageError(
                f"--out {out_dir}: cannot write {exc.filename or dest}: {exc.strerror}",
                hint="pass a writable directory to --out",
            ) from None
        written += [str(manifest), str(values_file)]
        charts.append(
            ChartRender(
                chart=spec.name,
                release=spec.name,
                namespace=spec.namespace,
                manifest=str(manifest),
                values_file=str(values_file),
                objects=dict(sorted(kinds.items())),
            )
        )
    return RenderResult(
        env=built.env.name, out_dir=str(dest), charts=charts, files=written, unpinned=built.unpinned, notes=built.notes
    )


def deploy(
    project: Project,
    env_name: str,
    out_dir: Path,
    *,
    dry_run: bool,
    confirm: Callable[[str], bool],
    on_chart: Callable[[str, int, int], None] = lambda chart, i, n: None,
    outputs: dict[str, dict[str, Any]] | None = None,
) -> DeployResult:
    """Render, then `helm upgrade --install` each chart in order (on_chart(chart, i, n) before each). --dry-run:
    render and list the commands only. A failing chart stops the deploy; the error names what was deployed."""
    context = None if dry_run else helm.current_kube_context()
    built = values_for(project, env_name, outputs)
    if not dry_run:
        # Fail before rendering anything when there is nothing (or nothing safe) to runs.
        unpinned = built.unpinned
        if unpinned:
            shown = project.rel(project.env_file(env_name))
            lines = [f"{shown}: images.{name}: no digest pinned" for name in unpinned]
            raise ConfigError(
                f"refusing to deploy {env_name}: {len(unpinned)} image(s) not pinned by digest",
                details=lines,
                hint="add images.<name>: {repository, digest: sha256:…} to the env file (the release pipeline's "
                "digests); render and deploy --dry-run show the rest without them",
            )
        if helm.binary() is None:
            raise ExternalToolError(
                "deploy needs the helm binary, and none is on PATH",
                hint="install helm 3.14+ (or use --dry-run to render and list the commands)",
            )
        if context is None:
            raise ExternalToolError(
                "deploy needs a Kubernetes context, and the kubeconfig has none",
                hint="aws eks update-kubeconfig --name <cluster> (or use --dry-run)",
            )
    result = _render(project, built, out_dir)
    commands = [
        helm.upgrade_install_args(
            release=c.release,
            chart_dir=chart_path(project, c.chart),
            namespace=c.namespace,
            values_file=Path(c.values_file),
            kube_context=context,
        )
        for c in result.charts
    ]
    if not dry_run:
        if not confirm(f"deploy {len(commands)} chart(s) to {env_name} (context {context})?"):
            raise UsageError("deploy not confirmed")
        done: list[str] = []
        for i, (chart, argv) in enumerate(zip(result.charts, commands, strict=True), 1):
            on_chart(chart.chart, i, len(commands))
            try:
                helm.run(argv)
            except CommandError as exc:
                rest = [c.chart for c in result.charts[i:]]
                raise ExternalToolError(
                    f"deploy {env_name}: helm upgrade --install {chart.chart} failed (exit {exc.returncode}); "
                    f"deployed: {', '.join(done) or 'none'}; not attempted: {', '.join(rest) or 'none'}",
                    details=exc.details,
                    hint="helm rolled the failed release back (--atomic); fix the cause and run deploy again "
                    "(charts already deployed are upgraded in place)",
                ) from None
            done.append(chart.chart)
    return DeployResult(env=result.env, dry_run=dry_run, kube_context=context, commands=commands, render=result)


def state_outputs(ctx: Context, env_name: str) -> dict[str, dict[str, Any]]:
    """The outputs values.STATE_VALUES needs, from the env's applied stacks (the emulator's state with --emulate)."""
    from infractl.models.runs import NullProgress
    from infractl.services.stacks import runs

    return runs.applied_outputs(ctx, env_name, STATE_STACKS, NullProgress())


def _manifest(templates: dict[str, str]) -> tuple[str, Counter[str]]:
    import yaml

    kinds: Counter[str] = Counter()
    parts = []
    for path, text in templates.items():
        docs = [d for d in yaml.safe_load_all(text) if d]
        if not docs:
            continue
        kinds.update(str(d.get("kind")) for d in docs if isinstance(d, dict))
        body = text.strip()
        if not body.startswith("---"):
            body = f"---\n# Source: {path}\n{body}"
        parts.append(body)
    return "\n".join(parts) + "\n", kinds


def _dump(values: dict) -> str:
    import yaml

    return yaml.safe_dump(values, sort_keys=False, default_flow_style=False)
