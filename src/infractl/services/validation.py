"""`infractl validate` and the plans behind `infractl cost`: the CI validation matrix, with no cloud credentials.

Per stack, once whatever the number of envs: `fmt -check` (the stack and every local module it uses),
`init -backend=false` and `validate`, the stack as its own root module. Per env: a plan against the local
emulator from an empty state, so the plan is what bootstrapping the env from scratch would create. Upstream stacks
are not applied: their outputs are the `example_outputs` of stacks.yaml.

The stacks of one env are planned in ONE Terraform run: a generated root module calls every staged stack
(`module.<stack>`) with that env's inputs. Each Terraform run starts one provider process per provider
configuration, and that start-up (the aws provider builds its whole schema) is most of a plan's CPU. So the stacks'
own provider blocks, rendered with the env's values, move to the generated root and stacks whose rendered blocks
are identical share one configuration (in practice: one per env and region). A stack whose provider blocks cannot be
lifted (they read something other than its variables, or share a file with other blocks) keeps its own. The plan
is then split into one plan JSON per stack, the shape that stack's own plan has. Gates on each (stack, env) plan:
security (checkov, on the sources and on the plan JSON), tags and cost. docs/validate.md explains each.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import os
import re
import textwrap
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infractl.adapters import checkov, emulator, files, hcl, terraform
from infractl.adapters.emulator_patches.iam import account_access_key
from infractl.errors import ConfigError, ExternalToolError, InfractlError, UsageError
from infractl.models.environment import REQUIRED_TAGS, Environment
from infractl.models.runs import Progress
from infractl.models.stacks import Manifest, Stack
from infractl.models.validation import GATES, STATIC_GATES, Cell, EnvCost, Finding, ValidationReport, Waived
from infractl.services import changes, environments, pricing, stackgraph, tfsource
from infractl.services.context import Context
from infractl.services.state import describe
from infractl.services.workspace import (
    AWS_ENV_PREFIXES,
    OVERRIDE_FILE,
    emulator_override,
    emulator_settings,
    hold_workspace,
    resolve_inputs,
)

ROOT_DIR = "_infractl_plan_root"  # the generated root module, beside the staged stacks
_PLACEHOLDER = re.compile(r"\{(account|region|dr_region|env)\}")
_FIRST_STEP = re.compile(r"(?<![\w.])module\.([A-Za-z0-9_-]+)")  # module.<name> not preceded by another step
_ON_LINE = re.compile(r"\bon (\S+\.tf(?:\.json)?) line (\d+)")  # where Terraform's text diagnostics point
ALIASES_FILE = "zz_infractl_aliases_override.tf"


# ---------------------------------------------------------------- the generated files
def _escape(value: Any) -> Any:
    """Literal values in a .tf.json file: "${" and "%{" would start template sequences."""
    if isinstance(value, str):
        return value.replace("${", "$${").replace("%{", "%%{")
    if isinstance(value, list):
        return [_escape(v) for v in value]
    if isinstance(value, dict):
        return {_escape(k): _escape(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class LiftedProviders:
    """A stack's provider blocks moved to the generated root: (alias or None, body rendered with the env's values)
    per block, and the stack files that held them (left out of the staging)."""

    blocks: tuple[tuple[str | None, str], ...]
    files: frozenset[str]


_REFERENCE = re.compile(r"\b(var|local|data|module|each|count|path|terraform|self)\.([A-Za-z0-9_-]+)")
# What a lifted provider block may set: where and for whom it plans. Anything else (credentials, endpoints, proxies,
# assumed roles) keeps the block in its stack, where the emulator override replaces what matters.
_LIFTABLE_ARGS = {"alias", "region", "allowed_account_ids", "forbidden_account_ids", "default_tags", "ignore_tags"}
# What the emulator settings add to a provider block: left out of the plan JSON (not the stack's, and fake).
_EMULATOR_ARGS = ("access_key", "secret_key", "skip_metadata_api_check", "s3_use_path_style", "endpoints")


def hcl_literal(value: Any) -> str:
    """A value as an HCL expression: JSON is valid HCL expression syntax once template sequences are escaped."""
    return json.dumps(_escape(value))


def lift_providers(stack_dir: Path, inputs: dict[str, Any]) -> LiftedProviders | None:
    """The stack's aws provider blocks rendered with its inputs, when they can live in the root module: files that
    hold only provider blocks, references only to variables the stack is given, no credential or endpoint settings."""
    blocks: list[tuple[str | None, str]] = []
    held: set[str] = set()
    for tf in sorted(stack_dir.glob("*.tf")):
        found, rest = hcl.block_bodies(tf.read_text(encoding="utf-8"), "provider")
        if not found:
            continue
        if rest.strip():
            return None
        held.add(tf.name)
        for name, body in found:
            if name != "aws" or not set(hcl.top_level_names(body)) <= _LIFTABLE_ARGS:
                return None
            alias = None
            alias_line = re.search(r'^\s*alias\s*=\s*"([^"]+)"\s*$', body, re.M)
            if alias_line:
                alias = alias_line.group(1)
                body = body[: alias_line.start()] + body[alias_line.end() :]
            for kind, ref in _REFERENCE.findall(body):
                if kind != "var" or ref not in inputs:
                    return None
            rendered = _REFERENCE.sub(lambda m: hcl_literal(inputs[m.group(2)]), body)
            lines = textwrap.dedent(rendered).strip("\n").splitlines()
            blocks.append((alias, "\n".join(line.rstrip() for line in lines)))
    return LiftedProviders(tuple(blocks), frozenset(held)) if blocks else None


def aliases_override(aliases: list[str], version: str | None) -> str:
    """Declares the aliases a lifted stack receives from the root (a child module must name them)."""
    listed = ", ".join(f"aws.{a}" for a in aliases)
    version_line = f'      version               = "{version}"\n' if version else ""
    return (
        "# Generated by infractl validate: the stack's provider configurations come from the generated root.\n"
        "terraform {\n  required_providers {\n    aws = {\n"
        '      source                = "hashicorp/aws"\n'
        + version_line
        + f"      configuration_aliases = [{listed}]\n    }}\n  }}\n}}\n"
    )


def _aws_version(stack_dir: Path) -> str | None:
    for tf in sorted(stack_dir.glob("*.tf")):
        m = re.search(r'\baws\s*=\s*\{[^}]*\bversion\s*=\s*"([^"]+)"', tf.read_text(encoding="utf-8"))
        if m:
            return m.group(1)
    return None


def example_inputs(stack: Stack, env: Environment, manifest: Manifest, *, display: str) -> dict[str, Any]:
    """The stack's variables for env, upstream outputs replaced by their example_outputs."""
    fill = {"account": env.account, "region": env.region, "dr_region": env.dr_region or env.region, "env": env.name}

    def render(value: Any) -> Any:
        if isinstance(value, str):  # only the four names: any other brace is the value's own
            return _PLACEHOLDER.sub(lambda m: fill[m.group(1)], value)
        if isinstance(value, list):
            return [render(v) for v in value]
        if isinstance(value, dict):
            return {k: render(v) for k, v in value.items()}
        return value

    upstream: dict[str, dict[str, Any]] = {}
    for var, ref in stack.spec.inputs.items():
        if not ref.startswith("stack."):
            continue
        _, dep, output = ref.split(".")
        examples = manifest.stacks[dep].example_outputs
        if output not in examples:
            raise ConfigError(
                f"{display}: stacks.{dep}.example_outputs.{output}: missing (stack {stack.name} reads it as {var})",
                hint=f"add a stand-in value for output {output} under stacks.{dep}.example_outputs",
            )
        upstream.setdefault(dep, {})[output] = {"value": render(examples[output])}
    backend = describe(env, env.account, emulated=True)
    return resolve_inputs(stack, env, upstream, manifest_display=display, backend=backend)


# ---------------------------------------------------------------- plan JSON per env
def _strip(address: str | None, prefix: str) -> str | None:
    if address is None:
        return None
    if address == prefix[:-1]:
        return ""
    return address[len(prefix) :] if address.startswith(prefix) else address


def split_plan(doc: dict[str, Any], module_name: str) -> dict[str, Any]:
    """The part of the generated root's plan that belongs to module.<name>, shaped as that stack's own plan.
    Root provider configurations (the lifted ones) are kept as they are."""
    env = module_name
    prefix = f"module.{env}."

    def module(node: dict[str, Any]) -> dict[str, Any]:
        out = dict(node)
        out.pop("address", None)
        out["resources"] = [dict(r, address=_strip(r["address"], prefix)) for r in node.get("resources", [])]
        out["child_modules"] = [
            dict(module(c), address=_strip(c.get("address"), prefix)) for c in node.get("child_modules", [])
        ]
        return out

    planned_root = next(
        (
            c
            for c in doc.get("planned_values", {}).get("root_module", {}).get("child_modules", [])
            if c.get("address") == f"module.{env}"
        ),
        {},
    )
    changes_ = []
    for rc in doc.get("resource_changes", []):
        if rc.get("address", "").startswith(prefix):
            changes_.append(
                dict(rc, address=_strip(rc["address"], prefix), module_address=_strip(rc.get("module_address"), prefix))
            )
    config = doc.get("configuration", {})
    call = config.get("root_module", {}).get("module_calls", {}).get(env, {})
    providers = {}
    for key, value in config.get("provider_config", {}).items():
        # the emulator's endpoints and fake credentials are not the stack's: leave them out
        value = dict(
            value, expressions={k: v for k, v in value.get("expressions", {}).items() if k not in _EMULATOR_ARGS}
        )
        if ":" not in key:
            providers[key] = value  # a root configuration the stack received
        elif key.startswith((f"module.{env}:", prefix)):
            value = dict(value, module_address=_strip(value.get("module_address"), prefix))
            if not value["module_address"]:
                value.pop("module_address")
            providers[_provider_key(key, env)] = value
    variables = {
        name: {"value": expr["constant_value"]}
        for name, expr in call.get("expressions", {}).items()
        if isinstance(expr, dict) and "constant_value" in expr
    }
    return {
        "format_version": doc.get("format_version"),
        "terraform_version": doc.get("terraform_version"),
        "variables": variables,
        "planned_values": {"root_module": module(planned_root)},
        "resource_changes": changes_,
        "configuration": {"provider_config": providers, "root_module": _config_module(call.get("module", {}), env)},
        "timestamp": doc.get("timestamp"),
        "errored": doc.get("errored", False),
    }


def _provider_key(key: str, name: str) -> str:
    """module.<name>:aws.dr -> aws.dr, module.<name>.module.x:aws -> module.x:aws; root keys stay."""
    for prefix in (f"module.{name}:", f"module.{name}."):
        if key.startswith(prefix):
            return key[len(prefix) :]
    return key


def _config_module(node: dict[str, Any], name: str) -> dict[str, Any]:
    """A configuration module of module.<name>, its resources' provider keys as the stack's own plan has them."""
    out = dict(node)
    out["resources"] = [
        dict(r, provider_config_key=_provider_key(r["provider_config_key"], name)) if "provider_config_key" in r else r
        for r in node.get("resources", [])
    ]
    out["module_calls"] = {
        call: dict(spec, module=_config_module(spec.get("module", {}), name))
        for call, spec in node.get("module_calls", {}).items()
    }
    return out


# ---------------------------------------------------------------- gates on one env's plan
def _creating(plan: dict[str, Any]) -> Iterable[dict[str, Any]]:
    for rc in plan.get("resource_changes", []):
        actions = rc.get("change", {}).get("actions", [])
        if rc.get("mode") == "managed" and ("create" in actions or "update" in actions):
            yield rc


def tag_findings(plan: dict[str, Any], env: Environment, stack: str) -> list[Finding]:
    """Every taggable resource (its schema has tags_all) carries the env's required tags with the env's values."""
    required = {k: env.tags[k] for k in REQUIRED_TAGS if k in env.tags}
    found = []
    for rc in _creating(plan):
        after = rc["change"].get("after") or {}
        unknown = rc["change"].get("after_unknown") or {}
        if "tags_all" not in after and "tags_all" not in unknown:
            continue  # not taggable
        if unknown.get("tags_all") is True:
            # tags_all is left unknown when no default_tags apply: the resource's own tags are all it will have
            if unknown.get("tags") is True:
                found.append(_tag_finding(stack, env.name, rc["address"], "its tags are unknown until apply"))
                continue
            tags = after.get("tags") or {}
        else:
            tags = after.get("tags_all") or {}
        missing = [k for k in required if k not in tags]
        wrong = [k for k in required if k in tags and tags[k] != required[k]]
        if missing or wrong:
            parts = []
            if missing:
                parts.append("missing required tag" + ("s " if len(missing) > 1 else " ") + ", ".join(missing))
            if wrong:
                parts.append(", ".join(f"{k}={tags[k]!r} (expected {required[k]!r})" for k in wrong))
            found.append(_tag_finding(stack, env.name, rc["address"], "; ".join(parts)))
    return found


def _tag_finding(stack: str, env: str, address: str, message: str) -> Finding:
    return Finding(gate="tags", rule="required-tags", stack=stack, env=env, address=address, message=message)


# ---------------------------------------------------------------- the run
@dataclass
class _StackWork:
    stack: Stack
    envs: list[str]
    findings: list[Finding] = field(default_factory=list)
    plans: dict[str, Path] = field(default_factory=dict)  # env -> plan JSON file
    status: dict[tuple[str, str | None], str] = field(default_factory=dict)  # (gate, env) -> pass | fail
    timings: dict[str, float] = field(default_factory=dict)  # phase -> seconds
    valid: bool = False  # fmt aside, the stack passed init + validate: it can be planned

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        began = time.monotonic()
        try:
            yield
        finally:
            self.timings[name] = round(self.timings.get(name, 0.0) + time.monotonic() - began, 2)


@dataclass
class _Validation:
    ctx: Context
    manifest: Manifest
    envs: dict[str, Environment]
    progress: Progress
    jobs: int
    fail_fast: bool
    gates: tuple[str, ...] = GATES
    stop: threading.Event = field(default_factory=threading.Event)
    init_lock: threading.Lock = field(default_factory=threading.Lock)
    emulator_url: str = ""
    ca_file: str = ""
    env_findings: list[Finding] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)  # guards env_findings and timings
    timings: dict[str, dict[str, float]] = field(default_factory=dict)  # task -> phase -> seconds

    @property
    def display(self) -> str:
        return self.ctx.project.rel(self.ctx.project.manifest_path)

    def rel(self, path: Path | str) -> str:
        real = Path(os.path.realpath(path))
        return self.ctx.project.rel(real)

    def stack_dir(self, stack: Stack) -> Path:
        return self.ctx.project.terraform_dir / "stacks" / stack.spec.path

    def _ws(self, kind: str, name: str) -> Path:
        return self.ctx.project.work_dir / "validate" / kind / name

    def _fail_fast(self) -> None:
        if self.fail_fast:
            self.stop.set()

    def _runner(self, ws_dir: Path, chdir: Path, label: tuple[str, str], shown: str) -> terraform.Runner:
        # nothing of this machine's AWS setup may reach a plan: no variables, no ~/.aws files, no instance metadata
        extra = {
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        if self.ca_file:
            extra.update(SSL_CERT_FILE=self.ca_file, AWS_CA_BUNDLE=self.ca_file)
        env = terraform.child_env(
            self.ctx.environ,
            cli_config=self.ctx.cli_config_path,
            data_dir=ws_dir / "data",
            extra=extra,
            drop_prefixes=AWS_ENV_PREFIXES,
        )
        return terraform.Runner(
            binary=terraform.find_binary(self.ctx.settings.terraform_bin),
            chdir=chdir,
            env=env,
            label=label,
            on_event=lambda e: self.progress.stack_event(shown, e),
        )

    # -------------------------------------------------------- per stack: fmt, init, validate
    def run_fmt(self, work: _StackWork) -> None:
        self.progress.stack_started(work.stack.name, "fmt")
        with work.phase("fmt"):
            fmt_ok = self._fmt(work)
        work.status[("fmt", None)] = "pass" if fmt_ok else "fail"
        if not fmt_ok:
            self._fail_fast()

    def validate_all(self, works: list[_StackWork]) -> bool:
        """`init -backend=false` and `validate` of every stack in one Terraform run (the provider schema is loaded
        once): a generated root calls each stack once, with its own provider blocks. Each error is attributed to
        the stacks whose files hold it. False when that cannot be done (a stack does not even initialise, or an
        error names no file): then each stack is validated on its own."""
        ws_dir = self._ws("all", "stacks")
        began = time.monotonic()
        self.progress.stack_started("validate", f"{len(works)} stack(s)")
        with hold_workspace(ws_dir, "validate/all"):
            staged = terraform.stage_tree(
                self.ctx.project.terraform_dir,
                ws_dir / "src",
                {w.stack.spec.path: terraform.StagedStack() for w in works},
            )
            root = ws_dir / "src" / ROOT_DIR
            root.mkdir()
            calls = {
                w.stack.name: {
                    "source": os.path.relpath(staged[w.stack.spec.path], root),
                    **_escape(example_inputs(w.stack, self.envs[w.envs[0]], self.manifest, display=self.display)),
                }
                for w in works
            }
            files.write_private(root / "main.tf.json", json.dumps({"module": calls}, indent=1))
            runner = self._runner(ws_dir, root, ("-", "all stacks"), "validate")
            try:
                with self.init_lock:
                    runner.init(backend=False)
                diagnostics = runner.validate()
            except InfractlError:
                return False
        errors = [d for d in diagnostics if d.get("severity") == "error"]
        owners = [self._owners(d, works, root) for d in errors]
        if any(not o for o in owners):
            return False
        seconds = round(time.monotonic() - began, 2)
        self.timings["validate all stacks"] = {"init+validate": seconds}
        for diag, found in zip(errors, owners, strict=True):
            for work in found:
                work.findings.append(self._diag_finding(work.stack.name, "validate", diag, None, root))
        failed = {w.stack.name for found in owners for w in found}
        for work in works:
            work.valid = work.stack.name not in failed
            work.status[("validate", None)] = "pass" if work.valid else "fail"
        if failed:
            self._fail_fast()
        self.progress.note(f"validate: {len(works) - len(failed)} of {len(works)} stack(s) valid ({seconds:.1f}s)")
        return True

    def _owners(self, diag: dict[str, Any], works: list[_StackWork], root: Path) -> list[_StackWork]:
        """The stacks an error of a generated root belongs to: the stack its address starts in; else the stack whose
        folder, or whose (transitively used) modules, hold its file; else the stacks its text names as the first
        step of an address (`module.<stack>.`, never a nested `module.<stack>.module.<x>`)."""
        by_name = {w.stack.name: w for w in works}
        parsed = tfsource.parse_address(diag.get("address") or "")
        if parsed is not None and parsed.modules and parsed.modules[0] in by_name:
            return [by_name[parsed.modules[0]]]
        filename = (diag.get("range") or {}).get("filename")
        if filename:
            staged = os.path.normpath(root / filename)
            for work in works:
                if f"/stacks/{work.stack.spec.path}/" in staged:
                    return [work]
            real = Path(os.path.realpath(staged)).parent
            users = [w for w in works if real in {Path(os.path.realpath(d)) for d in self.module_dirs(w)}]
            if users:
                return users
        text = " ".join(str(diag.get(k) or "") for k in ("summary", "detail", "snippet"))
        return [by_name[n] for n in dict.fromkeys(_FIRST_STEP.findall(text)) if n in by_name]

    def module_dirs(self, work: _StackWork) -> list[Path]:
        return tfsource.module_dirs(self.stack_dir(work.stack))

    def run_static(self, work: _StackWork) -> None:
        """init -backend=false and validate of one stack as its own root module."""
        if self.stop.is_set():
            return
        name = work.stack.name
        ws_dir = self._ws("stacks", name)
        with hold_workspace(ws_dir, f"validate/stacks/{name}"):
            staged = terraform.stage_root_module(
                self.ctx.project.terraform_dir, work.stack.spec.path, ws_dir / "src", {}
            )
            runner = self._runner(ws_dir, staged, ("-", name), name)
            self.progress.stack_started(name, "init + validate")
            with work.phase("init+validate"):
                work.valid = self._validate(work, runner, staged)
        work.status[("validate", None)] = "pass" if work.valid else "fail"
        if not work.valid:
            self._fail_fast()
        self.timings[f"stack {name}"] = work.timings
        self.progress.note(f"{name}: {'valid' if work.valid else 'invalid'} ({_phases(work.timings)})")

    def _fmt(self, work: _StackWork) -> bool:
        stack_dir = self.stack_dir(work.stack)
        runner = self._runner(self.ctx.project.work_dir, stack_dir, ("-", work.stack.name), work.stack.name)
        ok = True
        for directory in tfsource.module_dirs(stack_dir):
            unformatted, errors = runner.fmt_check(directory)
            for path in unformatted:
                ok = False
                full = directory / path if not os.path.isabs(path) else Path(path)
                work.findings.append(
                    Finding(
                        gate="fmt",
                        rule="unformatted",
                        stack=work.stack.name,
                        env=None,
                        message="not in canonical format: run `terraform fmt` on it",
                        file=self.rel(full),
                    )
                )
            if errors:
                ok = False
                where = _ON_LINE.search("\n".join(errors))
                work.findings.append(
                    Finding(
                        gate="fmt",
                        rule="syntax",
                        stack=work.stack.name,
                        env=None,
                        message=" ".join(" ".join(errors[:6]).split()),
                        file=self.rel(directory / where.group(1)) if where else self.rel(directory),
                        line=int(where.group(2)) if where else 0,
                    )
                )
        return ok

    def _validate(self, work: _StackWork, runner: terraform.Runner, chdir: Path) -> bool:
        try:
            with self.init_lock:  # one shared plugin cache, which Terraform does not lock
                runner.init(backend=False)
            diagnostics = runner.validate()
        except InfractlError as exc:
            work.findings.append(self._tool_finding(work.stack.name, "validate", exc, chdir))
            return False
        errors = [d for d in diagnostics if d.get("severity") == "error"]
        for diag in errors:
            work.findings.append(self._diag_finding(work.stack.name, "validate", diag, None, chdir))
        return not errors

    # -------------------------------------------------------- per env: one plan of every stack
    def run_env(self, env_name: str, works: list[_StackWork]) -> None:
        pending = [w for w in works if w.valid and env_name in w.envs]
        if not pending or self.stop.is_set():
            return
        ws_dir = self._ws("envs", env_name)
        timings: dict[str, float] = {}
        with hold_workspace(ws_dir, f"validate/envs/{env_name}"):
            while pending and not self.stop.is_set():
                chdir = self._stage_env(env_name, pending, ws_dir)
                label = (env_name, "+".join(w.stack.name for w in pending))
                runner = self._runner(ws_dir, chdir, label, f"plan {env_name}")
                self.progress.stack_started(f"plan {env_name}", f"{len(pending)} stack(s)")
                began = time.monotonic()
                failed = self._plan_env(env_name, pending, runner, ws_dir, chdir)
                timings["plan+show"] = round(timings.get("plan+show", 0.0) + time.monotonic() - began, 2)
                if not failed:
                    break
                self._fail_fast()
                pending = [w for w in pending if w not in failed]  # plan the others again, without them
        self.timings[f"plan {env_name}"] = timings
        self.progress.note(f"plan {env_name}: done ({_phases(timings)})")

    def _stage_env(self, env_name: str, pending: list[_StackWork], ws_dir: Path) -> Path:
        """The generated root: every pending stack as a module with the env's inputs, and the lifted provider
        configurations, one per distinct rendered block."""
        env = self.envs[env_name]
        shared: dict[str, tuple[str, str]] = {}  # normalized body -> (root alias, body)
        staging: dict[str, terraform.StagedStack] = {}
        calls: dict[str, dict[str, Any]] = {}
        for work in pending:
            stack_dir = self.stack_dir(work.stack)
            inputs = example_inputs(work.stack, env, self.manifest, display=self.display)
            lifted = lift_providers(stack_dir, inputs)
            call: dict[str, Any] = {}
            if lifted is not None:
                mapping = {}
                for alias, body in lifted.blocks:
                    key = " ".join(body.split())
                    root_alias = shared.setdefault(key, (f"p{len(shared) + 1}", body))[0]
                    mapping["aws" if alias is None else f"aws.{alias}"] = f"aws.{root_alias}"
                aliases = [a for a, _ in lifted.blocks if a]
                generated = {ALIASES_FILE: aliases_override(aliases, _aws_version(stack_dir))} if aliases else {}
                staging[work.stack.spec.path] = terraform.StagedStack(generated=generated, exclude=lifted.files)
                call["providers"] = mapping
            else:  # the stack keeps its own provider configurations, pointed at the emulator
                own = terraform.provider_aliases(stack_dir, "aws")
                key = account_access_key(env.account)  # the env's own account (emulator patch iam.py)
                override = {OVERRIDE_FILE: emulator_override(own, self.emulator_url, key)} if own else {}
                staging[work.stack.spec.path] = terraform.StagedStack(generated=override)
            calls[work.stack.name] = {**call, **_escape(inputs)}
        staged = terraform.stage_tree(self.ctx.project.terraform_dir, ws_dir / "src", staging)
        root = ws_dir / "src" / ROOT_DIR
        root.mkdir()
        for work in pending:
            source = os.path.relpath(staged[work.stack.spec.path], root)
            calls[work.stack.name] = {"source": source, **calls[work.stack.name]}
        settings = emulator_settings(self.emulator_url, account_access_key(env.account))
        providers = "".join(
            f'provider "aws" {{\n  alias = "{alias}"\n{textwrap.indent(body, "  ")}\n\n{settings}}}\n\n'
            for alias, body in shared.values()
        )
        header = "# Generated by infractl validate: the stacks' provider blocks, rendered for this env.\n\n"
        files.write_private(root / "providers.tf", header + providers)
        files.write_private(root / "main.tf.json", json.dumps({"module": calls}, indent=1))
        return root

    def _plan_env(
        self, env_name: str, pending: list[_StackWork], runner: terraform.Runner, ws_dir: Path, chdir: Path
    ) -> list[_StackWork]:
        """Plan and split per stack. Returns the stacks the plan's errors belong to (every pending one when the
        errors name none)."""
        plan_file = ws_dir / "plan.tfplan"
        try:
            with self.init_lock:
                runner.init(backend=False)
            runner.plan(terraform.PlanOptions(out=plan_file, refresh=False))
            doc = runner.show_plan(plan_file)
        except InfractlError as exc:
            return self._plan_failed(env_name, pending, runner, exc, chdir)
        for work in pending:
            plan = split_plan(doc, work.stack.name)
            path = ws_dir / f"{work.stack.name}.plan.json"
            files.write_private(path, json.dumps(plan, indent=1))
            work.plans[env_name] = path
            work.status[("plan", env_name)] = "pass"
            if "tags" in self.gates:
                tag_problems = tag_findings(plan, self.envs[env_name], work.stack.name)
                work.findings += [self._locate(work.stack, f) for f in tag_problems]
                work.status[("tags", env_name)] = "fail" if tag_problems else "pass"
        return []

    def _plan_failed(
        self, env_name: str, pending: list[_StackWork], runner: terraform.Runner, exc: InfractlError, chdir: Path
    ) -> list[_StackWork]:
        diags = [d for d in runner.diagnostics if d.get("severity") == "error"]
        failed: dict[str, _StackWork] = {}
        unattributed = []
        for diag in diags:
            owners = self._owners(diag, pending, chdir)
            if not owners:
                unattributed.append(diag)
            for work in owners:
                failed[work.stack.name] = work
                work.findings.append(self._diag_finding(work.stack.name, "plan", diag, env_name, chdir))
        if unattributed or not diags:
            with self.lock:
                if diags:
                    self.env_findings += [self._diag_finding("*", "plan", d, env_name, chdir) for d in unattributed]
                else:
                    self.env_findings.append(
                        self._tool_finding("*", "plan", exc, chdir).model_copy(update={"env": env_name})
                    )
            failed = {w.stack.name: w for w in pending}
        for work in failed.values():
            work.status[("plan", env_name)] = "fail"
        return list(failed.values())

    def _diag_finding(self, stack: str, gate: str, diag: dict[str, Any], env: str | None, chdir: Path) -> Finding:
        rng = diag.get("range") or {}
        file, line = "", 0
        if rng.get("filename"):
            file = self.rel(chdir / rng["filename"])
            line = int(rng.get("start", {}).get("line") or 0)
        detail = " ".join((diag.get("detail") or "").split())
        address = diag.get("address") or ""
        if address.startswith(f"module.{stack}."):
            address = address[len(f"module.{stack}.") :]
        return Finding(
            gate=gate,  # type: ignore[arg-type]
            rule="terraform-error",
            stack=stack,
            env=env,
            message=f"{diag.get('summary', '')}{': ' + detail if detail else ''}",
            address=address,
            file=file,
            line=line,
        )

    def _tool_finding(self, stack: str, gate: str, exc: InfractlError, chdir: Path) -> Finding:
        """A failed command without JSON diagnostics (e.g. init): the first `on FILE line N` names the place."""
        text = "\n".join([exc.message, *exc.details])
        where = _ON_LINE.search(text)
        file, line = "", 0
        if where:
            file, line = self.rel(chdir / where.group(1)), int(where.group(2))
        return Finding(
            gate=gate,  # type: ignore[arg-type]
            rule="terraform-error",
            stack=stack,
            env=None,
            message=" ".join(" ".join([exc.message, *exc.details[:8]]).split()),
            file=file,
            line=line,
        )

    def place(self, finding: Finding) -> Finding:
        """Every finding gets a file (code scanning refuses a result without one): where its resource is declared,
        else its stack's main file, its environment file, or the stack manifest."""
        if finding.stack in self.manifest.stacks:
            finding = self._locate(Stack(name=finding.stack, spec=self.manifest.stacks[finding.stack]), finding)
        if finding.file:
            return finding
        if finding.stack in self.manifest.stacks:
            stack_dir = self.stack_dir(Stack(name=finding.stack, spec=self.manifest.stacks[finding.stack]))
            main = stack_dir / "main.tf"
            return finding.model_copy(update={"file": self.rel(main if main.is_file() else stack_dir)})
        if finding.env:
            return finding.model_copy(update={"file": f"environments/{finding.env}.yaml"})
        return finding.model_copy(update={"file": self.display})

    def _locate(self, stack: Stack, finding: Finding) -> Finding:
        if not finding.address or finding.file:
            return finding
        where, _ = tfsource.locate(self.stack_dir(stack), finding.address)
        if where is None:
            return finding
        return finding.model_copy(update={"file": self.rel(where.file), "line": where.line})

    # -------------------------------------------------------- security
    def source_scan(self, works: list[_StackWork], binary: str) -> tuple[list[Finding], list[Waived]]:
        """checkov on each stack's sources (local modules followed); every inline skip must give a reason."""
        found: list[Finding] = []
        seen: set[tuple[str, str, str]] = set()
        for work in works:
            stack_dir = self.stack_dir(work.stack)
            for directory in tfsource.module_dirs(stack_dir):
                for skip in tfsource.skips_in(directory):
                    key = (work.stack.name, str(skip.file), str(skip.line))
                    if skip.reason or key in seen:
                        continue
                    seen.add(key)
                    found.append(
                        Finding(
                            gate="security",
                            rule="skip-without-reason",
                            stack=work.stack.name,
                            env=None,
                            message=f"checkov:skip={skip.check_id} gives no reason: write"
                            f" `#checkov:skip={skip.check_id}:<why this check does not apply>`",
                            file=self.rel(skip.file),
                            line=skip.line,
                        )
                    )
        self.progress.note(f"checkov: sources of {len(works)} stack(s)")
        began = time.monotonic()
        results = checkov.scan(
            binary,
            scratch=self._ws("checkov", "sources"),
            base_env=self.ctx.environ,
            directory=self.ctx.project.terraform_dir / "stacks",
            with_passed=True,  # to see the skipped results
        )
        self.timings["checkov sources"] = {"scan": round(time.monotonic() - began, 2)}
        by_dir = {self.stack_dir(w.stack).resolve(): w for w in works}
        waived: list[Waived] = []
        for result in results:
            for work in self._stacks_of(result, by_dir) if result.status != "passed" else []:
                if result.status == "skipped":
                    where = f"{self.rel(result.file)}:{result.lines[0]}"
                    waived.append(_waived(result, work.stack.name, None, result.reason, where))
                    continue
                found.append(_checkov_finding(result, work.stack.name, None, self.rel(result.file), result.lines[0]))
        return found, waived

    def _stacks_of(self, result: checkov.Result, by_dir: dict[Path, _StackWork]) -> list[_StackWork]:
        """The stacks a source finding belongs to: the stack folder holding the file, or the stacks whose module call
        named first in the address leads to the module holding it."""
        file = Path(os.path.realpath(result.file)) if result.file else None
        owners = []
        for stack_dir, work in by_dir.items():
            parsed = tfsource.parse_address(result.resource)
            if file is not None and file.parent == stack_dir and (parsed is None or not parsed.modules):
                owners.append(work)
            elif parsed is not None and parsed.modules:
                module_dir = tfsource.module_dir_of(stack_dir, parsed.modules)
                if module_dir is not None and file is not None and file.parent == module_dir.resolve():
                    owners.append(work)
        return owners

    def plan_scan(
        self, works: list[_StackWork], binary: str
    ) -> tuple[list[Finding], list[Waived], set[tuple[str, str, str, tuple[Any, ...]]]]:
        """checkov on every env's plan JSON in one run. Also returns what it evaluated, (stack, env, check,
        resource), so a source finding the plans judged with real values is not reported twice."""
        plans = [(w, env, path) for w in works for env, path in w.plans.items()]
        if not plans:
            return [], [], set()
        self.progress.note(f"checkov: {len(plans)} plan(s)")
        began = time.monotonic()
        results = checkov.scan(
            binary,
            scratch=self._ws("checkov", "plans"),
            base_env=self.ctx.environ,
            plan_files=[p for _, _, p in plans],
            with_passed=True,
        )
        self.timings["checkov plans"] = {"scan": round(time.monotonic() - began, 2)}
        for work, env, _ in plans:
            work.status[("security", env)] = "pass"  # scanned; findings below make the cell fail
        owner = {str(p.resolve()): (w, env) for w, env, p in plans}
        found: list[Finding] = []
        waived: list[Waived] = []
        evaluated: set[tuple[str, str, str, tuple[Any, ...]]] = set()
        for result in results:
            if str(Path(result.file).resolve()) not in owner:
                continue
            work, env = owner[str(Path(result.file).resolve())]
            evaluated.add((work.stack.name, env, result.check_id, _resource_key(result.resource)))
            if result.status != "failed":
                continue
            inline = tfsource.inline_skip(self.stack_dir(work.stack), result.resource, result.check_id)
            if inline is not None:
                if inline.reason:  # without one, source_scan already failed the gate on the comment itself
                    where = f"{self.rel(inline.file)}:{inline.line}"
                    waived.append(_waived(result, work.stack.name, env, inline.reason, where))
                continue
            env_skip = next(
                (
                    s
                    for s in self.envs[env].validation.skip_checks
                    if s.check == result.check_id
                    and fnmatch.fnmatchcase(work.stack.name, s.stack)
                    and fnmatch.fnmatchcase(result.resource, s.address)
                ),
                None,
            )
            if env_skip is not None:
                where = f"environments/{env}.yaml: validation.skip_checks"
                waived.append(_waived(result, work.stack.name, env, env_skip.reason, where))
                continue
            found.append(_checkov_finding(result, work.stack.name, env))  # located at the end, with the others
        return found, waived, evaluated


def _checkov_finding(result: checkov.Result, stack: str, env: str | None, file: str = "", line: int = 0) -> Finding:
    scope = "plan" if env else "sources"
    return Finding(
        gate="security",
        rule=result.check_id,
        stack=stack,
        env=env,
        message=f"{result.name} (checkov, {scope}){_guide(result)}",
        address=result.resource,
        file=file,
        line=line,
    )


def _waived(result: checkov.Result, stack: str, env: str | None, reason: str, where: str) -> Waived:
    return Waived(check=result.check_id, stack=stack, env=env, address=result.resource, reason=reason, where=where)


def _resource_key(address: str) -> tuple[Any, ...]:
    """A resource without its instance keys: plans name instances (`x["a"]`), sources name blocks (`x`)."""
    parsed = tfsource.parse_address(address)
    return (parsed.modules, parsed.mode, parsed.type, parsed.name) if parsed else (address,)


def superseded(
    finding: Finding, planned_envs: list[str], evaluated: set[tuple[str, str, str, tuple[Any, ...]]]
) -> bool:
    """A source finding whose check the plan scan evaluated for the same resource in every planned env: the plans,
    which carry each env's real values, decide (sources leave variables unresolved)."""
    key = _resource_key(finding.address)
    return bool(planned_envs) and all((finding.stack, e, finding.rule, key) in evaluated for e in planned_envs)


def _guide(result: checkov.Result) -> str:
    return f" — {result.guideline}" if result.guideline else ""


# ---------------------------------------------------------------- entry points
def select_cells(
    ctx: Context,
    manifest: Manifest,
    env_names: list[str],
    stack_names: list[str],
    changed_since: str | None,
) -> dict[str, list[str]]:
    """stack -> envs to validate, in dependency order."""
    order = stackgraph.topo_order(manifest)
    for name in stack_names:
        if name not in manifest.stacks:
            raise UsageError(f"unknown stack {name!r}", hint=f"stacks: {', '.join(order)}")
    chosen = [s for s in order if not stack_names or s in stack_names]
    if changed_since is None:
        return {s: list(env_names) for s in chosen}
    affected = changes.affected_cells(ctx.project, manifest, changed_since, env_names)
    return {s: [e for e in env_names if e in affected.get(s, set())] for s in chosen if affected.get(s)}


def run(
    ctx: Context,
    *,
    envs: list[str],
    stacks: list[str],
    changed_since: str | None,
    jobs: int,
    fail_fast: bool,
    progress: Progress,
    gates: tuple[str, ...] = GATES,
) -> ValidationReport:
    started = time.monotonic()
    manifest = stackgraph.load_manifest(ctx.project)
    known = environments.names(ctx.project)
    if not known:
        raise ConfigError(f"{ctx.project.rel(ctx.project.environments_dir)}: no environment files (<name>.yaml)")
    for name in envs:
        if name not in known:
            raise UsageError(f"unknown environment {name!r}", hint=f"environments: {', '.join(known)}")
    env_names = envs or known
    loaded = {name: environments.load(ctx.project, name) for name in env_names}
    for env in loaded.values():
        if env.cloud != "aws":
            raise ConfigError(f"environments/{env.name}.yaml: cloud: {env.cloud!r} cannot be validated yet")
    cells = select_cells(ctx, manifest, env_names, stacks, changed_since)
    catalog = pricing.load_catalog(ctx.project) if "cost" in gates else None
    v = _Validation(ctx, manifest, loaded, progress, max(1, jobs), fail_fast, gates)
    works = [_StackWork(Stack(name=s, spec=manifest.stacks[s]), e) for s, e in cells.items()]
    if not works:
        progress.note(f"nothing to validate: no stack changed since {changed_since}")
        return ValidationReport(
            envs=env_names, stacks=[], cells=[], findings=[], waived=[], costs={}, changed_since=changed_since
        )
    checkov_bin = checkov.find_binary(ctx.project.root, ctx.settings.checkov_bin) if "security" in gates else ""
    with _emulator(ctx, progress) as (url, ca_file):
        v.emulator_url, v.ca_file = url, ca_file
        files.write_private(
            ctx.cli_config_path,
            terraform.cli_config_text(mirror=ctx.settings.provider_mirror, plugin_cache=ctx.plugin_cache),
        )
        ctx.plugin_cache.mkdir(parents=True, exist_ok=True)
        source: list[Finding] = []
        waived: list[Waived] = []
        with ThreadPoolExecutor(max_workers=v.jobs, thread_name_prefix="validate") as pool:
            source_future = pool.submit(v.source_scan, works, checkov_bin) if "security" in gates else None
            for future in [pool.submit(v.run_fmt, work) for work in works]:
                future.result()
            if not v.stop.is_set() and not pool.submit(v.validate_all, works).result():
                for future in [pool.submit(_guarded_static, v, work) for work in works]:
                    future.result()
            if "plan" in gates and not v.stop.is_set():
                planned_envs = [e for e in env_names if any(e in w.envs for w in works)]
                for future in [pool.submit(_guarded_env, v, e, works) for e in planned_envs]:
                    future.result()
            if source_future is not None:
                source, waived = source_future.result()
        security = source
        if "security" in gates and not v.stop.is_set():
            plan_findings, plan_waived, evaluated = v.plan_scan(works, checkov_bin)
            waived += plan_waived
            planned = {w.stack.name: list(w.plans) for w in works}
            security = [
                f
                for f in source
                if f.rule == "skip-without-reason" or not superseded(f, planned.get(f.stack, []), evaluated)
            ] + plan_findings
    findings = [f for w in works for f in w.findings] + v.env_findings + security
    costs: dict[str, EnvCost] = {}
    if catalog is not None:
        for env_name in env_names:
            planned = {w.stack.name: w.plans[env_name] for w in works if env_name in w.plans}
            if not planned:
                continue
            complete = set(planned) == set(manifest.stacks)
            costs[env_name] = pricing.estimate(
                catalog, loaded[env_name], {s: json.loads(p.read_text()) for s, p in planned.items()}, complete
            )
            findings += pricing.findings(costs[env_name], catalog)
    findings = [v.place(f) for f in findings]
    report_cells = _cells(works, findings, costs, gates)
    return ValidationReport(
        envs=env_names,
        stacks=list(cells),
        cells=report_cells,
        findings=findings,
        waived=waived,
        costs=costs,
        duration_s=round(time.monotonic() - started, 1),
        jobs=v.jobs,
        changed_since=changed_since,
        timings=v.timings,
    )


def _guarded_static(v: _Validation, work: _StackWork) -> None:
    try:
        v.run_static(work)
    except InfractlError as exc:
        work.findings.append(v._tool_finding(work.stack.name, "validate", exc, v.stack_dir(work.stack)))
        work.status[("validate", None)] = "fail"


def _guarded_env(v: _Validation, env: str, works: list[_StackWork]) -> None:
    try:
        v.run_env(env, works)
    except InfractlError as exc:
        finding = v._tool_finding("*", "plan", exc, v.ctx.project.root).model_copy(update={"env": env})
        v.env_findings.append(finding)
        for work in works:
            if env in work.envs:
                work.status[("plan", env)] = "fail"


def _phases(timings: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.1f}s" for k, v in timings.items())


def _cells(
    works: list[_StackWork], findings: list[Finding], costs: dict[str, EnvCost], gates: tuple[str, ...]
) -> list[Cell]:
    cells = []
    for work in works:
        for env in work.envs:
            status: dict[str, str] = {}
            for gate in GATES:
                if gate not in gates:
                    continue
                relevant = [
                    f for f in findings if f.gate == gate and f.stack == work.stack.name and f.env in (None, env)
                ] + [f for f in findings if f.gate == gate and f.stack == "*" and f.env == env]
                ran = (gate, None if gate in STATIC_GATES else env) in work.status or (
                    gate == "cost" and env in work.plans
                )
                status[gate] = "fail" if relevant else ("pass" if ran else "not-run")
            cost = costs.get(env)
            cells.append(
                Cell(
                    stack=work.stack.name,
                    env=env,
                    gates=status,  # type: ignore[arg-type]
                    monthly_usd=cost.stack_total(work.stack.name) if cost and env in work.plans else None,
                )
            )
    return cells


class _emulator:
    """The running emulator of this work folder, or one started for this run and stopped after it."""

    def __init__(self, ctx: Context, progress: Progress) -> None:
        self.dir = ctx.project.emulator_dir
        self.progress = progress
        self.started = False

    def __enter__(self) -> tuple[str, str]:
        state, self.started = emulator.start(self.dir)
        if self.started:
            self.progress.note(f"started the local AWS emulator for the plans: {state.url}")
        return state.url or "", state.ca_file or ""

    def __exit__(self, *exc: object) -> None:
        if self.started:
            emulator.stop(self.dir)


def plans_for_cost(
    ctx: Context, env_names: list[str], stacks: list[str], progress: Progress, jobs: int
) -> tuple[dict[str, EnvCost], list[Finding]]:
    """`infractl cost`: plan the envs (no security gate) and price them."""
    report = run(
        ctx,
        envs=env_names,
        stacks=stacks,
        changed_since=None,
        jobs=jobs,
        fail_fast=False,
        progress=progress,
        gates=("fmt", "validate", "plan", "cost"),
    )
    blocking = [f for f in report.findings if f.gate in ("validate", "plan")]
    if blocking:
        first = blocking[0]
        raise ExternalToolError(
            f"cannot estimate: {first.gate} failed for {first.stack}{'/' + first.env if first.env else ''}",
            details=[f"{f.stack}: {f.message}" for f in blocking[:10]],
            hint="run `infractl validate` for the full report",
        )
    return report.costs, report.findings
