"""`infractl cost rightsize` on real engines: the session's moto server as CloudWatch and EKS (seeded here with a
week of hourly datapoints: moto has no metrics of its own) and a real Prometheus whose TSDB `promtool tsdb
create-blocks-from openmetrics` backfilled with a week of the api's and the worker's process series.

The env `rsz` is dev with a db.r6g.xlarge shared instance, two tier C tenants on their own instances, and hourly
samples over 7 days (168 periods), headroom 30 % (database), 25 % (nodes), 20 % (pods):
- rsz-control-plane (db.r6g.xlarge, 4 vCPU, 32 GiB): CPU 8-10 %, 28 GiB freeable -> db.r6g.large, saving
  (0.494 - 0.247) x 730 = 180.31 USD/month (catalog eu-west-1);
- rsz-tenant-initech (db.r6g.large): CPU 85 % -> 1.7 vCPU / 0.7 = 2.43 -> db.r6g.xlarge, an up-size of 180.31;
- rsz-tenant-globex (db.r6g.xlarge): as quiet as the shared one, but 20 of 168 hours measured -> low, kept;
- rsz-system (1 x t3.large): CPU 20 %, memory 30 % -> 0.53 vCPU and 3.2 GiB at 75 % -> t3.medium, saving 33.29;
- the tenant tiers' node groups were never created in EKS: insufficient data;
- pods: api at 30 m CPU and 150 Mi of 100m / 256Mi -> cpu 50m / memory 192Mi; worker at 150 m and 200 Mi ->
  cpu 200m / memory 256Mi (an up-size).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from infractl.adapters import localservices as ls
from infractl.adapters import loopback
from infractl.services.context import Context, load_settings
from infractl.services.cost import rightsize, utilisation
from infractl.services.project import find_project
from tests.integration.conftest import REPO_ROOT, aws

ENV = "rsz"
HOURS = 168
MIB, GIB = 2**20, 2**30


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    """A project with env `rsz` (environments, charts' ci values, SLOs, the price catalog of the repository)."""
    root = tmp_path_factory.mktemp("rightsize") / "project"
    for folder in ("environments", "helm", "slo", "pricing"):
        shutil.copytree(REPO_ROOT / folder, root / folder)
    env = yaml.safe_load((root / "environments" / "dev.yaml").read_text())
    env["name"] = ENV
    env["tags"]["environment"] = ENV
    env["stacks"]["data"]["instance_class"] = "db.r6g.xlarge"
    node = {"instance_types": ["t3.medium"], "min_size": 0, "max_size": 2, "desired_size": 1, "disk_gib": 50}
    env["tenants"] = [
        {"name": "initech", "node_group": node, "database": {"dedicated_instance": {"instance_class": "db.r6g.large"}}},
        {"name": "globex", "node_group": node, "database": {"dedicated_instance": {"instance_class": "db.r6g.xlarge"}}},
    ]
    env["rightsize"] = {"lookback": "7d", "period": "1h", "percentile": 95, "min_samples": 12}
    (root / "environments" / f"{ENV}.yaml").write_text(yaml.safe_dump(env, sort_keys=False))
    ci = root / "helm" / "controlplane" / "ci"
    shutil.copy(ci / "dev-values.yaml", ci / f"{ENV}-values.yaml")
    return root


@pytest.fixture(scope="module")
def now() -> datetime:
    """The end of the window: the start of this hour (the window is aligned on its periods)."""
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def _put(cw, namespace: str, metric: str, dims: dict[str, str], values: list[float], now: datetime, unit: str):
    """One datapoint a hour, mid-hour, the newest first: values[0] in the hour before `now`."""
    data = [
        {
            "MetricName": metric,
            "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
            "Timestamp": now - timedelta(hours=h, minutes=-30),
            "Value": value,
            "Unit": unit,
        }
        for h, value in enumerate(values, start=1)
    ]
    for i in range(0, len(data), 20):  # small requests: the SDK gzips bodies over 10 KB, which moto cannot read
        cw.put_metric_data(Namespace=namespace, MetricData=data[i : i + 20])


@pytest.fixture(scope="module")
def seeded(work_dir, now) -> Iterator[str]:
    """CloudWatch and EKS of the session emulator as a week of rsz would leave them; the system node group's ASG.
    The cluster is deleted after the module."""
    target = aws(work_dir)
    cw = target.client("cloudwatch")
    quiet = [8.0 + (h % 3) for h in range(HOURS)]  # 8, 9, 10 %: p95 = 10 %
    for identifier, cpu in (("rsz-control-plane", quiet), ("rsz-tenant-initech", [85.0] * HOURS)):
        _put(cw, "AWS/RDS", "CPUUtilization", {"DBInstanceIdentifier": identifier}, cpu, now, "Percent")
    _put(
        cw,
        "AWS/RDS",
        "FreeableMemory",
        {"DBInstanceIdentifier": "rsz-control-plane"},
        [28.0 * GIB] * HOURS,
        now,
        "Bytes",
    )
    for metric, value, unit in (("CPUUtilization", 10.0, "Percent"), ("FreeableMemory", 28.0 * GIB, "Bytes")):
        _put(cw, "AWS/RDS", metric, {"DBInstanceIdentifier": "rsz-tenant-globex"}, [value] * 20, now, unit)
    eks = target.client("eks")
    role = "arn:aws:iam::123456789012:role/rsz-eks"
    eks.create_cluster(name=ENV, roleArn=role, resourcesVpcConfig={"subnetIds": ["subnet-00000001"]})
    eks.create_nodegroup(
        clusterName=ENV,
        nodegroupName=f"{ENV}-system",
        subnets=["subnet-00000001"],
        nodeRole=role,
        instanceTypes=["t3.large"],
        scalingConfig={"minSize": 1, "maxSize": 3, "desiredSize": 1},
    )
    asg = eks.describe_nodegroup(clusterName=ENV, nodegroupName=f"{ENV}-system")["nodegroup"]["resources"]
    name = asg["autoScalingGroups"][0]["name"]
    _put(cw, "AWS/EC2", "CPUUtilization", {"AutoScalingGroupName": name}, [20.0] * HOURS, now, "Percent")
    _put(cw, "CWAgent", "mem_used_percent", {"AutoScalingGroupName": name}, [30.0] * HOURS, now, "Percent")
    yield name
    # the session emulator is shared: other tests count its EKS clusters (the datapoints harm nobody)
    eks.delete_nodegroup(clusterName=ENV, nodegroupName=f"{ENV}-system")
    eks.delete_cluster(name=ENV)


def _openmetrics(now: datetime) -> str:
    """A week and an hour of the api's and the worker's process series, every 5 minutes."""
    start = int((now - timedelta(hours=HOURS + 1)).timestamp())
    stamps = range(start, int(now.timestamp()) + 1, 300)
    pods = {"controlplane-api": (0.03, 150 * MIB), "controlplane-worker": (0.15, 200 * MIB)}
    lines = ["# TYPE process_cpu_seconds counter"]
    for job, (cores, _) in pods.items():
        lines += [f'process_cpu_seconds_total{{job="{job}"}} {cores * (t - start):.3f} {t}' for t in stamps]
    lines.append("# TYPE process_resident_memory_bytes gauge")
    for job, (_, rss) in pods.items():
        lines += [f'process_resident_memory_bytes{{job="{job}"}} {rss} {t}' for t in stamps]
    # an SLO alert of another env firing up to this minute: rsz's SLOs are not burning, "burning"'s are
    lines.append("# TYPE ALERTS gauge")
    firing = 'ALERTS{alertname="ApiAvailabilityBudgetBurn",alertstate="firing",env="burning",slo="api-availability"}'
    recent = int(time.time())
    lines += [f"{firing} 1 {t}" for t in range(recent - 3600, recent + 1, 60)]
    return "\n".join([*lines, "# EOF", ""])


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory, now) -> Iterator[str]:
    """A real Prometheus (as the dev stack starts it) on a TSDB backfilled by promtool; its URL."""
    promtool = shutil.which("promtool")
    if not promtool or not shutil.which("prometheus"):
        pytest.fail("promtool/prometheus not on PATH: apt-get install prometheus (make tools installs it)")
    base = tmp_path_factory.mktemp("prom")
    source = base / "history.om"
    source.write_text(_openmetrics(now))
    data = base / "prometheus-data"
    done = subprocess.run(
        [promtool, "tsdb", "create-blocks-from", "openmetrics", str(source), str(data)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    config = base / "prometheus.yml"
    config.write_text(yaml.safe_dump({"global": {"scrape_interval": "1m"}, "scrape_configs": []}))
    running = ls.start_prometheus(base, loopback.free_port(), config)
    yield running.extra["url"]
    ls.stop(running)


@pytest.fixture(scope="module")
def report(root, work_dir, seeded, prometheus, now):
    ctx = Context(project=find_project(root, root=root, work_dir=work_dir), settings=load_settings(), emulate=True)
    return rightsize.rightsize(ctx, ENV, prometheus_url=prometheus, now=now)


def _rec(report, name):
    return next(r for r in report.recommendations if r.name == name)


def test_a_quiet_database_goes_down_one_size_with_the_catalog_saving(report):
    r = _rec(report, "rsz-control-plane")
    assert (r.current, r.recommended, r.action, r.confidence) == ("db.r6g.xlarge", "db.r6g.large", "downsize", "high")
    assert (r.current_monthly_usd, r.recommended_monthly_usd, r.monthly_saving_usd) == (360.62, 180.31, 180.31)
    cpu, memory = r.measurements
    assert (cpu.peak_percent, cpu.samples, cpu.expected) == (10.0, HOURS, HOURS)
    assert memory.peak_percent == 12.5 and "FreeableMemory" in memory.source


def test_a_busy_database_is_sized_up(report):
    r = _rec(report, "rsz-tenant-initech")
    assert (r.current, r.recommended, r.action) == ("db.r6g.large", "db.r6g.xlarge", "upsize")
    assert r.monthly_saving_usd == -180.31
    assert any("memory not measured" in reason for reason in r.reasons)  # no FreeableMemory: never below 16 GiB


def test_a_sparsely_measured_database_is_low_confidence_and_never_downsized(report):
    r = _rec(report, "rsz-tenant-globex")
    assert (r.recommended, r.action, r.confidence) == ("db.r6g.xlarge", "keep", "low")
    assert r.measurements[0].samples == 20 and any("low confidence" in reason for reason in r.reasons)


def test_the_system_node_group_is_measured_through_its_auto_scaling_group(report, seeded):
    r = _rec(report, "rsz-system")
    assert (r.current, r.recommended, r.action, r.confidence) == ("1 x t3.large", "1 x t3.medium", "downsize", "high")
    assert r.monthly_saving_usd == 33.29 and seeded in r.measurements[0].source
    for tier in ("standard", "c-initech", "c-globex"):
        missing = _rec(report, f"rsz-tenant-{tier}")
        assert (missing.action, missing.recommended) == ("insufficient-data", None)
    assert any("rsz-tenant-standard not found" in note for note in report.notes)


def test_pods_are_sized_from_prometheus_against_their_requests(report):
    api, worker = _rec(report, "api"), _rec(report, "worker (standard)")
    assert (api.current, api.recommended, api.action) == (
        "cpu 100m / memory 256Mi",
        "cpu 50m / memory 192Mi",
        "downsize",
    )
    assert api.confidence == "high" and [m.peak_percent for m in api.measurements] == [30.0, 58.59]
    # priced as its share of a t3.large (2 vCPU, 8 GiB, 0.0912/h): 0.05 -> 0.025 of 66.58 a month
    assert (api.current_monthly_usd, api.recommended_monthly_usd, api.monthly_saving_usd) == (3.33, 1.66, 1.67)
    assert (worker.recommended, worker.action, worker.monthly_saving_usd) == (
        "cpu 200m / memory 256Mi",
        "upsize",
        -3.33,
    )
    assert report.slo_burning is False and report.prometheus_url.startswith("http://127.0.0.1:")


def test_a_firing_slo_alert_of_the_env_is_read_as_burning(prometheus):
    assert utilisation.slo_burning(prometheus, "burning") is True
    assert utilisation.slo_burning(prometheus, ENV) is False


def test_the_total_counts_every_priced_change_and_nothing_is_unpriced(report):
    """180.31 - 180.31 + 33.29 + 1.67 - 3.33 = 31.63."""
    assert report.monthly_saving_usd == 31.63 and report.unpriced == []
    assert report.catalog_version == yaml.safe_load((REPO_ROOT / "pricing" / "aws.yaml").read_text())["version"]


def test_the_cli_prints_the_model_as_json(invoke, root, work_dir, seeded, prometheus, monkeypatch):
    """Last in the module: the CLI reads the same seeded emulator and Prometheus, with the clock's own now."""
    monkeypatch.setenv("INFRACTL_WORK_DIR", str(work_dir))
    result = invoke("cost", "rightsize", ENV, "--emulate", "--prometheus", prometheus, "--json", root=root)
    data = json.loads(result.stdout)
    assert data["env"] == ENV and data["emulated"] is True and data["lookback"] == "7d"
    first = data["recommendations"][0]
    assert {
        "kind",
        "name",
        "current",
        "recommended",
        "action",
        "confidence",
        "measurements",
        "monthly_saving_usd",
    } <= set(first)
    assert first["name"] == "rsz-control-plane" and first["monthly_saving_usd"] == 180.31
    text = invoke("cost", "rightsize", ENV, "--emulate", "--prometheus", prometheus, root=root).stdout
    assert "rsz-control-plane: db.r6g.xlarge -> db.r6g.large downsize (high confidence" in text
    assert "monthly saving if applied" in text
