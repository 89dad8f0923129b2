"""Link URLs for device connections.

A reader or sensor bus is reached through one URL: ``serial:///dev/ttyUSB0`` for a local serial
port, ``socket://host:port`` for a serial server (RFC 2217-less raw TCP, as Moxa/USR converters
and our simulators offer), ``tcp://host:port`` for protocols that are TCP-native (Modbus TCP,
LLRP). A bare ``/dev/...`` path (a pty in tests) is accepted as a serial port.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator

LinkScheme = Literal["serial", "socket", "tcp"]


@dataclass(frozen=True, slots=True)
class Link:
    scheme: LinkScheme
    path: str = ""
    host: str = ""
    port: int = 0

    def __str__(self) -> str:
        if self.scheme == "serial":
            return f"serial://{self.path}"
        return f"{self.scheme}://{self.host}:{self.port}"


def parse_link(url: str, *, default_port: int | None = None) -> Link:
    """Parse a link URL; raise ValueError with a message fit for a config error."""
    if url.startswith("/"):
        return Link("serial", path=url)
    parts = urlsplit(url)
    scheme = parts.scheme
    if scheme == "serial":
        path = parts.path or parts.netloc
        if not path.startswith("/"):
            raise ValueError(f"serial link needs an absolute device path: {url!r}")
        return Link("serial", path=path)
    if scheme in ("socket", "tcp"):
        if not parts.hostname:
            raise ValueError(f"link needs a host: {url!r}")
        try:
            port = parts.port
        except ValueError:
            raise ValueError(f"link has a bad port: {url!r}") from None
        if port is None:
            if default_port is None:
                raise ValueError(f"link needs a port: {url!r}")
            port = default_port
        return Link("socket" if scheme == "socket" else "tcp", host=parts.hostname, port=port)
    raise ValueError(
        f"unsupported link scheme {scheme!r} in {url!r} (use serial://, socket://, tcp://)"
    )


def modbus_link(url: str) -> Link:
    """A Modbus device's link: port 502 (Modbus TCP's) when the URL names none."""
    return parse_link(url, default_port=502)


def _modbus_url(url: str) -> str:
    modbus_link(url)
    return url


ModbusUrl = Annotated[str, AfterValidator(_modbus_url)]
"""A configured Modbus link, checked when the configuration is read (``modbus_link``)."""
