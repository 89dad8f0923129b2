import pytest

from drivers.links import Link, parse_link


def test_serial_url_and_bare_device_path_are_serial_links() -> None:
    assert parse_link("serial:///dev/ttyUSB0") == Link("serial", path="/dev/ttyUSB0")
    assert parse_link("/dev/pts/3") == Link("serial", path="/dev/pts/3")


def test_socket_link_takes_default_port_only_when_given() -> None:
    assert parse_link("tcp://plc.local", default_port=502) == Link(
        "tcp", host="plc.local", port=502
    )
    with pytest.raises(ValueError, match="needs a port"):
        parse_link("socket://moxa.local")


@pytest.mark.parametrize(
    "url", ["http://x:1", "socket://:80", "serial://relative", "tcp://h:99999"]
)
def test_bad_links_are_refused_with_a_reason(url: str) -> None:
    with pytest.raises(ValueError, match="link"):
        parse_link(url)
