"""The documented deployment: TLS with a pinned CA, doctor's view of the store, key-file hygiene."""

from __future__ import annotations

import datetime
import ipaddress
import os
import subprocess
import time
from pathlib import Path

import pytest

from fleetkit.fixtures import fleet, key_file, machines, needs_redis, redis_server  # noqa: F401 (fixtures)
from fleetkit.redisserver import REDIS_SERVER, _ping, free_port
from roost_core.errors import Unavailable, ValidationError

pytestmark = needs_redis


def _certificates(directory: Path) -> dict[str, Path]:
    """A throwaway CA and a server certificate for 127.0.0.1 (cryptography, no openssl CLI)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)

    def build(subject: str, key, issuer_name, issuer_key, *, ca: bool):
        builder = (x509.CertificateBuilder()
                   .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
                   .issuer_name(issuer_name or x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(minutes=5))
                   .not_valid_after(now + datetime.timedelta(days=1))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if not ca:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        return builder.sign(issuer_key, hashes.SHA256())

    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = build("roost test CA", ca_key, None, ca_key, ca=True)
    server = build("127.0.0.1", server_key, ca.subject, ca_key, ca=False)
    paths = {"ca": directory / "ca.pem", "cert": directory / "server.pem", "key": directory / "server.key"}
    paths["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths["cert"].write_bytes(server.public_bytes(serialization.Encoding.PEM))
    paths["key"].write_bytes(server_key.private_bytes(serialization.Encoding.PEM,
                                                      serialization.PrivateFormat.TraditionalOpenSSL,
                                                      serialization.NoEncryption()))
    os.chmod(paths["key"], 0o600)
    return paths


@pytest.fixture
def tls_server(tmp_path):
    certs = _certificates(tmp_path)
    port, plain = free_port(), free_port()
    proc = subprocess.Popen([REDIS_SERVER, "--port", str(plain), "--bind", "127.0.0.1", "--tls-port", str(port),
                             "--tls-cert-file", str(certs["cert"]), "--tls-key-file", str(certs["key"]),
                             "--tls-ca-cert-file", str(certs["ca"]), "--tls-auth-clients", "no",
                             "--dir", str(tmp_path), "--save", "", "--appendonly", "no",
                             "--logfile", str(tmp_path / "redis.log")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not _ping(plain):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.skip("this redis-server was built without TLS")
        time.sleep(0.02)
    try:
        yield port, certs
    finally:
        proc.kill()
        proc.wait()


def test_tls_with_a_pinned_ca(machines, tls_server, tmp_path):
    from roost_redis.restore import init_store

    port, certs = tls_server
    url = f"rediss://127.0.0.1:{port}/0"
    good = machines.machine("tls", url=url, tls_ca_file=str(certs["ca"]), timeout=2.0, connect_timeout=2.0)
    assert init_store(good)[0] is True
    good.update_doc("health", lambda d: {"ok": True})
    assert machines.machine("tls2", url=url, tls_ca_file=str(certs["ca"])).read_doc("health") == {"ok": True}
    # Another CA (here: the system store, which does not know ours) is refused, not ignored.
    stranger = machines.machine("stranger", url=url, timeout=2.0, connect_timeout=2.0)
    with pytest.raises(Unavailable):
        with stranger.lock("x", timeout=1):
            pass


def test_doctor_reports_the_store(fleet):
    from roost_redis.doctor import RedisStateCheck

    fleet.seed(fleet.a, "p")
    results = {r.name: r for r in RedisStateCheck().run(fleet.a.context())}
    assert results["state-redis-reachable"].level == "ok"
    assert results["state-redis-epoch"].level == "ok"
    assert results["state-redis-persistence"].level == "ok"  # the test server runs AOF + appendfsync always
    fleet.redis.client().config_set("appendfsync", "everysec")
    results = {r.name: r for r in RedisStateCheck().run(fleet.a.context())}
    assert results["state-redis-persistence"].level == "warn"
    files = {r.name: r for r in RedisStateCheck().run(fleet.a.context(CLAUDE_LB_STATE_BACKEND="files"))}
    assert [r.level for r in files.values()] == ["skip"]


def test_key_file_must_be_private_and_never_overwritten(tmp_path, machines):
    from roost_redis.crypto import Sealer, write_key_file

    path = tmp_path / "k"
    write_key_file(path)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    with pytest.raises(Exception, match="refusing to overwrite"):
        write_key_file(path)
    os.chmod(path, 0o644)
    with pytest.raises(ValidationError, match="chmod 600"):
        Sealer.from_key_file(path)
    os.chmod(path, 0o600)
    sealer = Sealer.from_key_file(path)
    blob = sealer.seal("p", 3, b"secret")
    assert b"secret" not in blob and sealer.open("p", 3, blob) == (3, b"secret")
    # A second key line: the new key encrypts, the old one still decrypts (rotation of the team key).
    old = path.read_bytes()
    from roost_redis.crypto import generate_key

    path.write_bytes(generate_key() + b"\n" + old)
    rotated = Sealer.from_key_file(path)
    assert rotated.open("p", 3, blob) == (3, b"secret")
