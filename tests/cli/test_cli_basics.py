import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def test_help_lists_the_commands(invoke):
    out = invoke("--help").stdout
    for command in ("bootstrap", "plan", "apply", "destroy", "output", "env", "state", "emulator"):
        assert command in out


def test_version(invoke):
    assert invoke("--version").stdout.startswith("infractl 0.")


def test_unknown_option_is_a_usage_error(invoke):
    assert "No such option" in invoke("env", "list", "--bogus", root=REPO, code=2).stderr


def test_unknown_environment_is_a_config_error(invoke):
    result = invoke("env", "show", "qa", root=REPO, code=3)
    assert (
        "no environment named 'qa'" in result.stderr and "hint: known environments: dev, prod, staging" in result.stderr
    )


def test_unknown_stack_is_a_usage_error(invoke, tmp_path, monkeypatch):
    monkeypatch.setenv("INFRACTL_WORK_DIR", str(tmp_path))
    from infractl.errors import UsageError
    from infractl.models.project import Project
    from infractl.services.stacks import graph

    manifest = graph.load_manifest(Project(root=REPO, work_dir=tmp_path))
    try:
        graph.select(manifest, "aws", ["nope"])
    except UsageError as exc:
        assert exc.exit_code == 2
    else:
        raise AssertionError("unknown stack accepted")


def test_destroy_without_terminal_and_without_yes_refuses(invoke):
    from infractl.cli.common import confirmer
    from infractl.errors import UsageError

    try:
        confirmer(False)("destroy everything?")
    except UsageError as exc:
        assert exc.hint == "re-run with --yes to confirm"
    else:
        raise AssertionError("confirmation passed without a terminal")
    assert confirmer(True)("destroy everything?") is True


def test_help_does_not_import_cloud_sdks():
    code = (
        "import sys; from infractl.cli.main import main; main(['--help']); "
        "print(sorted(m for m in ('boto3','botocore','hvac','pydantic','yaml') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_internal_errors_map_to_70_without_traceback(invoke, monkeypatch):
    from infractl.services import environments

    def boom(*a, **k):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(environments, "list_all", boom)
    result = invoke("env", "list", root=REPO, code=70)
    assert "internal error: RuntimeError: kaboom" in result.stderr and "Traceback" not in result.stderr
    assert "Traceback" in invoke("-v", "env", "list", root=REPO, code=70).stderr


def test_bad_setting_variable_is_a_config_error(invoke, monkeypatch):
    monkeypatch.setenv("INFRACTL_PROVIDER_MIRROR", "")
    monkeypatch.setenv("INFRACTL_EMULATE", "maybe")
    result = invoke("env", "list", root=REPO, code=3)
    assert result.stderr.startswith("error: environment variable INFRACTL_EMULATE: Input should be a valid boolean")


def test_infractl_variables_are_read_by_settings_alone(invoke, monkeypatch, tmp_path):
    """INFRACTL_ROOT and INFRACTL_EMULATE reach every command through Settings (one loader): the root is found with
    no --root, and emulate mode is on with no --emulate (the emulator of this empty work folder is not running)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("INFRACTL_ROOT", str(REPO))
    monkeypatch.setenv("INFRACTL_WORK_DIR", str(tmp_path / "work"))
    assert "dev" in invoke("env", "list").stdout
    monkeypatch.setenv("INFRACTL_EMULATE", "true")
    result = invoke("output", "dev", "data", code=1)
    assert "the local AWS emulator is not running" in result.stderr

    import typer

    from infractl.cli.main import app

    def envvars(command) -> set[str]:
        found = {v for p in command.params for v in ([p.envvar] if isinstance(p.envvar, str) else p.envvar or [])}
        for sub in getattr(command, "commands", {}).values():
            found |= envvars(sub)
        return found

    assert envvars(typer.main.get_command(app)) & {"INFRACTL_ROOT", "INFRACTL_EMULATE", "INFRACTL_WORK_DIR"} == set()


def test_emulator_start_status_stop(invoke, monkeypatch, tmp_path):
    """`infractl emulator start|status|stop --json`: idempotent start, status, stop; a second stop has nothing to do."""
    import json

    monkeypatch.setenv("INFRACTL_WORK_DIR", str(tmp_path / "work"))
    started = json.loads(invoke("emulator", "start", "--json", root=REPO).stdout)
    try:
        assert started["running"] and started["url"].startswith("https://127.0.0.1:")
        again = invoke("emulator", "start", root=REPO).stdout
        assert again.startswith(f"emulator already running: {started['url']}")
        assert json.loads(invoke("emulator", "status", "--json", root=REPO).stdout)["pid"] == started["pid"]
    finally:
        stopped = invoke("emulator", "stop", root=REPO).stdout
    assert stopped.startswith("emulator stopped")
    assert json.loads(invoke("emulator", "status", "--json", root=REPO).stdout)["running"] is False
    assert invoke("emulator", "stop", root=REPO).stdout.startswith("emulator was not running")


def test_ports_out_of_range_are_usage_errors(invoke, monkeypatch, tmp_path):
    """`emulator start --port 99999` must not say "started" (nor `status` "running"): exit 2, nothing started."""
    import json

    from infractl.adapters import emulator

    monkeypatch.setenv("INFRACTL_WORK_DIR", str(tmp_path / "work"))
    try:
        for port in ("99999", "0", "-1", "65536"):
            result = invoke("emulator", "start", "--port", port, root=REPO, code=2)
            assert "Invalid value for '--port'" in result.stderr
        assert json.loads(invoke("emulator", "status", "--json", root=REPO).stdout)["running"] is False
        assert "Invalid value for '--port-offset'" in invoke("dev", "up", "--port-offset", "70000", code=2).stderr
    finally:
        emulator.stop(tmp_path / "work" / "emulator")


@pytest.mark.parametrize("flags", [("--docker", "--no-docker"), ("--no-docker", "--docker"), ("--app", "--no-app")])
def test_contradicting_flags_are_usage_errors(invoke, monkeypatch, tmp_path, flags):
    from infractl.services.dev import devstack

    started = []
    monkeypatch.setattr(devstack, "up", lambda *a, **k: started.append(k))
    monkeypatch.setenv("INFRACTL_WORK_DIR", str(tmp_path / "work"))
    result = invoke("dev", "up", *flags, root=REPO, code=2)
    name = flags[0].removeprefix("--").removeprefix("no-")
    assert f"Invalid value for --{name} / --no-{name}: they contradict each other" in result.stderr
    assert started == []


def test_one_flag_of_a_pair_still_chooses(invoke, monkeypatch, tmp_path):
    from infractl.models.dev import DevStatus
    from infractl.services.dev import devstack

    seen = []
    monkeypatch.setattr(
        devstack, "up", lambda *a, **k: seen.append(k) or DevStatus(mode="none", work_dir=str(tmp_path))
    )
    monkeypatch.setenv("INFRACTL_WORK_DIR", str(tmp_path / "work"))
    for flags in ((), ("--docker",), ("--no-docker", "--no-app"), ("--app",)):
        invoke("dev", "up", "--json", *flags, root=REPO)
    assert [(k["docker"], k["with_app"]) for k in seen] == [(None, True), (True, True), (False, False), (None, True)]
