"""Kubernetes' side of Vault/OpenBao Kubernetes auth, for tests against a real OpenBao: there is no Kubernetes API
server on this machine, so the TokenReview endpoint OpenBao calls is faked here (and only that)."""

from __future__ import annotations

import base64
import json
import threading
from datetime import UTC, datetime, timedelta


class FakeTokenReview:
    """The TokenReview API: a token it was given (jwt -> (namespace, service account, uid)) is authenticated as that
    service account, with the audiences the request asked for; any other token is not."""

    def __init__(self, tokens: dict[str, tuple[str, str, str]]) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        review = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                review.calls += 1
                known = tokens.get(body["spec"]["token"])
                status: dict = {"authenticated": known is not None}
                if known:
                    namespace, name, uid = known
                    status["user"] = {
                        "username": f"system:serviceaccount:{namespace}:{name}",
                        "uid": uid,
                        "groups": ["system:serviceaccounts", f"system:serviceaccounts:{namespace}"],
                    }
                    status["audiences"] = body["spec"].get("audiences") or []
                data = json.dumps(
                    {"kind": "TokenReview", "apiVersion": "authentication.k8s.io/v1", "status": status}
                ).encode()
                self.send_response(201)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.calls = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def self_signed_pem() -> str:
    """A CA certificate for the auth method's config (required by the API; unused over plain http)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake-kubernetes-ca")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def service_account_jwt(namespace: str, name: str, uid: str, audience: str | None = None) -> str:
    """A service-account token's shape (claims only: OpenBao leaves verification to the TokenReview)."""

    def part(obj) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    claims = {
        "iss": "kubernetes/serviceaccount",
        "sub": f"system:serviceaccount:{namespace}:{name}",
        "kubernetes.io/serviceaccount/namespace": namespace,
        "kubernetes.io/serviceaccount/service-account.name": name,
        "kubernetes.io/serviceaccount/service-account.uid": uid,
    }
    if audience:
        claims["aud"] = [audience]
    return f"{part({'alg': 'RS256', 'kid': 'test'})}.{part(claims)}.{part('not-verified-by-bao-without-keys')}"
