"""Reports as XLSX workbooks and charts as server-rendered SVG."""

import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any
from xml.sax.saxutils import escape

from markupsafe import Markup
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from core.security.csv import safe_cell
from plugins.insurance.money import yuan

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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


def bar_chart(
    items: Sequence[tuple[str, int]], *, title: str, money: bool = True, width: int = 360
) -> Markup:
    """A horizontal bar chart as inline SVG (no script), readable on a phone."""
    bar_height, gap, label_width = 22, 8, 120
    height = max(1, len(items)) * (bar_height + gap) + 30
    largest = max((value for _, value in items), default=0) or 1
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
        f'width="100%" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for index, (label, value) in enumerate(items):
        y = 20 + index * (bar_height + gap)
        length = int((width - label_width - 70) * max(value, 0) / largest)
        shown = yuan(value) if money else f"{value:,}"
        parts.append(
            f'<text x="0" y="{y + 15}" font-size="12">{escape(str(label))[:20]}</text>'
            f'<rect x="{label_width}" y="{y}" width="{length}" height="{bar_height}" fill="#c0392b"/>'
            f'<text x="{label_width + length + 4}" y="{y + 15}" font-size="12">{escape(shown)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def stacked_budget_chart(rows: Sequence[dict[str, Any]], *, title: str, width: int = 360) -> Markup:
    """Budget execution bars: spent, committed and remaining per row."""
    bar_height, gap, label_width = 22, 10, 120
    height = max(1, len(rows)) * (bar_height + gap) + 40
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
        f'width="100%" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    span = width - label_width - 10
    for index, row in enumerate(rows):
        y = 20 + index * (bar_height + gap)
        total = max(row["budget_fen"], row["spent_fen"] + row["committed_fen"], 1)
        spent = int(span * row["spent_fen"] / total)
        committed = int(span * row["committed_fen"] / total)
        label = f"{row['category']} · {row['source']}"
        parts.append(
            f'<text x="0" y="{y + 15}" font-size="11">{escape(label)[:22]}</text>'
            f'<rect x="{label_width}" y="{y}" width="{span}" height="{bar_height}" fill="#eee"/>'
            f'<rect x="{label_width}" y="{y}" width="{spent}" height="{bar_height}" fill="#c0392b"/>'
            f'<rect x="{label_width + spent}" y="{y}" width="{committed}" height="{bar_height}" fill="#e6a19a"/>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
