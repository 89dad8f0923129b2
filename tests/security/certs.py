"""Certificates made at test time with the ``openssl`` command, and a broker that uses them.

Each set is a private certificate authority and a server certificate it signed for 127.0.0.1
and localhost: the set-up docs/security.md describes for a room's API and broker. A second,
unrelated set stands for a broker (or a man in the middle) the daemon must not trust.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.services import Mosquitto

SERVER_EXTENSIONS = (
    "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
    "basicConstraints=critical,CA:FALSE\n"
    "keyUsage=critical,digitalSignature\n"
    "extendedKeyUsage=serverAuth\n"
    "subjectKeyIdentifier=hash\n"
    "authorityKeyIdentifier=keyid\n"
)
EC = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"


@dataclass(frozen=True)
class Certificates:
    ca: Path
    cert: Path
    key: Path


def _openssl(command: str, *quoted: str) -> None:
    """``command`` is split on spaces (the test's paths have none); ``quoted`` args are not."""
    subprocess.run(
        ["openssl", *command.split(), *quoted], check=True, capture_output=True, timeout=60
    )


def make_certificates(directory: Path, name: str = "archroom test") -> Certificates:
    directory.mkdir(parents=True, exist_ok=True)
    ca, ca_key = directory / "ca.crt", directory / "ca.key"
    cert, key, csr = directory / "server.crt", directory / "server.key", directory / "server.csr"
    extensions = directory / "server.ext"
    extensions.write_text(SERVER_EXTENSIONS)
    _openssl(
        f"req -x509 {EC} -days 2 -keyout {ca_key} -out {ca}"
        " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign",
        "-subj",
        f"/CN={name} CA",
    )
    _openssl(f"req -new {EC} -keyout {key} -out {csr} -subj /CN=127.0.0.1")
    _openssl(
        f"x509 -req -in {csr} -CA {ca} -CAkey {ca_key} -CAcreateserial -out {cert} -days 2"
        f" -extfile {extensions}"
    )
    return Certificates(ca=ca, cert=cert, key=key)


class TlsMosquitto(Mosquitto):
    """The private test broker with a TLS listener only (``mqtts://``)."""

    def __init__(self, workdir: Path, certificates: Certificates) -> None:
        super().__init__(workdir)
        listener = f"listener {self.port} 127.0.0.1\n"
        tls = (
            f"cafile {certificates.ca}\ncertfile {certificates.cert}\nkeyfile {certificates.key}\n"
            # Started as root, mosquitto becomes user "mosquitto" before it reads the key,
            # which lives in the test's private temporary directory.
            "user root\n"
        )
        self.conf.write_text(self.conf.read_text().replace(listener, listener + tls))

    @property
    def url(self) -> str:
        return f"mqtts://127.0.0.1:{self.port}"
