import pytest

from infractl.errors import ConfigError, UsageError
from infractl.models.stacks import Manifest
from infractl.services.stacks import graph


def manifest(edges: dict[str, list[str]], inputs: dict[str, dict[str, str]] | None = None) -> Manifest:
    return Manifest.model_validate(
        {
            "stacks": {
                name: {
                    "cloud": "aws",
                    "path": f"aws/{name}",
                    "depends_on": deps,
                    "inputs": (inputs or {}).get(name, {}),
                }
                for name, deps in edges.items()
            }
        }
    )


def test_dependencies_come_first_and_ties_are_stable():
    m = manifest(
        {
            "ci": ["evidence"],
            "evidence": ["data"],
            "data": ["network"],
            "cluster": ["network"],
            "network": [],
            "finops": [],
        }
    )
    order = graph.topo_order(m)
    assert order == ["finops", "network", "cluster", "data", "evidence", "ci"]
    for name, spec in m.stacks.items():
        assert all(order.index(dep) < order.index(name) for dep in spec.depends_on)


def test_cycle_is_rejected_naming_it():
    with pytest.raises(ConfigError) as info:
        graph.topo_order(manifest({"a": ["c"], "b": ["a"], "c": ["b"], "d": []}))
    assert "dependency cycle: a -> c -> b -> a" in info.value.message


def test_self_dependency_is_a_cycle():
    with pytest.raises(ConfigError, match="cycle: a -> a"):
        graph.topo_order(manifest({"a": ["a"]}))


def test_unknown_dependency_and_undeclared_upstream_reference():
    with pytest.raises(ConfigError) as info:
        graph.check(manifest({"a": ["ghost"], "b": []}, {"b": {"vpc_id": "stack.a.vpc_id"}}), display="m.yaml")
    lines = [info.value.message, *info.value.details]
    assert "m.yaml: stacks.a.depends_on: unknown stack 'ghost'" in lines
    assert "m.yaml: stacks.b.inputs.vpc_id: stack.a.vpc_id reads stack 'a', which is not in depends_on" in lines


def test_malformed_input_reference_is_a_validation_error():
    with pytest.raises(ValueError, match=r"not env\.<path>, stack\.<name>\.<output> or state\.<field>"):
        manifest({"a": []}, {"a": {"x": "environment.name"}})


def test_select_filters_cloud_and_names():
    m = manifest({"network": [], "cluster": ["network"]})
    assert [s.name for s in graph.select(m, "aws")] == ["network", "cluster"]
    assert [s.name for s in graph.select(m, "aws", ["cluster"])] == ["cluster"]
    assert graph.select(m, "gcp") == []
    with pytest.raises(UsageError, match="unknown stack"):
        graph.select(m, "aws", ["nope"])


def test_repository_manifest_is_valid():
    from pathlib import Path

    from infractl.models.project import Project

    root = Path(__file__).resolve().parents[2]
    m = graph.load_manifest(Project(root=root, work_dir=root / ".infractl"))
    assert "network" in m.stacks


def test_dependents_are_transitive():
    m = manifest({"network": [], "cluster": ["network"], "apps": ["cluster"], "finops": []})
    assert graph.dependents(m, "network") == {"cluster", "apps"}
    assert graph.dependents(m, "finops") == set()
