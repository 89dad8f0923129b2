"""Reading labels back the way a person or a printer would: poppler renders and extracts the
PDF, zbar (``zbarimg``) decodes its barcodes, and a small ZPL reader splits a format into its
commands and fields. The expected EPC is encoded here independently of the daemon, bit by bit
from the GS1 Tag Data Standard's GIAI-96 layout."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

TOOLS = ("pdftotext", "pdftoppm", "zbarimg")


def need_tools() -> None:
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        pytest.fail(f"{missing} missing: run .ci/ensure-services (poppler-utils, zbar-tools)")


def pdf_text(pdf: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout


def pdf_pages(pdf: Path) -> list[str]:
    """The text of each page (pdftotext ends each page with a form feed)."""
    return pdf_text(pdf).split("\f")[:-1]


def render(pdf: Path, dpi: int = 300) -> list[Path]:
    stem = pdf.with_suffix("")
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), str(pdf), str(stem)], check=True)
    return sorted(pdf.parent.glob(f"{stem.name}-*.png"))


def decode(png: Path, symbology: str, *, one: bool = False) -> list[str]:
    """Every ``symbology`` (``code128``, ``qrcode``) symbol zbar finds in ``png``.

    zbar guesses a QR code's character set (and takes UTF-8 ``·`` for Shift JIS); with
    ``one``, the image must hold a single such symbol, read as raw bytes decoded as UTF-8
    (raw output has no separator between symbols, hence one).
    """
    command = ["zbarimg", "-q", "--raw", "-Sdisable", f"-S{symbology}.enable"]
    run = subprocess.run(
        [*command, *(["-Sbinary"] if one else []), str(png)], capture_output=True, check=False
    )
    if run.returncode not in (0, 4):  # 4: no symbol found
        raise RuntimeError(run.stderr.decode(errors="replace"))
    if one:
        return [run.stdout.decode()] if run.stdout else []
    return [line for line in run.stdout.decode().split("\n") if line]


def giai96(company_prefix: str, asset: int, filter_value: int = 0) -> str:
    """GIAI-96 (TDS §14.5.6): header 0x34, filter (3 bits), partition (3), company prefix and
    asset reference in the partition's bit widths (here for 6-12 digit prefixes)."""
    partition = 12 - len(company_prefix)
    prefix_bits = {0: 40, 1: 37, 2: 34, 3: 30, 4: 27, 5: 24, 6: 20}[partition]
    value = 0x34
    for bits, part in ((3, filter_value), (3, partition), (prefix_bits, int(company_prefix))):
        value = value << bits | part
    value = value << (82 - prefix_bits) | asset
    return f"{value:024X}"


@dataclass
class ZplField:
    commands: list[tuple[str, str]] = field(default_factory=list)
    data: str | None = None

    def command(self, name: str) -> str | None:
        return next((args for n, args in self.commands if n == name), None)


@dataclass
class ZplFormat:
    setup: list[tuple[str, str]]
    fields: list[ZplField]

    def texts(self) -> list[str]:
        return [f.data for f in self.fields if f.data is not None and f.command("FO")]

    def field_with(self, name: str) -> ZplField:
        found = [f for f in self.fields if f.command(name) is not None]
        assert len(found) == 1, (name, found)
        return found[0]


def _unescape(data: str, indicator: str) -> str:
    """^FH data: ``<indicator>XX`` is the byte 0xXX of the (UTF-8, ^CI28) field data."""
    pattern = re.escape(indicator.encode()) + rb"([0-9A-Fa-f]{2})"
    raw = re.sub(pattern, lambda m: bytes([int(m.group(1), 16)]), data.encode())
    return raw.decode("utf-8")


def parse_zpl(stream: str) -> list[ZplFormat]:
    """Split a ZPL stream into formats (^XA..^XZ), each into set-up commands and fields
    (commands up to ^FS); ^FD data is hex-unescaped when the field has ^FH."""
    formats = []
    for body in re.findall(r"\^XA(.*?)\^XZ", stream, flags=re.S):
        setup: list[tuple[str, str]] = []
        fields: list[ZplField] = []
        current = ZplField()
        for part in body.split("^")[1:]:
            chunk = part.rstrip("\n")
            name = chunk[:2]
            if name.startswith("A") and name not in ("A@",):
                name = "A"
            args = chunk[len(name) :] if name != "A" else chunk[1:]
            if name == "FD":
                indicator = current.command("FH")
                current.data = _unescape(args, indicator or "_") if indicator is not None else args
            elif name == "FS":
                fields.append(current)
                current = ZplField()
            elif name in ("FO", "FH", "FB", "BY", "BC", "BQ", "RF", "A", "A@"):
                current.commands.append((name, args))
            else:
                setup.append((name, args))
        formats.append(ZplFormat(setup, fields))
    return formats
