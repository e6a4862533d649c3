"""A project of one's own, for real: `infractl init` in a fresh folder (not this repository), two stacks of the user's
added (a bucket with its key whose provider region is a local; a VPC with an interface endpoint), then `validate`,
`plan --emulate`, `apply --emulate` and `cost` with no INFRACTL_CHECKOV_BIN, no contracts, no parity page and no
price catalog of its own. Its own work folder and emulator, so nothing is shared with the other tests."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from infractl.cli.main import main
from tests.conftest import REPO

HERE = Path(__file__).parent / "own_project"


def _run(capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def own(mirror, tmp_path_factory):
    """(project root, the env of the commands) with infractl's settings reduced to a work folder and the mirror."""
    base = tmp_path_factory.mktemp("own")
    with pytest.MonkeyPatch.context() as mp:
        for name in ("INFRACTL_CHECKOV_BIN", "INFRACTL_ROOT", "INFRACTL_EMULATE", "CI"):
            mp.delenv(name, raising=False)
        mp.setenv("INFRACTL_WORK_DIR", str(base / "work"))
        mp.setenv("INFRACTL_PROVIDER_MIRROR", mirror)
        mp.chdir(base)
        assert main(["init", "infra"]) == 0
        root = base / "infra"
        for stack in ("storage", "endpoints"):
            folder = root / "terraform/stacks/aws" / stack
            folder.mkdir()
            for name in ("versions.tf", "variables.tf"):  # the example stack's, as a user would copy them
                shutil.copy(root / "terraform/stacks/aws/example" / name, folder / name)
            shutil.copy(HERE / stack / "main.tf", folder / "main.tf")
        manifest = root / "terraform/stacks/stacks.yaml"
        manifest.write_text(manifest.read_text() + (HERE / "stacks.yaml").read_text())
        yield root
        main(["--root", str(root), "emulator", "stop"])


@pytest.fixture(scope="module")
def validated(own):
    out_dir = own.parent / "report"
    code = main(["--root", str(own), "validate", "--report-dir", str(out_dir)])
    return code, json.loads((out_dir / "validate.json").read_text())


def test_init_made_a_project_apart_from_this_repository(own):
    assert not own.is_relative_to(REPO)
    assert not (own / "terraform/contracts").exists() and not (own / "pricing").exists()
    assert not (own / "docs").exists() and not (own / ".tools").exists()


def test_validate_passes_every_gate_without_checkov_contracts_or_catalog_of_its_own(validated):
    code, report = validated
    failing = [(f["gate"], f["stack"], f["rule"], f["message"]) for f in report["findings"]]
    assert code == 0 and report["ok"] is True, failing
    assert {c["stack"] for c in report["cells"]} == {"example", "storage", "endpoints"}
    for cell in report["cells"]:
        assert set(cell["gates"].values()) == {"pass"}, cell
    # parity said what it did not check instead of failing on the missing contracts
    parity = report["parity"]
    assert parity["ok"] is True and parity["docs"] == "not-checked"
    assert parity["notes"][0].startswith("no contracts")
    assert {(u["stack"], u["reason"]) for u in parity["unchecked"]} == {
        ("example", "single-cloud"),
        ("storage", "no-contract"),
        ("endpoints", "no-contract"),
    }
    # checkov ran (the checkout's, found without INFRACTL_CHECKOV_BIN): the stacks' reasoned skips are waived
    assert {w["check"] for w in report["waived"]} >= {"CKV_AWS_18", "CKV2_AWS_11"}


def test_cost_reads_a_local_region_and_prices_the_interface_endpoint_per_subnet(validated):
    _, report = validated
    catalog = yaml.safe_load((REPO / "pricing" / "aws.yaml").read_text())
    lines = {(x["stack"], x["address"]): x for x in report["costs"]["dev"]["lines"]}
    key = lines[("storage", "aws_kms_key.this")]
    assert key["region"] == "eu-central-1" and key["region_unknown"] == ""
    assert key["monthly_usd"] == catalog["regions"]["eu-central-1"]["monthly"]["aws_kms_key"]
    endpoint = lines[("endpoints", "aws_vpc_endpoint.kms")]
    hourly = catalog["regions"]["eu-west-1"]["vpc_endpoint_hourly"]["Interface"]
    assert endpoint["monthly_usd"] == round(hourly * 730 * 3, 2) > 0
    assert "3 subnet(s) planned with it" in endpoint["basis"]
    bucket = lines[("storage", "aws_s3_bucket.this")]
    assert bucket["monthly_usd"] == 0.0 and "usage-based" in bucket["basis"] and "storage" in bucket["basis"]


def test_plan_and_apply_on_the_emulator_then_cost_against_a_stack_plan_file(own, validated, capsys):
    root = str(own)
    plan_file = own.parent / "storage.plan.json"
    work = own.parent / "work"
    shutil.copy(work / "validate" / "envs" / "dev" / "storage.plan.json", plan_file)  # the plan validate wrote

    assert _run(capsys, "--root", root, "emulator", "start")[0] == 0
    assert _run(capsys, "--root", root, "state", "bootstrap", "dev", "--emulate")[0] == 0
    code, out, err = _run(capsys, "--root", root, "plan", "dev", "--emulate", "--json")
    assert code == 0, err
    planned = {s["stack"]: s for s in json.loads(out)["stacks"]}
    assert {s: p["status"] for s, p in planned.items()} == dict.fromkeys(["example", "storage", "endpoints"], "changes")
    code, out, err = _run(capsys, "--root", root, "apply", "dev", "--emulate", "--yes", "--json")
    assert code == 0, err
    applied = {s["stack"]: (s["status"], s["add"]) for s in json.loads(out)["stacks"]}
    assert applied["storage"] == ("applied", 6) and applied["example"] == ("applied", 2)
    assert applied["endpoints"][0] == "applied"

    # the plan file's resources are the storage stack's, not "plan-file" nor any stack asked for
    code, out, err = _run(capsys, "--root", root, "cost", "dev", "--compare", str(plan_file), "--json")
    assert code == 0, err
    result = json.loads(out)
    assert {line["stack"] for line in result["other"]["lines"]} == {"storage"}
    assert "the plan of stack storage" in result["other"]["notes"][0]
    assert {d["stack"] for d in result["differences"]} == {"example", "endpoints"}  # storage: the same
    assert result["other"]["total_usd"] == sum(
        x["monthly_usd"] or 0 for x in result["env"]["lines"] if x["stack"] == "storage"
    )
    code, out, _ = _run(capsys, "--root", root, "cost", "dev", "--stack", "example", "--compare", str(plan_file))
    assert code == 0 and "the plan of stack storage" in " ".join(out.split())
