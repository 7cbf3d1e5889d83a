"""What crosses the wire: TLS verification that can be turned off or pointed at a CA bundle
for all three clients alike, and redirects that never carry credentials to another host.

The HTTPS endpoint is a TLS relay on 127.0.0.1 in front of SeaweedFS, with a certificate from
a private CA made for the test; the redirect is a server on 127.0.0.1 answering 307 towards a
recorder on 127.0.0.2 (loopback too).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import http.server
import ipaddress
import socket
import socketserver
import ssl
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from s3kit._session import Session
from s3kit.errors import EndpointError, S3KitError
from tests.conftest import Backend, CliInvoker, unique_bucket_name


def _private_ca(folder: Path) -> tuple[Path, Path, Path]:
    """(CA certificate, server certificate, server key): a private CA, as a self-hosted
    store has, and a certificate for 127.0.0.1 that it signed."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)

    def certificate(
        subject: str, key: Any, issuer: str, signer: Any, *, ca: bool
    ) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False,
            )
        return builder.sign(signer, hashes.SHA256())

    ca_key, server_key = (
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP256R1()),
    )
    ca = certificate("s3kit test CA", ca_key, "s3kit test CA", ca_key, ca=True)
    server = certificate("127.0.0.1", server_key, "s3kit test CA", ca_key, ca=False)
    paths = folder / "ca.pem", folder / "server.pem", folder / "server-key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(server.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


class _TlsRelay(socketserver.ThreadingTCPServer):
    """TLS on 127.0.0.1, bytes relayed as they are to a plain-HTTP upstream."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, upstream: tuple[str, int], context: ssl.SSLContext) -> None:
        self.upstream = upstream
        self.context = context
        super().__init__(("127.0.0.1", 0), _Relay)


class _Relay(socketserver.BaseRequestHandler):
    server: _TlsRelay

    def handle(self) -> None:
        try:
            client = self.server.context.wrap_socket(self.request, server_side=True)
        except (ssl.SSLError, OSError):
            return  # a client that refused the certificate
        with client, socket.create_connection(self.server.upstream, timeout=30) as upstream:

            def pump(source: Any, sink: Any) -> None:
                with contextlib.suppress(OSError):
                    while chunk := source.recv(65536):
                        sink.sendall(chunk)
                with contextlib.suppress(OSError):
                    sink.shutdown(socket.SHUT_WR)

            back = threading.Thread(target=pump, args=(upstream, client), daemon=True)
            back.start()
            pump(client, upstream)
            back.join(30)


@pytest.fixture(scope="module")
def tls(seaweed: Backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """(https endpoint, the CA that signed its certificate) in front of SeaweedFS."""
    ca, cert, key = _private_ca(tmp_path_factory.mktemp("tls"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    host, port = seaweed.endpoint.removeprefix("http://").split(":")
    relay = _TlsRelay((host, int(port)), context)
    thread = threading.Thread(target=relay.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"https://127.0.0.1:{relay.server_address[1]}", ca
    finally:
        relay.shutdown()
        relay.server_close()
        thread.join(10)


@pytest.fixture(scope="module")
def tls_bucket(seaweed: Backend) -> Iterator[str]:
    name = unique_bucket_name("tls")
    client = seaweed.session().client("s3")
    client.create_bucket(Bucket=name)
    yield name
    with contextlib.suppress(Exception):
        for entry in client.list_objects_v2(Bucket=name).get("Contents", []):
            client.delete_object(Bucket=name, Key=entry["Key"])
        client.delete_bucket(Bucket=name)


def _session(seaweed: Backend, endpoint: str, **options: Any) -> Session:
    return Session(
        endpoint_url=endpoint,
        access_key_id=seaweed.access_key,
        secret_access_key=seaweed.secret_key,
        max_retries=0,
        env={},
        **options,
    )


def _every_client(session: Session, bucket: str) -> None:
    """One call through each of the two clients: signed requests, boto3."""
    storage = session.storage(bucket)
    asyncio.run(storage.put_async("tls/object", b"over TLS"))  # signed PUT
    assert storage.get("tls/object") == b"over TLS"  # signed GET
    assert [entry.key for entry in storage.list("tls/")] == ["tls/object"]  # signed listing
    session.client("s3").head_object(Bucket=bucket, Key="tls/object")  # boto3


def test_a_self_signed_endpoint_is_refused_by_default(
    seaweed: Backend, tls: tuple[str, Path], tls_bucket: str
) -> None:
    endpoint, _ = tls
    session = _session(seaweed, endpoint)
    with pytest.raises(EndpointError):
        list(session.storage(tls_bucket).list(""))
    with pytest.raises(S3KitError):
        session.storage(tls_bucket).get("tls/object")


def test_no_verify_ssl_reaches_a_self_signed_endpoint_through_every_client(
    seaweed: Backend, tls: tuple[str, Path], tls_bucket: str
) -> None:
    endpoint, _ = tls
    notices: list[str] = []
    session = Session(
        endpoint_url=endpoint,
        access_key_id=seaweed.access_key,
        secret_access_key=seaweed.secret_key,
        verify_ssl=False,
        env={},
        notify=notices.append,
    )
    _every_client(session, tls_bucket)
    assert any("verification is off" in notice for notice in notices)


def test_a_ca_bundle_is_trusted_by_every_client(
    seaweed: Backend, tls: tuple[str, Path], tls_bucket: str
) -> None:
    endpoint, cert = tls
    _every_client(_session(seaweed, endpoint, ca_bundle=str(cert)), tls_bucket)


def test_the_cli_takes_ca_bundle_and_no_verify_ssl_as_flags_and_variables(
    seaweed: Backend, tls: tuple[str, Path], tls_bucket: str, cli: CliInvoker
) -> None:
    endpoint, cert = tls
    env = {**seaweed.env(), "S3KIT_ENDPOINT_URL": endpoint}
    refused = cli("ls", f"s3://{tls_bucket}/", env=env)
    assert refused.exit_code != 0
    for extra in ({"AWS_CA_BUNDLE": str(cert)}, {"S3KIT_NO_VERIFY_SSL": "1"}):
        result = cli("ls", f"s3://{tls_bucket}/", env={**env, **extra})
        assert result.exit_code == 0, result.stderr
    for flags in (["--ca-bundle", str(cert)], ["--no-verify-ssl"]):
        result = cli(*flags, "ls", f"s3://{tls_bucket}/", env=env)
        assert result.exit_code == 0, result.stderr
    assert "verification is off" in result.stderr


def test_a_missing_ca_bundle_is_a_usage_error(seaweed: Backend, tmp_path: Path) -> None:
    session = _session(seaweed, seaweed.endpoint, ca_bundle=str(tmp_path / "none.pem"))
    with pytest.raises(S3KitError, match="CA bundle"):
        _ = session.settings


# -- redirects ------------------------------------------------------------------------------------


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: list[dict[str, str]]

    def _any(self) -> None:
        self.seen.append({k.lower(): v for k, v in self.headers.items()})
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _any

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Redirector(http.server.BaseHTTPRequestHandler):
    target: str

    def _any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.send_response(307)
        self.send_header("Location", f"{self.target}{self.path}")
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _any

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def redirect() -> Iterator[tuple[str, list[dict[str, str]]]]:
    """(an endpoint that redirects everything to another host, what that host received)."""
    seen: list[dict[str, str]] = []
    recorder_handler = type("Recorder", (_Recorder,), {"seen": seen})
    recorder = socketserver.ThreadingTCPServer(("127.0.0.2", 0), recorder_handler)
    target = f"http://127.0.0.2:{recorder.server_address[1]}"
    redirector = socketserver.ThreadingTCPServer(
        ("127.0.0.1", 0), type("Redirector", (_Redirector,), {"target": target})
    )
    servers = [recorder, redirector]
    threads = [
        threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.05}) for s in servers
    ]
    for thread in threads:
        thread.start()
    try:
        yield f"http://127.0.0.1:{redirector.server_address[1]}", seen
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
        for thread in threads:
            thread.join(10)


def test_signed_requests_never_follow_a_redirect_to_another_host(
    redirect: tuple[str, list[dict[str, str]]],
) -> None:
    """Defect 21: a followed redirect carried the signature and the session token. Every
    storage call is tried: none may reach the host the redirect names."""
    endpoint, seen = redirect
    session = Session(
        endpoint_url=endpoint,
        access_key_id="AKIDREDIRECTTEST",
        secret_access_key="redirect-test-secret",
        session_token="redirect-test-token",
        max_retries=0,
        env={},
    )
    storage = session.storage("bucket")

    async def streamed() -> list[bytes]:
        return [chunk async for chunk in storage.stream_async("key")]

    calls: list[Callable[[], object]] = [
        lambda: list(storage.list("")),
        lambda: asyncio.run(storage.put_async("key", b"data")),
        lambda: asyncio.run(storage.put_async("key", [b"da", b"ta"])),
        lambda: storage.get("key"),
        lambda: storage.get("key", start=1, end=3),
        lambda: list(storage.stream("key")),
        lambda: asyncio.run(streamed()),
        lambda: storage.head("key"),
        lambda: storage.exists("key"),
        lambda: storage.delete("key"),
        lambda: storage.copy("key", "other"),
        lambda: asyncio.run(storage.copy_async("key", "other", src_bucket="elsewhere")),
    ]
    for call in calls:
        with pytest.raises(EndpointError, match="does not follow redirects"):
            call()
    # The bulk delete reports key by key instead of raising.
    report = asyncio.run(storage.delete_many_async(["key", "folder/"]))
    assert report.deleted == []
    assert [f.key for f in report.failures] == ["key", "folder/"]
    assert all("does not follow redirects" in f.message for f in report.failures)
    from botocore.exceptions import BotoCoreError, ClientError

    # botocore re-sends a 307 to the configured endpoint (its S3 redirect handler) until its
    # recursion limit, but never to the Location's host.
    with pytest.raises((BotoCoreError, ClientError, RecursionError)):
        session.client("s3").put_object(Bucket="bucket", Key="key", Body=b"data")
    assert seen == []
