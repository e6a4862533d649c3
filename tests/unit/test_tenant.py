"""The tenant commands' pure parts: name and tier checks, tier C's place in the env model, the SCRAM verifier, the
pg_dump/pg_restore argv, the dump's table of contents, the streaming uploads (on a fake S3), the undo stack and the
rendering (no secret in it)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import re
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from infractl.adapters.pg import PgServer
from infractl.errors import ConfigError, InfractlError, UsageError
from infractl.models.tenant import BackupManifest, Credentials, TenantCreated
from infractl.services.db.connect import DbEndpoint
from infractl.services.tenant import backup, create, dump, provision, restore, session, storage


@pytest.mark.parametrize(
    "name",
    ["a'; drop table runs;--", 'Robert"', "Acme", "a", "-acme", "acme-", "acme_x", "a b", "x" * 33, "ac;me", ""],
)
def test_unsafe_names_are_refused_before_any_sql(name):
    with pytest.raises(UsageError, match="is not a tenant name"):
        session.check_name(name)


@pytest.mark.parametrize("name", ["ab", "acme", "acme-eu", "t2", "a" * 32])
def test_safe_names_pass(name):
    session.check_name(name)


def test_tiers_any_case_and_unknown_lists_them():
    assert [session.check_tier(t) for t in ("a", "B", " c ")] == ["A", "B", "C"]
    with pytest.raises(UsageError, match="unknown tier 'D'") as info:
        session.check_tier("D")
    assert [d[:2] for d in info.value.details] == ["A:", "B:", "C:"]


def _tenv(tenants=()):
    model = SimpleNamespace(tenants=list(tenants))
    endpoint = DbEndpoint(env="dev", server=PgServer(host="127.0.0.1", port=5432, user="postgres"))
    return session.TenantEnv(
        name="dev", endpoint=endpoint, model=model, env_file="environments/dev.yaml", spool=Path("/nonexistent")
    )


def test_plan_record_per_tier_and_tier_c_only_for_the_env_models_tenants():
    dedicated = SimpleNamespace(name="big", database=SimpleNamespace(dedicated_instance=True))
    shared = SimpleNamespace(name="acme-eu", node_group=None)
    tenv = _tenv([dedicated, shared])
    a = session.plan_record(tenv, "acme-eu", "A")
    assert (a.role, a.schema_name, a.database, a.state) == ("tenant_acme_eu", None, "controlplane", "creating")
    b = session.plan_record(tenv, "acme-eu", "B")
    assert (b.schema_name, b.database) == ("tenant_acme_eu", "controlplane")
    c = session.plan_record(tenv, "acme-eu", "C")
    assert (c.database, c.instance) == ("tenant_acme_eu", None)
    assert session.plan_record(tenv, "big", "C").instance == "big"
    with pytest.raises(ConfigError, match=r"environments/dev.yaml: tenants: other is not a tier C tenant") as info:
        session.plan_record(tenv, "other", "C")
    assert "add `- name: other`" in info.value.hint


def test_the_engines_login_can_never_be_a_tenant_role():
    record = session.plan_record(_tenv(), "acme", "A")
    assert create.manager_role(record) == "vault_tenant_acme"
    assert not create.manager_role(record).startswith("tenant_")


def test_scram_verifier_is_what_postgres_stores_for_the_password():
    password = "correct horse battery staple"  # pragma: allowlist secret
    verifier = provision.scram_verifier(password)
    m = re.fullmatch(r"SCRAM-SHA-256\$4096:([^$]+)\$([^:]+):(.+)", verifier)
    assert m and password not in verifier
    salt, stored, server = (base64.b64decode(g) for g in m.groups())
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 4096)
    assert stored == hashlib.sha256(hmac.new(salted, b"Client Key", hashlib.sha256).digest()).digest()
    assert server == hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    assert provision.scram_verifier(password) != verifier  # a fresh salt each time


def test_dump_and_restore_argv_carry_no_credentials():
    argv = dump.dump_argv("pg_dump", Path("/d"), "tenant_x", schema="tenant_x", snapshot="00000003-1")
    assert argv == [
        "pg_dump",
        "--format=directory",
        "--jobs=2",
        "--file=/d",
        "--no-password",
        "--compress=1",
        "--snapshot=00000003-1",
        "--schema=tenant_x",
        "--dbname=tenant_x",
    ]
    argv = dump.restore_argv("pg_restore", Path("/d"), "controlplane", role="tenant_y", use_list=Path("/l"))
    assert "--role=tenant_y" in argv and "--use-list=/l" in argv and "--no-owner" in argv and argv[-1] == "/d"
    server = PgServer(host="h", port=1, user="u", password="s3cret-value")  # pragma: allowlist secret
    assert dump.env(server)["PGPASSWORD"] == "s3cret-value"  # pragma: allowlist secret
    assert not [a for a in argv if "s3cret" in a]


def test_the_schema_entry_of_a_table_of_contents():
    assert dump.SCHEMA_ENTRY.match("5; 2615 16385 SCHEMA - tenant_b1 tenant_b1")["name"] == "tenant_b1"
    assert not dump.SCHEMA_ENTRY.match("218; 1259 16386 TABLE tenant_b1 runs tenant_b1")
    assert [n for n in ("3416.dat.gz", "3416.dat", "toc.dat", "blobs.toc", "3.dat.zst") if dump.is_data_file(n)] == [
        "3416.dat.gz",
        "3416.dat",
        "3.dat.zst",
    ]


class FakeS3:
    def __init__(self):
        self.objects: dict[str, bytes] = {}
        self.uploads: dict[str, list[bytes]] = {}
        self.calls: list[str] = []
        self.lock = threading.Lock()

    def put_object(self, *, Bucket, Key, Body, **sse):
        assert sse == {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "arn:key"}
        self.calls.append("put")
        self.objects[Key] = Body

    def create_multipart_upload(self, *, Bucket, Key, **sse):
        assert sse["ServerSideEncryption"] == "aws:kms"
        self.uploads[Key] = []
        return {"UploadId": Key}

    def upload_part(self, *, Bucket, Key, UploadId, PartNumber, Body):
        with self.lock:
            self.uploads[UploadId].append(Body)
            self.calls.append("part")
        return {"ETag": f"e{PartNumber}"}

    def complete_multipart_upload(self, *, Bucket, Key, UploadId, MultipartUpload):
        assert [p["PartNumber"] for p in MultipartUpload["Parts"]] == list(range(1, len(self.uploads[UploadId]) + 1))
        self.objects[Key] = b"".join(self.uploads.pop(UploadId))

    def get_object(self, *, Bucket, Key):
        class Body(io.BytesIO):
            def iter_chunks(self, size):
                while chunk := self.read(size):
                    yield chunk

        return {"Body": Body(self.objects[Key])}


def _store(s3):
    return storage.Store(env="dev", bucket="dev-tenant-backups", key_id="arn:key", s3=s3)


def test_writer_puts_small_objects_once_and_big_ones_in_parts(monkeypatch):
    monkeypatch.setattr(storage, "PART", 10)
    s3 = FakeS3()
    small = storage.Writer(_store(s3), "t/small", file="small")
    small.write(b"12345")
    assert small.close().sha256 == hashlib.sha256(b"12345").hexdigest()
    big = storage.Writer(_store(s3), "t/big", file="big")
    data = bytes(range(256)) * 3
    for i in range(0, len(data), 7):
        big.write(data[i : i + 7])
    obj = big.close()
    assert s3.objects["t/big"] == data and obj.size == len(data) and obj.sha256 == hashlib.sha256(data).hexdigest()
    assert s3.calls.count("put") == 1 and s3.calls.count("part") == 77


def test_folder_upload_follows_files_while_they_are_written(monkeypatch, tmp_path):
    monkeypatch.setattr(storage, "PART", 64)
    monkeypatch.setattr(storage, "POLL_S", 0.005)
    s3 = FakeS3()
    folder = tmp_path / "dump"
    upload = storage.FolderUpload(_store(s3), folder, "t/1").start()
    folder.mkdir()
    written = {"1.dat.gz": b"", "2.dat.gz": b""}
    for i in range(30):  # two files growing at once, the way pg_dump's two jobs write them
        for name in written:
            chunk = f"{name}:{i};".encode() * 3
            with open(folder / name, "ab") as fh:
                fh.write(chunk)
            written[name] += chunk
        time.sleep(0.002)
    (folder / "toc.dat").write_bytes(b"toc")  # written last, uploaded only at finish
    objects = upload.finish()
    assert [o.file for o in objects] == ["1.dat.gz", "2.dat.gz", "toc.dat"]
    for o in objects:
        content = written.get(o.file, b"toc")
        assert s3.objects[o.key] == content and o.sha256 == hashlib.sha256(content).hexdigest()


def test_feed_checks_each_object_and_gives_up_pipes_nobody_reads(tmp_path):
    import os

    from infractl.models.tenant import BackupObject

    s3 = FakeS3()
    s3.objects["k/a"] = b"alpha"
    s3.objects["k/b"] = b"beta"
    alpha = hashlib.sha256(b"alpha").hexdigest()
    good = BackupObject(key="k/a", file="a", size=5, sha256=alpha)
    bad = BackupObject(key="k/b", file="b", size=4, sha256="0" * 64)
    unread = BackupObject(key="k/a", file="c", size=5, sha256=alpha)
    piped = BackupObject(key="k/a", file="d", size=5, sha256=alpha)
    feed = storage.Feed(_store(s3))
    feed.add(good, tmp_path / "a")
    feed.add(bad, tmp_path / "b")
    for name, obj in (("c", unread), ("d", piped)):
        os.mkfifo(tmp_path / name)
        feed.add(obj, tmp_path / name)
    got = {}
    reader = threading.Thread(target=lambda: got.update(d=(tmp_path / "d").read_bytes()))  # as pg_restore opens it
    reader.start()
    feed.wait(["a", "b"])
    reader.join(timeout=10)
    verified, problems = feed.close()
    assert got == {"d": b"alpha"} and verified == ["a", "d"]
    beta = hashlib.sha256(b"beta").hexdigest()[:12]
    assert sorted(problems) == [f"b: sha256 {beta}… differs from the manifest's", "c: not read by pg_restore"]


def test_undo_runs_newest_first_and_reports_what_it_could_not_undo():
    undone = []
    undo = provision.Undo()
    undo.did("one", lambda: undone.append(1))
    undo.did("two", lambda: (_ for _ in ()).throw(RuntimeError("still in use")))
    undo.did("three", lambda: undone.append(3))
    assert undo.rollback() == ["two: still in use"]
    assert undone == [3, 1] and undo.done == ["one", "two", "three"]
    error = create.undone(RuntimeError("boom"), provision.Undo(), "tenant x was not created")
    assert isinstance(error, InfractlError) and error.message == "tenant x was not created: boom"
    assert error.details == ["tenant x was not created: everything it had done was undone"]
    interrupt = KeyboardInterrupt()
    assert create.undone(interrupt, provision.Undo(), "x") is interrupt


def test_backup_keys_sort_by_time_and_restore_finds_the_manifest():
    import datetime as dt

    early = backup.stamp(dt.datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=dt.UTC))
    assert early == "20260102T030405000006Z" < backup.stamp()
    store = storage.Store(env="dev", bucket="dev-tenant-backups", key_id="k", s3=None)
    manifest = "acme/20260102T030405000006Z/manifest.json"
    for given in (manifest, "acme/20260102T030405000006Z", "s3://dev-tenant-backups/acme/20260102T030405000006Z/"):
        assert restore.resolve_key(store, "acme", given) == manifest


def test_rendering_names_credentials_by_path_only(capsys):
    from infractl.cli import ui_tenant
    from infractl.models.db import TenantRecord

    record = TenantRecord(name="acme", tier="C", role="tenant_acme", database="tenant_acme", state="ready")
    created = TenantCreated(
        env="dev", tenant=record, credentials=Credentials(store="database-engine", path="database/creds/tenant-acme")
    )
    ui_tenant.print_created(created)
    text = capsys.readouterr().out
    assert "tenant acme created" in text and "database/creds/tenant-acme" in text
    assert "password" not in text.lower()
    assert "password" not in str(BackupManifest.model_fields) and "password" not in str(Credentials.model_fields)
