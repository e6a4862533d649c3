"""The local AWS emulator: a moto server on a free loopback port, TLS with a project-local CA, data under
<work_dir>/emulator. Fake credentials go only to this loopback endpoint."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from pydantic import BaseModel

from infractl.adapters.localservices import free_port, tail_file
from infractl.errors import ExternalToolError

HOST = "127.0.0.1"
FAKE_ACCESS_KEY = "infractl-emulator"
FAKE_SECRET_KEY = "infractl-emulator"
START_TIMEOUT_S = 30.0


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
    try:
        saved = json.loads(p["state"].read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return EmulatorState(running=False, **base)
    pid, url = saved.get("pid"), saved.get("url")
    if not (_alive(pid) and _responds(url, str(p["ca"]))):
        return EmulatorState(running=False, **base)
    return EmulatorState(
        running=True,
        pid=pid,
        port=saved.get("port"),
        url=url,
        ca_file=str(p["ca"]),
        started_at=saved.get("started_at"),
        **base,
    )


def start(data_dir: Path, *, port: int | None = None) -> tuple[EmulatorState, bool]:
    """Start the emulator unless it runs already. Returns (state, started_now)."""
    current = status(data_dir)
    if current.running:
        return current, False
    data_dir.mkdir(parents=True, exist_ok=True)
    p = _paths(data_dir)
    if not (p["ca"].is_file() and p["cert"].is_file() and p["key"].is_file()):
        _make_certificates(p["ca"], p["cert"], p["key"])
    port = port or free_port()
    url = f"https://{HOST}:{port}"
    env = dict(
        os.environ,
        MOTO_IAM_LOAD_MANAGED_POLICIES="true",
        PYTHONUNBUFFERED="1",
        INFRACTL_EMULATOR_REQUEST_LOG=str(p["requests"]),
    )
    with open(p["log"], "ab") as log:
        proc = subprocess.Popen(
            [
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
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ExternalToolError(
                f"the emulator exited with {proc.returncode} while starting",
                details=tail_file(p["log"], 15),
                hint=f"see {p['log']}",
            )
        if _responds(url, str(p["ca"])):
            started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
            p["state"].write_text(json.dumps({"pid": proc.pid, "port": port, "url": url, "started_at": started}))
            return status(data_dir), True
        time.sleep(0.2)
    _terminate(proc.pid)
    raise ExternalToolError(
        f"the emulator did not answer on {url} within {START_TIMEOUT_S:.0f} s", details=tail_file(p["log"], 15)
    )


def stop(data_dir: Path) -> bool:
    """Stop the emulator; False when it was not running. Its in-memory data is gone afterwards."""
    p = _paths(data_dir)
    try:
        saved = json.loads(p["state"].read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return False
    pid = saved.get("pid")
    was_running = _alive(pid)
    if was_running:
        _terminate(pid)
    p["state"].unlink(missing_ok=True)
    return was_running


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    try:  # a zombie child of this process counts as dead
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def _responds(url: str | None, ca_file: str) -> bool:
    if not url:
        return False
    ctx = ssl.create_default_context(cafile=ca_file)
    try:  # any HTTP answer over verified TLS means it is up (the data dump would be slow to fetch)
        with urllib.request.urlopen(f"{url}/moto-api/", context=ctx, timeout=5) as resp:
            return resp.status < 500
    except urllib.error.HTTPError as exc:
        return exc.code < 500
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _terminate(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    for _ in range(50):
        if not _alive(pid):
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


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
