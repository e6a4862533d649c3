"""The Vault Kubernetes-auth roles helm/controlplane renders for prod, written into a real OpenBao: each component and
each tier C tenant logs in with its own ServiceAccount only, and gets only its own policies. A tenant's token cannot
log in as another tenant or as the shared worker. (The TokenReview API OpenBao calls is faked: no Kubernetes here.)"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import helm_python  # noqa: F401 - installed by make: missing is a failure, never a skip
import hvac
import pytest
import yaml

from infractl.adapters import helm
from infractl.adapters import localservices as ls
from infractl.models.project import Project
from infractl.services.render import values as values_service
from tests.kubernetes_fakes import FakeTokenReview, self_signed_pem, service_account_jwt

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


def _roles() -> tuple[str, list[dict]]:
    """(auth mount, roles) from the vault-roles ConfigMap of prod's rendered controlplane chart."""
    project = Project(root=REPO, work_dir=REPO / ".infractl")
    values = values_service.values_for(project, "prod").charts["controlplane"]
    templates = helm.render(REPO / "helm" / "controlplane", values, release="controlplane", namespace="controlplane")
    docs = [d for text in templates.values() for d in yaml.safe_load_all(text) if d]
    [cm] = [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].endswith("-vault-roles")]
    return cm["data"]["auth-mount"], json.loads(cm["data"]["roles.json"])


@pytest.fixture(scope="module")
def openbao(tmp_path_factory) -> Iterator[tuple[hvac.Client, str]]:
    token = secrets.token_hex(16)
    running = ls.start_openbao(tmp_path_factory.mktemp("openbao"), ls.free_port(), token)
    try:
        yield hvac.Client(url=running.url, token=token), running.url
    finally:
        ls.stop(running)


def test_each_role_admits_only_its_own_service_account(openbao):
    admin, url = openbao
    mount, roles = _roles()
    names = [r["name"] for r in roles]
    assert names == [
        "controlplane-api",
        "controlplane-worker",
        "controlplane-tenant-acme",
        "controlplane-tenant-globex",
    ]
    # One service-account token per role's subject, as Kubernetes would issue them.
    subjects = {
        r["name"]: (r["bound_service_account_namespaces"][0], r["bound_service_account_names"][0]) for r in roles
    }
    tokens = {
        role: service_account_jwt(ns, sa, f"uid-{i}", audience=roles[i]["audience"])
        for i, (role, (ns, sa)) in enumerate(subjects.items())
    }
    review = FakeTokenReview({tokens[role]: (*subjects[role], f"uid-{i}") for i, role in enumerate(subjects)})
    try:
        admin.sys.enable_auth_method("kubernetes", path=mount)
        admin.auth.kubernetes.configure(
            kubernetes_host=review.url,
            kubernetes_ca_cert=self_signed_pem(),
            token_reviewer_jwt="reviewer-jwt",
            disable_local_ca_jwt=True,
            mount_point=mount,
        )
        for role in roles:  # the ConfigMap verbatim: what whoever configures Vault applies
            for policy in role["token_policies"]:
                admin.sys.create_or_update_policy(
                    policy, f'path "secret/data/{policy}/*" {{ capabilities = ["read"] }}'
                )
            admin.auth.kubernetes.create_role(
                role["name"],
                bound_service_account_names=role["bound_service_account_names"],
                bound_service_account_namespaces=role["bound_service_account_namespaces"],
                audience=role["audience"],
                policies=role["token_policies"],
                ttl="5m",
                mount_point=mount,
            )
        for role in roles:
            for who, jwt in tokens.items():
                client = hvac.Client(url=url)
                if who == role["name"]:
                    auth = client.auth.kubernetes.login(role["name"], jwt, mount_point=mount)["auth"]
                    assert sorted(auth["token_policies"]) == sorted(["default", *role["token_policies"]])
                    assert auth["metadata"]["service_account_namespace"] == subjects[who][0]
                else:
                    with pytest.raises(hvac.exceptions.Forbidden, match="not authorized"):  # not bound to this role
                        client.auth.kubernetes.login(role["name"], jwt, mount_point=mount)
        assert review.calls >= len(roles)
    finally:
        review.close()
