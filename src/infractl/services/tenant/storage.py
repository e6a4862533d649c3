"""Where backups live: s3://bkp-<account>-<region>-<env>/<tenant>/<timestamp>/… (the aws data stack's bucket,
output tenant_backup_bucket), every object SSE-KMS with the env's key (the kms stack's alias/<env>-<BACKUP_KEY>).
Locally the dev stack's moto plays the env's account: the bucket and the key (with the alias the kms stack would
create) are made there when missing, tagged as Terraform tags them (the env's tags and tenant=shared: one bucket
and one key hold every tenant's backups, docs/finops.md#tags); against an env both must exist (Terraform makes them)
and a missing one is an error naming it.

Uploads stream: `Writer` sends 8 MiB parts as data arrives (one PUT when it stays under a part), hashing as it
goes; `FolderUpload` follows the files pg_dump is still writing, so the upload runs alongside the dump. Downloads
stream too: into a file or a named pipe pg_restore reads from (`feed`)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infractl.adapters import aws
from infractl.errors import CloudError, ConfigError
from infractl.models.tenant import BackupObject
from infractl.services.db.connect import s3_clients

BACKUP_KEY = "database"  # the kms stack's key for data at rest of the databases: RDS, snapshots, tenant backups
PART = 8 * 1024 * 1024  # multipart part size (S3's minimum is 5 MiB): small, so little is left when pg_dump ends
READ = 1024 * 1024
POLL_S = 0.05
WORKERS = 4


def key_alias(env: str) -> str:
    return f"alias/{env}-{BACKUP_KEY}"


@dataclass(frozen=True)
class Store:
    env: str
    bucket: str
    key_id: str  # the KMS key's ARN (what head_object reports as SSEKMSKeyId)
    s3: Any

    def sse(self) -> dict[str, str]:
        return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self.key_id}


def open_store(tenv: Any, *, create: bool = False) -> Store:
    """The env's backup bucket and key. Locally (the dev stack) `create` makes them when missing."""
    endpoint = tenv.endpoint
    if endpoint.s3 is None:
        raise ConfigError(f"no S3 for {tenv.name}'s tenant backups", hint="locally: --emulate (the dev stack's S3)")
    access = endpoint.s3
    s3, kms = s3_clients(access)
    bucket, alias = tenv.model.tenant_backup_bucket(), key_alias(tenv.name)
    local = endpoint.local and create
    tags = dict(tenv.model.stack_tags)  # the env's tags + tenant=shared, as the data and kms stacks' default_tags
    key_id = _key(kms, alias, tenv.name, local=local, tags=tags)
    _bucket(s3, bucket, access.region, tenv.name, local=local, tags=tags)
    return Store(env=tenv.name, bucket=bucket, key_id=key_id, s3=s3)


def _key(kms: Any, alias: str, env: str, *, local: bool, tags: dict[str, str]) -> str:
    from botocore.exceptions import ClientError

    try:
        return kms.describe_key(KeyId=alias)["KeyMetadata"]["Arn"]
    except ClientError as exc:
        if aws.error_code(exc) != "NotFoundException" or not local:
            if aws.error_code(exc) == "NotFoundException":
                raise CloudError(
                    f"the KMS key {alias} of {env} does not exist", hint=f"apply the kms stack: infractl apply {env}"
                ) from None
            raise CloudError(f"kms:DescribeKey {alias}: {exc}") from None
    created = aws.call(
        "kms:CreateKey",
        kms.create_key,
        Description=f"{env}: tenant backups (the dev stack plays the env's account)",
        Tags=[{"TagKey": k, "TagValue": v} for k, v in sorted(tags.items())],
    )
    arn = created["KeyMetadata"]["Arn"]
    aws.call("kms:CreateAlias", kms.create_alias, AliasName=alias, TargetKeyId=created["KeyMetadata"]["KeyId"])
    return arn


def _bucket(s3: Any, bucket: str, region: str, env: str, *, local: bool, tags: dict[str, str]) -> None:
    from botocore.exceptions import ClientError

    try:
        s3.head_bucket(Bucket=bucket)
        return
    except ClientError as exc:
        if aws.error_code(exc) not in ("404", "NoSuchBucket", "NotFound"):
            raise CloudError(f"s3:HeadBucket {bucket}: {exc}") from None
    if not local:
        raise CloudError(
            f"the backup bucket {bucket} of {env} does not exist", hint=f"apply the data stack: infractl apply {env}"
        )
    args: dict[str, Any] = {"Bucket": bucket}
    if region != "us-east-1":
        args["CreateBucketConfiguration"] = {"LocationConstraint": region}
    aws.call(f"s3:CreateBucket {bucket}", s3.create_bucket, **args)
    block = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
    aws.call(
        f"s3:PutPublicAccessBlock {bucket}",
        s3.put_public_access_block,
        Bucket=bucket,
        PublicAccessBlockConfiguration=dict.fromkeys(block, True),
    )
    aws.call(
        f"s3:PutBucketTagging {bucket}",
        s3.put_bucket_tagging,
        Bucket=bucket,
        Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in sorted(tags.items())]},
    )


# ---------------------------------------------------------------------------------------------- upload


class Writer:
    """One object written as a stream: parts of PART bytes uploaded as they fill, sha256 and size on the way."""

    def __init__(self, store: Store, key: str, *, file: str, table: str | None = None) -> None:
        self.store, self.key, self.file, self.table = store, key, file, table
        self.sha = hashlib.sha256()
        self.size = 0
        self.buffer = bytearray()
        self.upload_id: str | None = None
        self.parts: list[dict[str, Any]] = []

    def write(self, data: bytes | memoryview) -> None:
        self.sha.update(data)
        self.size += len(data)
        self.buffer += data
        while len(self.buffer) >= PART:
            self._part(bytes(self.buffer[:PART]))
            del self.buffer[:PART]

    def _part(self, body: bytes) -> None:
        s3 = self.store.s3
        if self.upload_id is None:
            created = aws.call(
                f"s3:CreateMultipartUpload {self.key}",
                s3.create_multipart_upload,
                Bucket=self.store.bucket,
                Key=self.key,
                **self.store.sse(),
            )
            self.upload_id = created["UploadId"]
        number = len(self.parts) + 1
        done = aws.call(
            f"s3:UploadPart {self.key}",
            s3.upload_part,
            Bucket=self.store.bucket,
            Key=self.key,
            UploadId=self.upload_id,
            PartNumber=number,
            Body=body,
        )
        self.parts.append({"PartNumber": number, "ETag": done["ETag"]})

    def close(self) -> BackupObject:
        s3 = self.store.s3
        if self.upload_id is None:
            aws.call(
                f"s3:PutObject {self.key}",
                s3.put_object,
                Bucket=self.store.bucket,
                Key=self.key,
                Body=bytes(self.buffer),
                **self.store.sse(),
            )
        else:
            if self.buffer:
                self._part(bytes(self.buffer))
            aws.call(
                f"s3:CompleteMultipartUpload {self.key}",
                s3.complete_multipart_upload,
                Bucket=self.store.bucket,
                Key=self.key,
                UploadId=self.upload_id,
                MultipartUpload={"Parts": self.parts},
            )
        self.buffer.clear()
        return BackupObject(key=self.key, file=self.file, size=self.size, sha256=self.sha.hexdigest(), table=self.table)

    def abort(self) -> None:
        if self.upload_id is not None:
            with contextlib.suppress(Exception):
                self.store.s3.abort_multipart_upload(Bucket=self.store.bucket, Key=self.key, UploadId=self.upload_id)


def put_json(store: Store, key: str, data: dict[str, Any]) -> BackupObject:
    writer = Writer(store, key, file=key.rsplit("/", 1)[-1])
    writer.write(json.dumps(data, indent=2, sort_keys=True).encode())
    return writer.close()


class FolderUpload:
    """Upload every file of `folder` to <prefix>/<file name> while a program is still writing them: each file is
    followed from its start and sent part by part as it grows; `finish()` (called once the writer exited) reads
    each to its end, completes the uploads and uploads the files held back (`last`: written at the very end, like
    pg_dump's toc.dat)."""

    def __init__(self, store: Store, folder: Path, prefix: str, *, last: tuple[str, ...] = ("toc.dat",)) -> None:
        self.store, self.folder, self.prefix, self.last = store, folder, prefix, last
        self.done = threading.Event()
        self.pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="tenant-upload")
        self.futures: dict[str, Future[BackupObject]] = {}
        self.writers: list[Writer] = []
        self.watcher = threading.Thread(target=self._watch, name="tenant-upload-watch", daemon=True)

    def start(self) -> FolderUpload:
        self.watcher.start()
        return self

    def _watch(self) -> None:
        while not self.done.is_set():
            self._pick_up()
            time.sleep(POLL_S * 2)

    def _pick_up(self, *, all_files: bool = False) -> None:
        with contextlib.suppress(FileNotFoundError):
            for entry in sorted(os.scandir(self.folder), key=lambda e: e.name):
                if entry.is_file() and entry.name not in self.futures and (all_files or entry.name not in self.last):
                    self.futures[entry.name] = self.pool.submit(self._follow, Path(entry.path))

    def _follow(self, path: Path) -> BackupObject:
        writer = Writer(self.store, f"{self.prefix}/{path.name}", file=path.name)
        self.writers.append(writer)
        with open(path, "rb") as fh:
            while True:
                finished = self.done.is_set()  # read before reading: once set, what follows is the whole rest
                chunk = fh.read(READ)
                if chunk:
                    writer.write(chunk)
                elif finished:
                    break
                else:
                    time.sleep(POLL_S)
        return writer.close()

    def finish(self) -> list[BackupObject]:
        self.done.set()
        self.watcher.join()
        self._pick_up(all_files=True)
        try:
            return [self.futures[name].result() for name in sorted(self.futures)]
        finally:
            self.pool.shutdown(wait=True)

    def abort(self) -> None:
        self.done.set()
        if self.watcher.is_alive():
            self.watcher.join()
        for future in self.futures.values():
            with contextlib.suppress(Exception):
                future.result()
        self.pool.shutdown(wait=True)
        for writer in self.writers:
            writer.abort()


# ---------------------------------------------------------------------------------------------- read


def get_json(store: Store, key: str) -> dict[str, Any]:
    body = aws.call(f"s3:GetObject s3://{store.bucket}/{key}", store.s3.get_object, Bucket=store.bucket, Key=key)
    return json.loads(body["Body"].read())


def head(store: Store, key: str) -> dict[str, Any]:
    return aws.call(f"s3:HeadObject s3://{store.bucket}/{key}", store.s3.head_object, Bucket=store.bucket, Key=key)


def manifests(store: Store, tenant: str) -> list[str]:
    """The manifest keys of a tenant's backups, oldest first (the timestamps sort)."""
    keys: list[str] = []
    paginator = store.s3.get_paginator("list_objects_v2")
    try:
        for page in paginator.paginate(Bucket=store.bucket, Prefix=f"{tenant}/"):
            keys += [o["Key"] for o in page.get("Contents", []) if o["Key"].endswith("/manifest.json")]
    except Exception as exc:
        raise CloudError(f"s3:ListObjectsV2 s3://{store.bucket}/{tenant}/: {exc}") from None
    return sorted(k for k in keys if k.count("/") == 2)


def chunks(store: Store, key: str) -> Iterator[bytes]:
    body = aws.call(f"s3:GetObject s3://{store.bucket}/{key}", store.s3.get_object, Bucket=store.bucket, Key=key)
    yield from body["Body"].iter_chunks(READ)


def download(store: Store, obj: BackupObject, path: Path) -> str:
    """Write the object to the file `path`; its sha256."""
    sha = hashlib.sha256()
    with open(path, "wb") as fh:
        for chunk in chunks(store, obj.key):
            sha.update(chunk)
            fh.write(chunk)
    return sha.hexdigest()


def _stream_fd(store: Store, obj: BackupObject, fd: int) -> str:
    """Stream the object into an open pipe; its sha256. BrokenPipeError when the reader goes away."""
    sha = hashlib.sha256()
    with os.fdopen(fd, "wb") as fh:
        for chunk in chunks(store, obj.key):
            sha.update(chunk)
            fh.write(chunk)
    return sha.hexdigest()


class Feed:
    """Objects written into files (downloaded now, in parallel) or named pipes (streamed while pg_restore reads
    them), hashing what is sent; `close()` says which objects' sha256 matched.

    A pipe is opened for writing only once its reader has opened it: one watcher tries each waiting pipe with a
    non-blocking open (ENXIO until there is a reader) and hands the opened ones to the writers. So no thread ever
    blocks on a pipe nobody opens, and the writers are as many as pg_restore reads at once, however many tables."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.closing = threading.Event()
        self.pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="tenant-feed")
        self.futures: dict[str, tuple[BackupObject, Future[str]]] = {}
        self.waiting: dict[str, tuple[BackupObject, Path]] = {}
        self.lock = threading.Lock()
        self.watcher: threading.Thread | None = None

    def add(self, obj: BackupObject, path: Path) -> None:
        if not path.is_fifo():
            self.futures[obj.file] = (obj, self.pool.submit(download, self.store, obj, path))
            return
        with self.lock:
            self.waiting[obj.file] = (obj, path)
        if self.watcher is None:
            self.watcher = threading.Thread(target=self._watch, name="tenant-feed-watch", daemon=True)
            self.watcher.start()

    def _watch(self) -> None:
        import errno

        while not self.closing.is_set():
            with self.lock:
                waiting = list(self.waiting.items())
            for name, (obj, path) in waiting:
                try:
                    fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
                except OSError as exc:
                    if exc.errno == errno.ENXIO:  # no reader yet
                        continue
                    failed: Future[str] = Future()
                    failed.set_exception(exc)
                    fd, future = None, failed
                else:
                    os.set_blocking(fd, True)
                    future = self.pool.submit(_stream_fd, self.store, obj, fd)
                with self.lock:
                    del self.waiting[name]
                    self.futures[name] = (obj, future)
            time.sleep(POLL_S / 5)

    def wait(self, names: list[str]) -> None:
        for name in names:
            self.futures[name][1].result()

    def close(self) -> tuple[list[str], list[str]]:
        """(verified objects, problems). Pipes nobody opened are given up (their object counts as not verified)."""
        self.closing.set()
        if self.watcher is not None:
            self.watcher.join()
        problems = [f"{name}: not read by pg_restore" for name in sorted(self.waiting)]
        verified = []
        for name, (obj, future) in sorted(self.futures.items()):
            try:
                sha = future.result()
            except BrokenPipeError:
                problems.append(f"{name}: not read to its end by pg_restore")
                continue
            except Exception as exc:
                problems.append(f"{name}: {exc}")
                continue
            if sha == obj.sha256:
                verified.append(name)
            else:
                problems.append(f"{name}: sha256 {sha[:12]}… differs from the manifest's")
        self.pool.shutdown(wait=True)
        return verified, problems
