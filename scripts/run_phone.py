"""`make run-phone`: the demo over https on the local network, to sign from a real phone.

Signing runs WebCrypto in the browser, which only works in a secure context: plain http on
a LAN address cannot sign. This makes a self-signed certificate for the machine's LAN
address (var/phone-tls/, remade when the address changes), points COUNTERSIGN_BASE_URL at
it (so the demo's code links open on the phone), seeds the demo, prints the address and a
QR code of it, and serves Django over TLS with a small threaded WSGI server, beside a
Celery worker and beat as in `make run` (scripts/run_demo.py starts and stops the three).

The phone shows a certificate warning once ("not private" / "not secure"): the certificate
is made here, not by a public authority. Accept it for this address only. A demo only:
anyone on the same network can open it, and production runs behind a real TLS proxy
(docs/operations.md).
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import socket
import ssl
import sys
from pathlib import Path
from socketserver import ThreadingMixIn

ROOT = Path(__file__).resolve().parent.parent
TLS_DIR = Path(os.environ.get("PHONE_TLS_DIR", ROOT / "var" / "phone-tls"))
PORT = int(os.environ.get("PHONE_PORT", "8443"))


def lan_address() -> str:
    """The address other devices on the network reach this machine at.

    Connecting a UDP socket sends nothing; it only asks the kernel which local address
    would be used for the route out. PHONE_HOST overrides the guess.
    """
    if os.environ.get("PHONE_HOST"):
        return os.environ["PHONE_HOST"]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: never routed anywhere for real
            return probe.getsockname()[0]
        except OSError:
            return "127.0.0.1"


def make_certificate(host: str) -> tuple[Path, Path]:
    """A self-signed certificate for `host` (and localhost), valid 30 days."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    TLS_DIR.mkdir(parents=True, exist_ok=True)
    cert_path, key_path, host_path = (
        TLS_DIR / "cert.pem",
        TLS_DIR / "key.pem",
        TLS_DIR / "host.txt",
    )
    if cert_path.exists() and host_path.exists() and host_path.read_text() == host:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        if cert.not_valid_after_utc > datetime.datetime.now(datetime.UTC) + datetime.timedelta(
            days=1
        ):
            return cert_path, key_path

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"Countersign demo {host}")])
    try:
        subject_names = [x509.IPAddress(ipaddress.ip_address(host))]
    except ValueError:
        subject_names = [x509.DNSName(host)]
    subject_names += [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName(subject_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    host_path.write_text(host)
    return cert_path, key_path


def qr_text(url: str) -> str:
    import io

    import qrcode

    qr = qrcode.QRCode(border=2)
    qr.add_data(url)
    out = io.StringIO()
    # invert=True: dark modules print as spaces, which scans on a dark terminal.
    qr.print_ascii(out=out, invert=True)
    return out.getvalue()


def serve(host: str, url: str) -> None:
    from django.core.servers.basehttp import WSGIRequestHandler, WSGIServer
    from django.core.wsgi import get_wsgi_application

    cert_path, key_path = make_certificate(host)

    class HttpsHandler(WSGIRequestHandler):
        def get_environ(self):
            environ = super().get_environ()
            environ["HTTPS"] = "on"  # wsgiref then sets wsgi.url_scheme to https
            return environ

    class Server(ThreadingMixIn, WSGIServer):
        daemon_threads = True

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert_path, key_path)
    httpd = Server(("0.0.0.0", PORT), HttpsHandler)  # noqa: S104  # nosec B104
    # The handshake happens in each request's thread, so one slow phone blocks nobody.
    httpd.socket = context.wrap_socket(
        httpd.socket, server_side=True, do_handshake_on_connect=False
    )
    httpd.set_app(get_wsgi_application())
    print(f"\nServing {url}  (staff: {url}staff/)  Ctrl-C stops.")
    print(qr_text(url))
    print(
        "Scan it with the phone's camera. The phone warns that the connection is not "
        "private:\nthe certificate was made on this machine. Accept it for this address to "
        "continue.\n"
    )
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()


def configure(host: str) -> str:
    """The environment the demo runs with; returns its address. Never the public
    development key: this serves the LAN, where anyone could forge an invitation link
    signed with it; the demo's own secrets live in var/ (config/demo_secrets.py)."""
    sys.path.insert(0, str(ROOT))
    from config.demo_secrets import use_demo_secrets

    url_host = f"[{host}]" if ":" in host else host
    url = f"https://{url_host}:{PORT}/"
    os.environ["COUNTERSIGN_BASE_URL"] = url.rstrip("/")
    os.environ["DJANGO_DEBUG"] = "1"
    hosts = {host, "127.0.0.1", "localhost"}
    os.environ["DJANGO_ALLOWED_HOSTS"] = ",".join(sorted(hosts))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    for note in use_demo_secrets(os.environ):
        print(note)
    return url


def serve_only(host: str) -> None:
    """The web process of the demo (run_demo.py's launcher starts it beside the worker and
    beat): the migrated, seeded demo over https."""
    sys.path.insert(0, str(ROOT))
    import django
    from django.conf import settings

    from config.demo_secrets import DEVELOPMENT_SECRET_KEY

    django.setup()
    if settings.SECRET_KEY == DEVELOPMENT_SECRET_KEY:
        sys.exit("Refusing to serve the network with the public development DJANGO_SECRET_KEY.")
    serve(host, os.environ["COUNTERSIGN_BASE_URL"] + "/")


def main() -> None:
    if sys.argv[1:2] == ["--serve"]:
        serve_only(sys.argv[2])
        return
    host = lan_address()
    url = configure(host)
    # The same three processes as `make run` (scripts/run_demo.py), with this https server
    # as the web process: print runs, mails and milestones behave as in production.
    from run_demo import demo_environment, run

    env = demo_environment(dict(os.environ), port=PORT)
    web = [sys.executable, str(Path(__file__).resolve()), "--serve", host]
    sys.exit(run(env, web, banner=f"Starting the demo at {url} …"))


if __name__ == "__main__":
    main()
