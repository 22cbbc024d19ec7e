"""Drawing a volunteer certificate as a one-page PDF with an embedded Chinese font.

The font is Noto Serif SC (SIL Open Font License), shipped by the ``pylopdf-fonts-zh-cn``
package; fpdf2 embeds the subset of glyphs a certificate uses (CID-keyed CFF, with a
ToUnicode map so the text can be searched and copied), so the PDF shows the same on any viewer,
none of which needs a Chinese font of its own. The QR code is drawn as vector squares.
"""

from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path

import segno
from fpdf import FPDF

RED = (178, 34, 34)
GOLD = (191, 144, 0)
INK = (34, 34, 34)
MUTED = (110, 110, 110)
#: System fonts tried when the font package is missing (Debian ``fonts-noto-cjk``).
FALLBACK_FONTS = (
    Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
)


class FontMissing(RuntimeError):
    """No Chinese font could be found to embed."""


@cache
def font_file() -> Path:
    """The OpenType font embedded in certificates (Noto Serif SC)."""
    try:
        import pylopdf_fonts_zh_cn
    except ImportError:  # pragma: no cover - the package is a dependency
        pass
    else:
        path = pylopdf_fonts_zh_cn.serif_path()
        if path.is_file():
            return path
    for path in FALLBACK_FONTS:  # pragma: no cover - only without the package
        if path.is_file():
            return path
    raise FontMissing("install pylopdf-fonts-zh-cn (Noto Serif SC) to render certificates")


@dataclass(frozen=True)
class CertificateContent:
    """Everything printed on a certificate."""

    number: str
    name: str
    volunteer_number: str
    units: tuple[str, ...]  # district down to the volunteer's own unit
    team: str  # the team the volunteer is in, e.g. 民族路社区平安志愿者分队
    issuer: str  # the issuing 总队, e.g. 重庆市平安建设志愿者总队
    issued_on: date
    verify_url: str
    verify_code: str  # the token, grouped for typing (ABCD-EFGH-…)


def chinese_date(day: date) -> str:
    """``2026年3月1日``."""
    return f"{day.year}年{day.month}月{day.day}日"


def body_text(content: CertificateContent) -> str:
    """The sentence of the certificate, naming the volunteer's team within its district."""
    units = list(content.units)
    if units and content.team.startswith(units[-1]):
        units.pop()  # "民族路社区" + "民族路社区平安建设志愿者分队": name the unit once
    return (
        f"经审核，您已正式注册为平安建设志愿者，编入{''.join(units)}{content.team}。"
        "感谢您为平安建设作出的贡献，特发此证。"
    )


def render_pdf(content: CertificateContent) -> bytes:
    """The certificate as PDF bytes (A4 landscape); the same content gives the same bytes."""
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_creation_date(datetime(content.issued_on.year, content.issued_on.month, 1))
    pdf.set_title(f"平安建设志愿者证书 {content.number}")
    pdf.set_author(content.issuer)
    pdf.set_subject(f"Certificate of Public-Safety Volunteer No. {content.number}")
    pdf.set_creator("Pingan")
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.add_font("cert", fname=str(font_file()))
    pdf.add_page()
    width, height = pdf.w, pdf.h

    # Frame: a broad red line and a thin gold one inside it.
    pdf.set_draw_color(*RED)
    pdf.set_line_width(2.2)
    pdf.rect(10, 10, width - 20, height - 20)
    pdf.set_draw_color(*GOLD)
    pdf.set_line_width(0.6)
    pdf.rect(15, 15, width - 30, height - 30)

    # Title.
    pdf.set_text_color(*RED)
    pdf.set_font("cert", size=34)
    pdf.set_xy(0, 30)
    pdf.cell(width, 16, "平安建设志愿者证书", align="C")
    pdf.set_font("cert", size=11)
    pdf.set_text_color(*MUTED)
    pdf.set_xy(0, 47)
    pdf.cell(width, 6, "CERTIFICATE OF PUBLIC-SAFETY VOLUNTEER", align="C")

    # Body.
    pdf.set_text_color(*INK)
    pdf.set_font("cert", size=20)
    pdf.set_xy(40, 66)
    pdf.cell(width - 80, 12, f"{content.name}  同志：")
    pdf.set_font("cert", size=16)
    pdf.set_xy(50, 84)
    pdf.multi_cell(width - 100, 11, body_text(content), align="L")

    # Facts, bottom left.
    pdf.set_font("cert", size=12)
    facts = (
        ("证书编号", content.number),
        ("志愿者编号", content.volunteer_number),
        ("发证日期", chinese_date(content.issued_on)),
    )
    y = 140
    for label, value in facts:
        pdf.set_xy(40, y)
        pdf.set_text_color(*MUTED)
        pdf.cell(28, 8, label)
        pdf.set_text_color(*INK)
        pdf.cell(80, 8, value)
        y += 9

    # Issuer and date, bottom right.
    pdf.set_font("cert", size=16)
    pdf.set_text_color(*INK)
    pdf.set_xy(width - 150, 146)
    pdf.cell(100, 10, content.issuer, align="C")
    pdf.set_font("cert", size=13)
    pdf.set_xy(width - 150, 157)
    pdf.cell(100, 8, chinese_date(content.issued_on), align="C")
    pdf.set_draw_color(*GOLD)
    pdf.set_line_width(0.4)
    pdf.line(width - 140, 145, width - 60, 145)

    # QR code to the public verification page, with the code to type by hand.
    size = 32
    x, y = width - 58, 20
    draw_qr(pdf, content.verify_url, x, y, size)
    pdf.set_font("cert", size=8)
    pdf.set_text_color(*MUTED)
    pdf.set_xy(x - 10, y + size + 1)
    pdf.cell(size + 20, 4, "扫码核验 Scan to verify", align="C")
    pdf.set_font("cert", size=9)
    pdf.set_text_color(*INK)
    pdf.set_xy(x - 10, y + size + 5.5)
    pdf.cell(size + 20, 4, content.verify_code, align="C")
    return bytes(pdf.output())


def draw_qr(pdf: FPDF, data: str, x: float, y: float, size: float) -> None:
    """Draw ``data`` as a QR code (error correction M) in a ``size`` mm square at ``x, y``."""
    code = segno.make_qr(data, error="m", boost_error=False)
    matrix = code.matrix
    border = 2
    modules = len(matrix) + 2 * border
    unit = size / modules
    pdf.set_fill_color(255, 255, 255)
    pdf.rect(x, y, size, size, style="F")
    pdf.set_fill_color(0, 0, 0)
    for row_index, row in enumerate(matrix):
        column = 0
        while column < len(row):
            if row[column]:
                start = column
                while column < len(row) and row[column]:
                    column += 1
                pdf.rect(
                    x + (border + start) * unit,
                    y + (border + row_index) * unit,
                    (column - start) * unit,
                    unit,
                    style="F",
                )
            else:
                column += 1
