"""Entry of `infractl gate infra|security ENV`: every criterion of the gate's definition evaluated from its
evidence, each check in the one place of its kind; the verdict lists every criterion as met, not-met or stale."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from infractl.adapters import git
from infractl.models.gate import CheckDef, CriterionResult, Evidence, GateDef, Verdict
from infractl.services import environments
from infractl.services.gate import definitions, duties, live, policy, reports


class _Run:
    """One evaluation's shared, lazily made inputs: the render (both policies read it) and the AWS target."""

    def __init__(self, ctx: Any, env: str, evidence_dir: Path, say: Callable[[str], None]) -> None:
        self.ctx, self.env, self.evidence_dir, self.say = ctx, env, evidence_dir, say
        self.model = environments.load(ctx.project, env)
        self._scratch = tempfile.TemporaryDirectory(prefix="infractl-gate-")
        self._rendered: list[Path] | None = None
        self._render_error: str | None = None

    def close(self) -> None:
        self._scratch.cleanup()

    def stacks(self) -> list[str]:
        """Every stack the env deploys: the stack graph's of its cloud."""
        from infractl.services.stacks import graph

        manifest = graph.load_manifest(self.ctx.project)
        return sorted(name for name, spec in manifest.stacks.items() if spec.cloud == self.model.cloud)

    def rendered(self) -> list[Path] | str:
        """The env's rendered manifests, or why they could not be rendered."""
        if self._rendered is None and self._render_error is None:
            from infractl.errors import InfractlError
            from infractl.services.render import render

            self.say(f"rendering {self.env}'s charts")
            try:
                result = render.render(self.ctx.project, self.env, Path(self._scratch.name) / "render")
                self._rendered = [Path(c.manifest) for c in result.charts]
            except InfractlError as exc:
                self._render_error = f"the charts did not render: {exc.message}"
        return self._rendered if self._rendered is not None else str(self._render_error)

    def check(self, check: CheckDef, now: datetime) -> Evidence:
        root = self.evidence_dir
        if check.kind == "tests":
            return reports.tests(check, root, now)
        if check.kind == "drill":
            return reports.drill(check, root, self.env, now, emulate=self.ctx.emulate)
        if check.kind == "scan":
            return reports.scan(check, root, now)
        if check.kind == "validate":
            return reports.validate(check, root, self.env, now, self.stacks())
        if check.kind == "ledger":
            self.say(f"verifying {self.env}'s evidence ledger")
            return live.ledger(check, self.ctx, self.env, now)
        if check.kind == "parity":
            self.say("checking parity")
            return live.parity(check, self.ctx, now)
        if check.kind == "duties":
            self.say("reading IAM")
            repository = str((self.model.stacks.get("ci") or {}).get("github_repository", ""))
            return duties.duties(check, lambda: self.ctx.aws_target(self.model), self.env, repository, now)
        return self._policy(check, now)

    def _policy(self, check: CheckDef, now: datetime) -> Evidence:
        manifests = self.rendered()
        if isinstance(manifests, str):
            return reports.not_met(check, "live: infractl render", manifests, now)
        if check.policy == "tenant-isolation":
            return policy.tenant_isolation(check, manifests, [t.name for t in self.model.tenants], now)
        from infractl.adapters import checkov
        from infractl.models.project import install_root

        self.say(f"checkov {len(check.rules)} checks on the render")
        binary = checkov.find_binary(self.ctx.project.root, self.ctx.settings.checkov_bin, home=install_root())
        results = checkov.scan(
            binary,
            scratch=Path(self._scratch.name) / "checkov",
            base_env=self.ctx.environ,
            manifests=manifests,
            checks=check.rules,
            with_passed=True,
        )
        return policy.sandboxing(check, manifests, results, now)


def evaluate(
    ctx: Any, gate: str, env: str, evidence_dir: Path, *, progress: Callable[[str], None] | None = None
) -> Verdict:
    """The verdict of `gate` for `env`. Raises only for bad input (no such gate or env, a broken definition):
    evidence that is missing, broken or old is a criterion not met or stale, never an error."""
    say = progress or (lambda _m: None)
    definition: GateDef = definitions.load(ctx.project, gate)
    started = datetime.now(UTC)
    run = _Run(ctx, env, evidence_dir, say)
    try:
        results = []
        for criterion in definition.criteria:
            say(f"{criterion.id}: {criterion.title}")
            now = datetime.now(UTC)
            results.append(
                CriterionResult(
                    id=criterion.id, title=criterion.title, evidence=[run.check(c, now) for c in criterion.checks]
                )
            )
    finally:
        run.close()
    return Verdict(
        gate=gate,
        title=definition.title,
        env=env,
        definition=definition.file,
        definition_sha256=definition.sha256,
        evidence_dir=str(evidence_dir),
        commit=git.head_commit(ctx.project.root),
        started_at=started,
        finished_at=datetime.now(UTC),
        criteria=results,
    )
