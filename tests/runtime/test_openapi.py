"""docs/api/openapi.json is what the code generates (regenerate: python -m controlplane.openapi --write)."""

from __future__ import annotations

import json
from pathlib import Path

from controlplane import openapi

REPO = Path(__file__).resolve().parents[2]
COMMITTED = REPO / "docs" / "api" / "openapi.json"


def test_committed_openapi_document_is_current():
    assert COMMITTED.is_file(), "docs/api/openapi.json is missing: python -m controlplane.openapi --write"
    assert COMMITTED.read_text(encoding="utf-8") == openapi.document(), (
        "docs/api/openapi.json is stale: run `python -m controlplane.openapi --write` and commit it"
    )


def test_document_describes_the_api():
    spec = json.loads(openapi.document())
    assert set(spec["paths"]) == {
        "/livez",
        "/readyz",
        "/v1/tenants/{tenant}/runs",
        "/v1/tenants/{tenant}/runs/{run_id}",
    }
    post = spec["paths"]["/v1/tenants/{tenant}/runs"]["post"]
    assert set(post["responses"]) >= {"202", "400", "413", "422", "503"}
    (key,) = [p for p in post["parameters"] if p["in"] == "header"]
    assert key["name"] == "Idempotency-Key" and not key["required"]
    assert "422" in key["description"] and "Idempotent-Replayed" in key["description"]
    assert set(post["responses"]["202"]["headers"]) == {"Location", "Idempotent-Replayed"}
    assert "idempotency_key_reused" in post["responses"]["422"]["description"]
    assert post["responses"]["422"]["content"]["application/json"]["schema"]["$ref"].endswith("HTTPValidationError")
    assert "503" in spec["paths"]["/readyz"]["get"]["responses"]


def test_check_and_write_modes(tmp_path, capsys):
    path = tmp_path / "openapi.json"
    assert openapi.main(["--check", "--path", str(path)]) == 1
    assert "missing" in capsys.readouterr().err
    assert openapi.main(["--write", "--path", str(path)]) == 0
    assert openapi.main(["--check", "--path", str(path)]) == 0
    path.write_text(path.read_text().replace("controlplane", "changed", 1))
    assert openapi.main(["--check", "--path", str(path)]) == 1
    assert "stale" in capsys.readouterr().err
