"""The backend port over TLS: `taxi router` given a key and certificate (TAXI_BACKEND_TLS_KEY,
TAXI_BACKEND_TLS_CERTIFICATE) speaks only TLS there, and `taxi backend --router rss://...`
checks the router's certificate against TAXI_BACKEND_CA_FILE (README, "Backends on other hosts").
The certificate is a self-signed one for `localhost`, made here, as an operator's own CA's would be."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from taxi.ports import free_port

from ..support.node import TAXI, Node, wait_until
from .test_remote_backend import one_line_failure, taxi

pytestmark = pytest.mark.e2e

NEVER_WITHIN = 15  # seconds a backend that must never join is watched for


def self_signed(directory, hostname: str = "localhost") -> tuple[str, str]:
    """(key file, certificate file): an EC key and a certificate for `hostname`, valid for a day."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    now = dt.datetime.now(dt.timezone.utc)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    key_file, certificate_file = directory / "router-tls.key", directory / "router-tls.pem"
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))  # fmt: skip
    certificate_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return str(key_file), str(certificate_file)


@pytest.fixture(scope="module")
def tls_node(new_database, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("tls")
    key, certificate = self_signed(workdir)
    environment = {"TAXI_BACKEND_TLS_KEY": key, "TAXI_BACKEND_TLS_CERTIFICATE": certificate,
                   "TAXI_BACKEND_CA_FILE": certificate}  # fmt: skip
    with new_database("sqlite") as url:
        node = Node(url, workdir, remote=True, environment=environment)
        try:
            yield node
        finally:
            assert node.stop() == 0


def test_a_backend_joins_over_tls_checking_the_router_s_certificate_and_serves(tls_node):
    assert tls_node.backend_url.startswith("rss://localhost:")
    tls_node.wait_until_serving()  # its procedures registered, over the TLS connection
    assert "at rss://localhost" in tls_node.logs[-1].read_text()
    assert f"taxi: backends rss://127.0.0.1:{tls_node.backend_port} (cryptosign" in tls_node.logs[0].read_text()


def test_a_backend_speaking_plain_tcp_to_the_tls_port_never_serves(tls_node):
    tls_node.wait_until_serving()
    plain = tls_node.backend_url.replace("rss://localhost", "rs://127.0.0.1")
    process, log = another_backend(tls_node, "plain", plain)
    try:
        # Nothing to wait for: the TLS side drops what is not a TLS handshake, and the backend's
        # client tries again, quietly. A backend that can join is ready in a few seconds (above).
        deadline = time.monotonic() + NEVER_WITHIN
        while time.monotonic() < deadline:
            assert "backend ready" not in log.read_text()
            assert process.poll() is None, log.read_text()
            time.sleep(0.5)
    finally:
        process.terminate()
        process.wait(15)


def test_a_backend_without_the_ca_file_does_not_trust_a_self_signed_router(tls_node):
    tls_node.wait_until_serving()
    process, log = another_backend(tls_node, "untrusting", tls_node.backend_url, TAXI_BACKEND_CA_FILE="")
    try:
        wait_until(lambda: "certificate verify failed" in log.read_text(), 30,
                   "the backend to refuse the router's certificate", tls_node)  # fmt: skip
        assert "backend ready" not in log.read_text()
    finally:
        process.terminate()
        process.wait(15)


@pytest.mark.parametrize("given, missing", [("TAXI_BACKEND_TLS_KEY", "TAXI_BACKEND_TLS_CERTIFICATE"),
                                            ("TAXI_BACKEND_TLS_CERTIFICATE", "TAXI_BACKEND_TLS_KEY")])  # fmt: skip
def test_one_tls_file_without_the_other_stops_the_start_in_one_line(tmp_path, given, missing):
    key, certificate = self_signed(tmp_path)
    files = {"TAXI_BACKEND_TLS_KEY": key, "TAXI_BACKEND_TLS_CERTIFICATE": certificate}
    line = one_line_failure(taxi(tmp_path, "run", "--port", str(free_port()), **{given: files[given]}))
    assert line == f"taxi: the backend port's TLS: TLS needs both files: set {missing} too (or neither, for plain TCP)"


def test_a_tls_file_taxi_cannot_read_stops_the_start_in_one_line(tmp_path):
    key, _ = self_signed(tmp_path)
    line = one_line_failure(taxi(tmp_path, "router", "--port", str(free_port()), TAXI_BACKEND_TLS_KEY=key,
                                 TAXI_BACKEND_TLS_CERTIFICATE="/nowhere/cert.pem"))  # fmt: skip
    assert line == "taxi: the backend port's TLS: cannot read TAXI_BACKEND_TLS_CERTIFICATE /nowhere/cert.pem: No such file or directory"


def another_backend(node: Node, name: str, url: str, **environment: str):
    """A `taxi backend` with the node's first backend's key (a listed one) joining `url`: (process, its log)."""
    env = {**node._env, "TAXI_BACKEND_KEY_FILE": str(node.workdir / "backend-1.key"), **environment}
    process = node._start(name, [TAXI, "backend", "--router", url], env)
    return process, node.logs[-1]
