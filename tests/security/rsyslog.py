"""A private rsyslog (Debian's ``rsyslogd`` with its GnuTLS driver) that takes syslog over TLS.

It stands for the central log server of docs/operator-guide.md: ``imtcp`` with the ``gtls``
stream driver on a free port of 127.0.0.1, writing each message it receives to a file in
RFC 5424 form. ``stop()`` and ``start()`` simulate an outage; the file is kept across them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.security.certs import Certificates
from tests.services import ServerProcess, free_port


def rsyslogd_binary() -> str:
    found = shutil.which("rsyslogd") or (
        "/usr/sbin/rsyslogd" if Path("/usr/sbin/rsyslogd").exists() else None
    )
    if found is None or not list(Path("/usr/lib").glob("*/rsyslog/lmnsd_gtls.so")):
        raise RuntimeError(
            "rsyslog with TLS is not installed: .ci/ensure-services installs it, or:"
            " apt-get install rsyslog rsyslog-gnutls"
        )
    return found


class Rsyslog(ServerProcess):
    stop_timeout_s = 15.0

    def __init__(self, workdir: Path, certificates: Certificates) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.received = workdir / "received.log"
        self.errors = workdir / "rsyslogd.err"
        spool = workdir / "spool"
        spool.mkdir(parents=True, exist_ok=True)
        self.conf = workdir / "rsyslog.conf"
        self.conf.write_text(
            f'global(workDirectory="{spool}"\n'
            '       defaultNetstreamDriver="gtls"\n'
            f'       defaultNetstreamDriverCAFile="{certificates.ca}"\n'
            f'       defaultNetstreamDriverCertFile="{certificates.cert}"\n'
            f'       defaultNetstreamDriverKeyFile="{certificates.key}")\n'
            'module(load="imtcp" streamDriver.name="gtls" streamDriver.mode="1"'
            ' streamDriver.authMode="anon")\n'
            f'input(type="imtcp" port="{self.port}" address="127.0.0.1")\n'
            f'action(type="omfile" file="{self.received}"'
            ' template="RSYSLOG_SyslogProtocol23Format")\n'
        )

    @property
    def url(self) -> str:
        return f"tls://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        pid_file = self.workdir / "rsyslogd.pid"
        return [rsyslogd_binary(), "-n", "-f", str(self.conf), "-i", str(pid_file)]

    def lines(self) -> list[str]:
        try:
            return self.received.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
