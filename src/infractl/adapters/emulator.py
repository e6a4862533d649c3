"""The local AWS emulator: a moto server on a free loopback port, TLS with a project-local CA, data under
<work_dir>/emulator. Fake credentials go only to this loopback endpoint."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path

from pydantic import BaseModel

from infractl.adapters import aws, process
from infractl.adapters import localservices as ls

HOST = "127.0.0.1"
FAKE_ACCESS_KEY = "infractl-emulator"
FAKE_SECRET_KEY = "infractl-emulator"
START_TIMEOUT_S = 30.0
HEALTH_TIMEOUT_S = 5.0  # its health check waits behind no call (emulator_patches.server), but the machine may be busy
SERVICE = "moto"  # its log is <data_dir>/moto.log, its pid file <data_dir>/moto.pid


class EmulatorState(BaseModel):
    running: bool
    pid: int | None = None
    port: int | None = None
    url: str | None = None
    ca_file: str | None = None
    started_at: str | None = None
    data_dir: str
    log_file: str


def _paths(data_dir: Path) -> dict[str, Path]:
    return {
        "state": data_dir / "state.json",
        "log": data_dir / "moto.log",
        "requests": data_dir / "requests.jsonl",
        "ca": data_dir / "ca.pem",
        "cert": data_dir / "server.pem",
        "key": data_dir / "server-key.pem",
    }


def status(data_dir: Path) -> EmulatorState:
    p = _paths(data_dir)
    base = {"data_dir": str(data_dir), "log_file": str(p["log"])}
    r = _recorded(data_dir)
    if r is None or not ls.is_healthy(r):
        return EmulatorState(running=False, **base)
    return EmulatorState(
        running=True,
        pid=r.pid,
        port=r.port,
        url=r.extra.get("url"),
        ca_file=str(p["ca"]),
        started_at=r.extra.get("started_at"),
        **base,
    )


def start(data_dir: Path, *, port: int | None = None) -> tuple[EmulatorState, bool]:
    """Start the emulator unless it runs already. Returns (state, started_now).

    It runs on the dev stack's supervisor (localservices.start_process: its own session, so it outlives this
    process; output appended to moto.log) and counts as started once it answers over TLS verified with ca.pem.
    """
    current = status(data_dir)
    if current.running:
        return current, False
    recorded = _recorded(data_dir)
    if recorded is not None and process.is_running(recorded.handle):
        # alive but slow to answer (a busy machine): wait for it; a second emulator would orphan this one's data
        ls.wait_healthy(recorded, START_TIMEOUT_S)
        return status(data_dir), False
    data_dir.mkdir(parents=True, exist_ok=True)
    p = _paths(data_dir)
    if not (p["ca"].is_file() and p["cert"].is_file() and p["key"].is_file()):
        _make_certificates(p["ca"], p["cert"], p["key"])
    port = port or ls.free_port()
    url = f"https://{HOST}:{port}"
    env = dict(
        aws.emulator_env(os.environ),  # moto's own boto3 sessions must not read this machine's profile either
        MOTO_IAM_LOAD_MANAGED_POLICIES="true",
        PYTHONUNBUFFERED="1",
        INFRACTL_EMULATOR_REQUEST_LOG=str(p["requests"]),
    )
    argv = [
        sys.executable,
        "-m",
        "infractl.adapters.emulator_server",
        "-H",
        HOST,
        "-p",
        str(port),
        "-c",
        str(p["cert"]),
        "-k",
        str(p["key"]),
    ]
    extra = {
        "url": url,
        "ca_file": str(p["ca"]),
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "health_timeout": HEALTH_TIMEOUT_S,
    }
    # the moto API answers 200 without touching the backends (the data dump would be slow to fetch)
    r = ls.start_process(SERVICE, argv, env, data_dir, port, f"{url}/moto-api/", wait=START_TIMEOUT_S, extra=extra)
    p["state"].write_text(json.dumps(r.to_dict()))
    return status(data_dir), True


def stop(data_dir: Path) -> bool:
    """Stop the emulator; False when it was not running. Its in-memory data is gone afterwards."""
    p = _paths(data_dir)
    r = _recorded(data_dir)
    if r is None:
        return False
    was_running = process.is_running(r.handle)
    ls.stop(r, timeout=5)
    p["state"].unlink(missing_ok=True)
    return was_running


def _recorded(data_dir: Path) -> ls.Running | None:
    """The emulator's service record in state.json (a `localservices.Running`), or None when there is none.

    A state.json of an older infractl ({pid, port, url, started_at}) still reads, so that emulator can be stopped.
    """
    p = _paths(data_dir)
    try:
        saved = json.loads(p["state"].read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    if not isinstance(saved, dict) or not saved.get("pid"):
        return None
    if "name" not in saved:
        url = str(saved.get("url") or "")
        saved = {
            "name": SERVICE,
            "pid": saved["pid"],
            "port": saved.get("port") or 0,
            "log": str(p["log"]),
            "extra": {"health": "http", "health_url": f"{url}/moto-api/", "ca_file": str(p["ca"]), "url": url}
            | ({"started_at": saved["started_at"]} if saved.get("started_at") else {}),
        }
    try:
        return ls.Running.from_dict(saved)
    except (KeyError, TypeError, ValueError):
        return None


def _make_certificates(ca_path: Path, cert_path: Path, key_path: Path) -> None:
    """A private CA and a server certificate for 127.0.0.1 / localhost, valid for a year."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "infractl local emulator CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(HOST)), x509.DNSName("localhost")]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    os.chmod(key_path, 0o600)
