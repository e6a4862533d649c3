"""CloudWatch metric reads for right-sizing (docs/finops.md#right-sizing), and the one EKS lookup they need: the Auto
Scaling groups of a managed node group (AWS/EC2 metrics are dimensioned by AutoScalingGroupName). boto3 is imported
inside the AwsTarget's client, so `infractl --help` stays fast; with --emulate the target is the local emulator."""

from __future__ import annotations

from datetime import datetime, timedelta

from infractl.adapters.aws import AwsTarget, call, error_code

MAX_DATAPOINTS = 1440  # GetMetricStatistics answers at most 1,440 datapoints a call


def statistics(
    target: AwsTarget,
    namespace: str,
    metric: str,
    dimensions: dict[str, str],
    start: datetime,
    end: datetime,
    period_s: int,
    statistic: str = "Maximum",
) -> list[tuple[datetime, float]]:
    """One statistic per period of one metric with exactly these dimensions, from start to end: (period start, value)
    sorted by time; periods without data are absent. Split into calls of at most MAX_DATAPOINTS periods."""
    client = target.client("cloudwatch")
    dims = [{"Name": k, "Value": v} for k, v in sorted(dimensions.items())]
    points: dict[datetime, float] = {}
    chunk = timedelta(seconds=period_s * MAX_DATAPOINTS)
    at = start
    while at < end:
        until = min(at + chunk, end)
        answer = call(
            f"cloudwatch:GetMetricStatistics {namespace} {metric}",
            client.get_metric_statistics,
            Namespace=namespace,
            MetricName=metric,
            Dimensions=dims,
            StartTime=at,
            EndTime=until,
            Period=period_s,
            Statistics=[statistic],
        )
        for point in answer.get("Datapoints") or []:
            if statistic in point:
                points[point["Timestamp"]] = float(point[statistic])
        at = until
    return sorted(points.items())


def node_group_asgs(target: AwsTarget, cluster: str, node_group: str) -> list[str] | None:
    """The Auto Scaling groups EKS made for a managed node group; None when the cluster or node group is not there."""
    from botocore.exceptions import ClientError

    client = target.client("eks")

    def describe() -> dict | None:
        try:
            return client.describe_nodegroup(clusterName=cluster, nodegroupName=node_group)
        except ClientError as exc:
            if error_code(exc) == "ResourceNotFoundException":
                return None
            raise

    answer = call(f"eks:DescribeNodegroup {cluster}/{node_group}", describe)
    if answer is None:
        return None
    groups = ((answer.get("nodegroup") or {}).get("resources") or {}).get("autoScalingGroups") or []
    return [g["name"] for g in groups if g.get("name")]
