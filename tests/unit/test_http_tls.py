"""TLS through roost's HTTP layer: verification always on, the CA store loaded only for a handshake."""

from __future__ import annotations

import http.server
import shutil
import ssl
import subprocess
import threading
from pathlib import Path

import pytest

from roost_core.http import make_async_client, request_sync, verifying_context


class _Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.fail("openssl is needed to make the test certificate (.ci/run installs it)")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


@pytest.fixture
def tls_server(self_signed):
    cert, key = self_signed
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}/", cert
    server.shutdown()
    server.server_close()


def test_an_unknown_issuer_is_refused(tls_server, monkeypatch):
    url, _ = tls_server
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    result = request_sync("GET", url, headers={}, deadline_s=5)
    assert result.status is None and result.error == "tls", result


def test_the_store_named_by_ssl_cert_file_is_trusted(tls_server, monkeypatch):
    url, cert = tls_server
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    result = request_sync("GET", url, headers={}, deadline_s=5)
    assert (result.status, result.body, result.error) == (200, b"ok", None)


def test_a_store_that_cannot_be_read_is_a_tls_error_naming_it(tls_server, monkeypatch, tmp_path):
    url, _ = tls_server
    missing = tmp_path / "no-such-bundle.pem"
    monkeypatch.setenv("SSL_CERT_FILE", str(missing))
    result = request_sync("GET", url, headers={}, deadline_s=5)
    assert result.error == "tls" and str(missing) in (result.error_detail or ""), result
    assert result.sent is False


def test_the_store_is_loaded_at_the_first_handshake_only(tls_server, monkeypatch):
    url, cert = tls_server
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    context = verifying_context()
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.cert_store_stats()["x509_ca"] == 0

    import asyncio

    from roost_core.http import request_async

    async def get(target: str) -> int | None:
        async with make_async_client(ssl_context=context) as client:
            return (await request_async(client, "GET", target, headers={}, deadline_s=5)).status

    plain = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    threading.Thread(target=plain.serve_forever, daemon=True).start()
    try:
        assert asyncio.run(get(f"http://127.0.0.1:{plain.server_address[1]}/")) == 200
    finally:
        plain.shutdown()
        plain.server_close()
    assert context.cert_store_stats()["x509_ca"] == 0  # plain http: no store
    assert asyncio.run(get(url)) == 200
    assert context.cert_store_stats()["x509_ca"] == 1  # the one certificate SSL_CERT_FILE names


def test_a_looping_exception_chain_is_classified_without_hanging():
    import httpx

    from roost_core.http import _classify_exception

    outer, inner = httpx.ConnectError("refused"), OSError("reset")
    outer.__context__, inner.__context__ = inner, outer  # chains can loop (seen from a transport)
    assert _classify_exception(outer)[0] == "connect"
    wrapped = httpx.ConnectError("handshake")
    wrapped.__context__ = ssl.SSLError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    assert _classify_exception(wrapped) == ("tls", "SSLError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
