"""The ledger's pure parts: the canonical encoding, entry checks, the chain check's findings, signers, and an
exported proof checked with nothing but the document (docs/evidence.md#encoding)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from infractl.adapters.ledger import chain, signers
from infractl.services.evidence import export, verify


def _chain(n: int) -> list[chain.Entry]:
    entries, prev = [], chain.GENESIS
    for seq in range(1, n + 1):
        new = chain.NewEntry(tenant="acme", kind="run.evidence", actor="worker", attributes={"n": seq, "ü": "x"})
        entry = chain.seal(seq, prev, "2026-12-07T15:00:00.000000Z", new)
        entries.append(entry)
        prev = entry.entry_hash
    return entries


def test_the_body_is_the_fields_in_order_joined_by_tabs_and_its_hash_links_the_next() -> None:
    first, second = _chain(2)
    assert first.body().split(b"\t")[:3] == [chain.GENESIS.encode(), b"1", b"2026-12-07T15:00:00.000000Z"]
    assert first.body().endswith('{"n":1,"ü":"x"}'.encode())
    assert first.entry_hash == chain.digest(first.body()) and second.prev_hash == first.entry_hash
    assert chain.BODY_SQL.startswith("concat_ws(E'\\t', prev_hash, seq::text, created_at,")
    assert chain.BODY_SQL.count(",") == len(chain.FIELDS)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"actor": "a\tb"}, "actor holds a tab"),
        ({"ref": "x\ny"}, "ref holds a tab or a line break"),
        ({"kind": "Run Evidence"}, "kind 'Run Evidence'"),
        ({"tenant": ""}, "tenant is empty"),
        ({"payload_sha256": "abc", "object_key": "k"}, "payload_sha256 is not 64"),
        ({"object_key": "k"}, "object_key and payload_sha256 go together"),
        ({"retain_until": "tomorrow"}, "retain_until 'tomorrow'"),
    ],
)
def test_an_entry_that_cannot_be_encoded_is_named(change: dict, problem: str) -> None:
    base = {"tenant": "acme", "kind": "run.evidence", "actor": "worker"}
    problems = chain.NewEntry(**{**base, **change}).problems()
    assert any(problem in p for p in problems), problems


def _blobs(entries: list[chain.Entry], per: int = 3) -> list[bytes]:
    bodies = [e.body() for e in entries]
    return [b"\n".join(bodies[i : i + per]) for i in range(0, len(bodies), per)]


def test_the_chain_check_names_a_missing_entry_an_edit_and_nothing_on_a_clean_chain() -> None:
    entries = _chain(10)
    findings: list = []
    hashes = verify.check_chain(iter(_blobs(entries)), chain.GENESIS, 1, findings)
    assert findings == [] and [h.decode() for h in hashes] == [e.entry_hash for e in entries]

    gap = entries[:4] + entries[5:]
    verify.check_chain(iter(_blobs(gap)), chain.GENESIS, 1, findings)
    assert [(f.seq, f.reason) for f in findings] == [(6, "missing")] and "entries 5..5" in findings[0].detail

    findings.clear()
    edited = list(entries)
    body = edited[6].body().replace(b'"n":7', b'"n":70')
    blobs = [b"\n".join(b if b != edited[6].body() else body for b in blob.split(b"\n")) for blob in _blobs(edited)]
    verify.check_chain(iter(blobs), chain.GENESIS, 1, findings)
    assert [(f.seq, f.reason) for f in findings] == [(8, "broken-link")]


def test_a_local_signer_signs_and_only_its_key_verifies(tmp_path: Path) -> None:
    signer = signers.LocalSigner.from_file(tmp_path / "k.pem", create=True)
    again = signers.LocalSigner.from_file(tmp_path / "k.pem")
    assert again.key_id == signer.key_id and (tmp_path / "k.pem").stat().st_mode & 0o777 == 0o600
    ((signature, key_id),) = signer.sign([chain.entry_message("a" * 64)])
    public = signer.public_keys()[key_id]
    assert signers.verify(public, chain.entry_message("a" * 64), signature)
    assert not signers.verify(public, chain.entry_message("b" * 64), signature)
    assert not signers.verify(public, chain.entry_message("a" * 64), "not base64!")
    other = signers.LocalSigner.from_file(tmp_path / "other.pem", create=True)
    assert not signers.verify(other.public_keys()[other.key_id], chain.entry_message("a" * 64), signature)
    with pytest.raises(signers.SigningError, match="no signing key"):
        signers.LocalSigner.from_file(tmp_path / "missing.pem")


def test_a_proof_checks_with_nothing_but_the_document_and_an_edit_breaks_it(tmp_path: Path) -> None:
    signer = signers.LocalSigner.from_file(tmp_path / "k.pem", create=True)
    entries = _chain(5)
    sigs = signer.sign([chain.entry_message(e.entry_hash) for e in entries])
    ((cp_sig, key_id),) = signer.sign([chain.checkpoint_message(5, entries[-1].entry_hash)])
    doc = {
        "entry": {"entry_hash": entries[1].entry_hash},
        "proof": {
            "segment": [
                {"seq": e.seq, "body": e.body().decode(), "signature": s, "key_id": k}
                for e, (s, k) in zip(entries[1:], sigs[1:], strict=True)
            ],
            "checkpoint": {"seq": 5, "entry_hash": entries[-1].entry_hash, "signature": cp_sig, "key_id": key_id},
        },
        "keys": {key_id: base64.b64encode(signer.public_keys()[key_id]).decode()},
    }
    assert export.check_proof(doc) == []
    doc["proof"]["checkpoint"]["seq"] = 4
    assert "the checkpoint's signature does not verify" in export.check_proof(doc)
