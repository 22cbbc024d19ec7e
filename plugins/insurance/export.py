"""Reports as XLSX workbooks and charts as server-rendered SVG."""

import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any
from urllib.parse import quote
from xml.sax.saxutils import escape

from markupsafe import Markup
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from core.security.csv import safe_cell
from plugins.insurance.money import yuan

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def attachment_headers(filename: str) -> dict[str, str]:
    """Download headers with an ASCII name and its UTF-8 form."""
    return {
        "content-disposition": f'attachment; filename="{filename}"; '
        f"filename*=UTF-8''{quote(filename)}"
    }


def cell_value(key: str, value: Any) -> Any:
    """A cell: money in yuan as a number, dates as dates, text never read as a formula."""
    if value is None:
        return None
    if key.endswith("_fen") and isinstance(value, int):
        return value / 100  # shown in yuan, kept in fen
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, date):
        return value
    return safe_cell(value)


def workbook(sheets: Sequence[tuple[str, list[str], Iterable[dict[str, Any]]]]) -> bytes:
    """One sheet per (title, columns, rows); headers bold, money columns in yuan."""
    book = Workbook(write_only=True)
    for title, columns, rows in sheets:
        sheet = book.create_sheet(title[:31])
        header = []
        for column in columns:
            cell = WriteOnlyCell(
                sheet,
                value=column.removesuffix("_fen") + (" (元)" if column.endswith("_fen") else ""),
            )
            cell.font = Font(bold=True)
            header.append(cell)
        sheet.append(header)
        for row in rows:
            sheet.append([cell_value(column, row.get(column)) for column in columns])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _svg(title: str, width: int, height: int) -> list[str]:
    return [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" '
        f'viewBox="0 0 {width} {height}" width="100%" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]


def _rect(x: int, y: int, width: int, height: int, fill: str) -> str:
    return f'<rect x="{x}" y="{y}" width="{width}" height="{height}" fill="{fill}"/>'


def _text(x: int, y: int, value: str, size: int = 12) -> str:
    return f'<text x="{x}" y="{y}" font-size="{size}">{escape(value)}</text>'


def bar_chart(
    items: Sequence[tuple[str, int]], *, title: str, money: bool = True, width: int = 360
) -> Markup:
    """A horizontal bar chart as inline SVG (no script), readable on a phone."""
    bar_height, gap, label_width = 22, 8, 120
    height = max(1, len(items)) * (bar_height + gap) + 30
    largest = max((value for _, value in items), default=0) or 1
    parts = _svg(title, width, height)
    for index, (label, value) in enumerate(items):
        y = 20 + index * (bar_height + gap)
        length = int((width - label_width - 70) * max(value, 0) / largest)
        shown = yuan(value) if money else f"{value:,}"
        parts += [
            _text(0, y + 15, str(label)[:20]),
            _rect(label_width, y, length, bar_height, "#c0392b"),
            _text(label_width + length + 4, y + 15, shown),
        ]
    parts.append("</svg>")
    return Markup("".join(parts))


def stacked_budget_chart(rows: Sequence[dict[str, Any]], *, title: str, width: int = 360) -> Markup:
    """Budget execution bars: spent, committed and remaining per row."""
    bar_height, gap, label_width = 22, 10, 120
    height = max(1, len(rows)) * (bar_height + gap) + 40
    parts = _svg(title, width, height)
    span = width - label_width - 10
    for index, row in enumerate(rows):
        y = 20 + index * (bar_height + gap)
        total = max(row["budget_fen"], row["spent_fen"] + row["committed_fen"], 1)
        spent = int(span * row["spent_fen"] / total)
        committed = int(span * row["committed_fen"] / total)
        parts += [
            _text(0, y + 15, f"{row['category']} · {row['source']}"[:22], 11),
            _rect(label_width, y, span, bar_height, "#eee"),
            _rect(label_width, y, spent, bar_height, "#c0392b"),
            _rect(label_width + spent, y, committed, bar_height, "#e6a19a"),
        ]
    parts.append("</svg>")
    return Markup("".join(parts))
