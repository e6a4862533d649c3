"""`infractl rollout ENV --release V` on the native dev stack (docs/delivery.md#locally): the entry `run`.

Canary: for each step the proxy's weights move (stable 100-w, canary w) and the step is judged every
`analysis.interval` from the canary's own series (analysis.py): `samples` passing samples in a row pass it, the first
breaching one rolls back at once (canary 0, stable 100, the canary drained and stopped). Blue-green: the candidate is
warmed and judged on direct traffic before the switch, then serves 100 % for `bake` under analysis; a breach
switches back. Success: the stable api is restarted as the new release while the canary serves, traffic returns to
it, the canary goes. Every confirmed change is saved (store.py) before the next; Ctrl-C leaves the weights where
they were, marked interrupted (status explains, abort or a re-run resolves)."""

from __future__ import annotations

import math
import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from infractl.errors import ExternalToolError, InfractlError, RolledBack, UsageError
from infractl.models.environment import Environment
from infractl.models.project import Project
from infractl.models.rollout import Criterion, RolloutState, Sample, Step
from infractl.models.slo import parse_duration
from infractl.services import environments, slo
from infractl.services.release import records
from infractl.services.rollout import analysis, store, traffic
from infractl.services.rollout.endpoint import CANARY, CANARY_SERVER, STABLE_SERVER, Stack, opened
from infractl.services.rollout.rollback import back_to_stable, finish_success

Progress = Callable[[str], None]
WARM_REQUESTS = 60  # blue-green: direct requests to the candidate before it is judged


class _Abort(Exception):
    """SIGTERM from `rollout abort`: roll back, mark aborted."""


def run(
    work_dir: Path,
    project: Project,
    env_name: str,
    release: str,
    *,
    strategy: str | None = None,
    steps: list[int] | None = None,
    progress: Progress = lambda _line: None,
) -> RolloutState:
    env = environments.load(project, env_name)
    if env.name != "dev":
        raise UsageError(
            f"{env.name} rolls out through Argo Rollouts: `infractl deploy {env.name}` applies the Rollout and its"
            " AnalysisTemplate (delivery.progressive), the controller moves the traffic",
            hint="watch it with `kubectl argo rollouts get rollout <api> -n <namespace>`; docs/delivery.md",
        )
    manifest = records.load_manifest(project, release)  # what is rolled out is a built release
    api = manifest.images.get("controlplane-api")
    digest = api.digest if api else None
    strategy = strategy or env.delivery.strategy
    weights = _steps(steps, env) if strategy == "canary" else [100]
    sloset = slo.load(project.root, env)
    analysis.local_criteria(sloset, env, "check")  # a definition the analysis cannot use fails before anything runs
    with opened(work_dir, project.root) as stack:
        state = _resume_or_new(stack, env, release, strategy, weights, digest)
        criteria = analysis.local_criteria(sloset, env, state.id)
        with _sigterm_aborts(), traffic.Load(stack.endpoint_url(), env.delivery.load_rps) as load:
            try:
                state = _drive(stack, env, state, criteria, progress)
            except _Abort:
                state = _ended_or(stack, state, "aborted by `infractl rollout abort`", "aborted", criteria)
            except KeyboardInterrupt:
                latest = store.load(stack.directory) or state
                state = latest if latest.final else _interrupted(stack, latest)
                progress(f"interrupted at {state.weights}: `infractl rollout status {env.name}` explains")
                raise
            except InfractlError as exc:  # it cannot judge (Prometheus away, a canary that died): back to stable
                try:
                    state = _ended_or(stack, state, f"the rollout could not go on: {exc.message}", "failed", criteria)
                except InfractlError:
                    _interrupted(stack, store.load(stack.directory) or state)  # the weights stay, status explains
                    raise exc from None
            finally:
                tally = load.snapshot()
                if tally.sent:
                    progress(
                        f"probe traffic: {tally.sent} requests, {tally.server_errors} 5xx, {len(tally.errors)} lost"
                    )
    if state.status != "succeeded":
        raise RolledBack(
            f"rollout of {release} to {env.name} {state.status}: {state.reason}",
            hint=f"what to do next: {state.runbook}; `infractl rollout status {env.name}` shows every sample",
        )
    return state


def _ended_or(stack: Stack, state: RolloutState, reason: str, status: str, criteria: list[Criterion]) -> RolloutState:
    """After an abort or an error: a rollout that already ended stays as it ended; one promoting keeps its traffic on
    the canary (the stable api may be down) and reads as interrupted; any other goes back to stable."""
    latest = store.load(stack.directory) or state
    if latest.final:
        return latest
    if latest.promoting:
        return _interrupted(stack, latest.model_copy(update={"reason": reason}))
    return back_to_stable(stack, latest, reason, status=status, criteria=criteria)


def _steps(steps: list[int] | None, env: Environment) -> list[int]:
    if steps is None:
        return list(env.delivery.steps)
    from infractl.models.environment_delivery import Delivery

    try:
        return Delivery(steps=steps).steps
    except ValueError as exc:
        raise UsageError(f"--steps {','.join(map(str, steps))}: {exc.errors()[0]['msg']}") from None  # type: ignore[attr-defined]


def _resume_or_new(
    stack: Stack, env: Environment, release: str, strategy: str, weights: list[int], digest: str | None
) -> RolloutState:
    old = store.load(stack.directory)
    stack.proxy()
    if old is not None and old.status == "running":
        raise UsageError(
            f"a rollout of {old.release} is running (pid {old.pid})", hint="wait, or: infractl rollout abort dev"
        )
    if old is not None and old.status == "interrupted":
        if old.release != release or old.strategy != strategy:
            raise UsageError(
                f"the rollout of {old.release} ({old.strategy}) was interrupted at {old.weights}",
                hint=f"resume it: infractl rollout {env.name} --release {old.release}; or: infractl rollout abort"
                f" {env.name}",
            )
        if not stack.has(CANARY):  # the canary died with the rollout: start over from stable
            back_to_stable(stack, old, "resumed without its canary", status="aborted")
        else:
            return store.save(stack.directory, old.model_copy(update={"status": "running", "pid": os.getpid()}))
    stable = stack.stable_release()
    if stable == release:
        raise UsageError(f"the dev stack already runs {release}", hint="roll out another release")
    now = store.now()
    stack.runtime().set_weights({STABLE_SERVER: 100, CANARY_SERVER: 0})
    state = RolloutState(
        id=now.strftime("%Y%m%dT%H%M%S%f"),
        env=env.name,
        release=release,
        digest=digest,
        stable=stable,
        strategy=strategy,  # type: ignore[arg-type]
        steps=weights,
        pid=os.getpid(),
        started_at=now,
        updated_at=now,
        weights={STABLE_SERVER: 100, CANARY_SERVER: 0},
        endpoint=stack.endpoint_url(),
        interval_s=parse_duration(env.delivery.analysis.interval),
    )
    state = store.save(stack.directory, state)
    stack.start_canary(release, state.id)
    return state


def _drive(
    stack: Stack, env: Environment, state: RolloutState, criteria: list[Criterion], progress: Progress
) -> RolloutState:
    done = [s.weight for s in state.history if s.verdict == "passed"]
    if state.strategy == "blue-green" and not done:
        progress(f"warming {state.release}: {WARM_REQUESTS} requests straight to it")
        canary_url = f"http://127.0.0.1:{stack.service(CANARY).port}"
        with traffic.Load(canary_url, max(env.delivery.load_rps, 20)):
            verdict, state = _judge(stack, env, state, criteria, 0, progress, warmup=True)
        if verdict != "passed":
            reason = state.reason or "the candidate failed its checks before the switch"
            return back_to_stable(stack, state, reason, criteria=criteria)
    for weight in state.steps:
        if weight in done:
            continue
        state = _set(stack, state, 100 - weight, weight)
        progress(f"step {weight} %: stable {100 - weight} %, canary {weight} %")
        verdict, state = _judge(stack, env, state, criteria, weight, progress)
        if verdict != "passed":
            return back_to_stable(stack, state, state.reason or verdict, criteria=criteria)
    return finish_success(stack, state, progress)


def _set(stack: Stack, state: RolloutState, stable: int, canary: int) -> RolloutState:
    rt = stack.runtime()
    rt.set_weights({STABLE_SERVER: stable, CANARY_SERVER: canary})
    confirmed = rt.weights()
    if (confirmed.get(STABLE_SERVER), confirmed.get(CANARY_SERVER)) != (stable, canary):
        raise ExternalToolError(
            f"haproxy did not take the weights stable {stable}, canary {canary}: it has {confirmed}"
        )
    return store.save(stack.directory, state.model_copy(update={"weights": confirmed}))


def _judge(
    stack: Stack,
    env: Environment,
    state: RolloutState,
    criteria: list[Criterion],
    weight: int,
    progress: Progress,
    *,
    warmup: bool = False,
) -> tuple[str, RolloutState]:
    """Sample every interval until `samples` pass in a row (passed), one breaches (breached), or too many are
    inconclusive in a row (inconclusive); the step and its samples saved after each round."""
    a = env.delivery.analysis
    need = (
        a.samples
        if not (state.strategy == "blue-green" and weight == 100)
        else max(a.samples, math.ceil(parse_duration(env.delivery.bake) / parse_duration(a.interval)))
    )
    interval = parse_duration(a.interval)
    step = Step(weight=weight, started_at=store.now())
    history = [*state.history, step]
    state = store.save(stack.directory, state.model_copy(update={"history": history}))  # Ctrl-C from here: this step
    passed = unknown = 0
    next_at = time.monotonic()
    while True:
        next_at += interval
        time.sleep(max(0.0, next_at - time.monotonic()))
        round_ = [_sample(stack, c, a.min_requests) for c in criteria]
        step.samples.extend(round_)
        verdict = analysis.step_verdict(round_)
        progress(f"  {'warm-up' if warmup else f'{weight} %'}: " + "; ".join(_describe(s) for s in round_))
        if verdict == "breach":
            bad = next(s for s in round_ if s.verdict == "breach")
            step.verdict, step.finished_at = "breached", store.now()
            reason = (
                f"{bad.slo} breached at {'the warm-up' if warmup else f'{weight} %'}: canary error ratio"
                f" {bad.error_ratio:.4f} > {bad.max_error_ratio:g} (1 - objective) over {a.window}"
            )
            state = store.save(stack.directory, state.model_copy(update={"history": history, "reason": reason}))
            return "breached", state
        passed = passed + 1 if verdict == "pass" else 0
        unknown = unknown + 1 if verdict == "inconclusive" else 0
        if passed >= need:
            step.verdict, step.finished_at = "passed", store.now()
            return "passed", store.save(stack.directory, state.model_copy(update={"history": history}))
        rounds = len(step.samples) // max(1, len(criteria))
        if unknown > a.max_inconclusive or rounds >= need + a.max_inconclusive:  # as Argo's count: never endless
            step.verdict, step.finished_at = "inconclusive", store.now()
            reason = (
                f"no judgement at {weight} %: {need} passing samples in a row did not come within {rounds} samples"
                f" (an inconclusive one has fewer than {a.min_requests} canary requests in {a.window}: send traffic,"
                " or set delivery.load_rps)"
            )
            return "inconclusive", store.save(
                stack.directory, state.model_copy(update={"history": history, "reason": reason})
            )
        state = store.save(stack.directory, state.model_copy(update={"history": history}))


def _sample(stack: Stack, c: Criterion, min_requests: int) -> Sample:
    from infractl.adapters import prometheus

    ratio = prometheus.scalar(stack.prometheus_url, c.query)
    requests = prometheus.scalar(stack.prometheus_url, c.requests_query)
    return Sample(
        at=store.now(),
        slo=c.slo,
        error_ratio=ratio,
        requests=requests,
        max_error_ratio=c.max_error_ratio,
        verdict=analysis.judge(c, ratio, requests, min_requests),  # type: ignore[arg-type]
    )


def _describe(s: Sample) -> str:
    ratio = "-" if s.error_ratio is None else f"{s.error_ratio:.4f}"
    reqs = "-" if s.requests is None else f"{s.requests:.0f}"
    return f"{s.slo} {ratio} ≤ {s.max_error_ratio:g} on {reqs} req: {s.verdict}"


def _interrupted(stack: Stack, state: RolloutState) -> RolloutState:
    """Ctrl-C: the weights stay as the proxy has them (read back), the running step marked interrupted."""
    try:
        weights = stack.runtime().weights()
    except ExternalToolError:
        weights = state.weights
    history = list(state.history)
    if history and history[-1].verdict == "running":
        history[-1] = history[-1].model_copy(update={"verdict": "interrupted", "finished_at": store.now()})
    return store.save(
        stack.directory,
        state.model_copy(update={"status": "interrupted", "weights": weights, "history": history, "pid": None}),
    )


@contextmanager
def _sigterm_aborts() -> Iterator[None]:
    def handler(_sig: int, _frame: object) -> None:
        raise _Abort()

    old = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)
