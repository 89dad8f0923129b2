"""Labels read back as a person, a scanner and a printer would read them."""

from __future__ import annotations

from pathlib import Path

import pytest

from daemon.labels.content import Label, code128_value
from daemon.labels.pdf import PER_SHEET, label_pdf, sheet_pdf
from daemon.labels.zpl import ZplError, field_text, label_zpl, labels_zpl
from tests.labels.tools import (
    decode,
    giai96,
    need_tools,
    parse_zpl,
    pdf_pages,
    pdf_text,
    render,
)

EPC = giai96("0614141", 42)
DOTTED = Label(
    "0001-WS·2023-Y-RS-0042", "关于张三同志工资调整的批复 (salary approval)", "box", 2023, "Y", EPC
)
PLAIN = Label("A-2020-D10-7", "Labour arbitration ^XZ case ~files_", "file", 2020, "D10", None)


def test_independent_giai96_matches_the_tag_data_standard_example() -> None:
    # TDS 2.x example: urn:epc:tag:giai-96:3.0614141.5678 -> 3474257BF40000000000162E
    assert giai96("0614141", 5678, filter_value=3) == "3474257BF40000000000162E"


def test_code128_holds_an_ascii_reference_else_the_epc() -> None:
    assert code128_value("A-2020-D10-7", EPC) == "A-2020-D10-7"
    assert code128_value("0001-WS·2023-Y-RS-0042", EPC) == EPC
    assert code128_value("0001-WS·2023-Y-RS-0042", None) is None


def test_single_pdf_label_shows_the_words_and_both_codes(tmp_path: Path) -> None:
    need_tools()
    pdf = tmp_path / "label.pdf"
    pdf.write_bytes(label_pdf(DOTTED))
    text = pdf_text(pdf)
    for words in ("0001-WS·2023-Y-RS-0042", "关于张三同志工资调整的批复", "永久", "2023", EPC):
        assert words in text
    (png,) = render(pdf)
    assert decode(png, "code128", one=True) == [EPC]
    assert decode(png, "qrcode", one=True) == ["0001-WS·2023-Y-RS-0042"]


def test_label_of_an_untagged_item_with_an_ascii_reference(tmp_path: Path) -> None:
    need_tools()
    pdf = tmp_path / "plain.pdf"
    pdf.write_bytes(label_pdf(PLAIN))
    text = pdf_text(pdf)
    assert "A-2020-D10-7" in text
    assert "10年" in text
    assert "EPC" not in text
    (png,) = render(pdf)
    assert decode(png, "code128") == ["A-2020-D10-7"]
    assert decode(png, "qrcode", one=True) == ["A-2020-D10-7"]


def test_untagged_dotted_reference_prints_without_a_code128(tmp_path: Path) -> None:
    need_tools()
    pdf = tmp_path / "nocode.pdf"
    pdf.write_bytes(label_pdf(Label("0001-WS·2023-Y-RS-0001", "t", "box", None, "D30", None)))
    assert "tag the item first" in pdf_text(pdf)
    (png,) = render(pdf, dpi=200)
    assert decode(png, "code128") == []
    assert decode(png, "qrcode", one=True) == ["0001-WS·2023-Y-RS-0001"]


def test_a4_sheets_hold_eight_labels_each(tmp_path: Path) -> None:
    need_tools()
    labels = [
        Label(f"S-{n:03d}", f"第{n}卷 volume {n}", "box", 2001, "D30", giai96("0614141", n))
        for n in range(1, PER_SHEET + 3)
    ]
    pdf = tmp_path / "sheet.pdf"
    pdf.write_bytes(sheet_pdf(labels))
    pages = pdf_pages(pdf)
    assert len(pages) == 2
    assert [f"S-{n:03d}" in pages[0] for n in range(1, 11)] == [True] * 8 + [False] * 2
    assert "S-009" in pages[1]
    assert "S-010" in pages[1]
    first, second = render(pdf, dpi=200)
    assert sorted(decode(first, "code128")) == [f"S-{n:03d}" for n in range(1, 9)]
    assert sorted(decode(second, "qrcode")) == ["S-009", "S-010"]


def test_zpl_encodes_the_epc_while_the_label_prints() -> None:
    (fmt,) = parse_zpl(label_zpl(DOTTED))
    setup = dict(fmt.setup)
    assert setup["CI"] == "28"
    assert setup["RS"].split(",")[0] == "8"  # EPC Class 1 Gen 2
    rfw = fmt.field_with("RF")
    assert rfw.command("RF") == "W,H,,,A"
    assert rfw.data == EPC
    code = fmt.field_with("BC")
    assert code.data == EPC
    qr = fmt.field_with("BQ")
    assert qr.data == "MA,0001-WS·2023-Y-RS-0042"
    texts = fmt.texts()
    assert "0001-WS·2023-Y-RS-0042" in texts
    assert DOTTED.title in texts
    assert any("永久" in t for t in texts)
    assert f"EPC {EPC}" in texts


def test_zpl_field_data_cannot_break_out_of_its_field() -> None:
    label = Label(PLAIN.ref, PLAIN.title, "file", 2020, "D10", EPC)
    stream = label_zpl(label)
    assert "^XZ case" not in stream
    (fmt,) = parse_zpl(stream)
    assert PLAIN.title in fmt.texts()
    assert fmt.field_with("BC").data == "A-2020-D10-7"
    assert field_text("a\nb^c") == "a b_5Ec"


def test_zpl_stream_has_one_format_per_label() -> None:
    labels = [Label(f"Z-{n}", "t", "box", 2000, "Y", giai96("0614141", n)) for n in (1, 2, 3)]
    formats = parse_zpl(labels_zpl(labels))
    assert [f.field_with("RF").data for f in formats] == [giai96("0614141", n) for n in (1, 2, 3)]


@pytest.mark.parametrize("epc", [None, "E2801160600002054CC2", "ZZ" * 12])
def test_zpl_needs_a_96_bit_epc(epc: str | None) -> None:
    with pytest.raises(ZplError, match="96-bit EPC"):
        label_zpl(Label("X-1", "t", "box", 2000, "Y", epc))


def test_a_long_title_is_cut_to_three_lines(tmp_path: Path) -> None:
    need_tools()
    title = "关于" + "人事档案工资调整" * 200 + " END"
    pdf = tmp_path / "long.pdf"
    pdf.write_bytes(label_pdf(Label("L-1", title, "file", 2020, "D10", EPC)))
    text = pdf_text(pdf)
    assert "…" in text
    assert "END" not in text
    assert "L-1" in text
    assert "10年" in text
