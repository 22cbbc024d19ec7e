"""Reading uploaded spreadsheets row by row: CSV (UTF-8 or GB18030) and XLSX.

Rows are streamed: the CSV module reads the bytes through a text wrapper, openpyxl reads the
sheet in ``read_only`` mode; no list of all rows is ever built. Old binary ``.xls`` files are
refused with a request to save them as ``.xlsx`` or CSV.
"""

import codecs
import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from core.i18n import text

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MEDIA_TYPE = "text/csv"
_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0"  # the old binary Excel format

Row = list[str | None]


class SheetError(ValueError):
    """The file cannot be read as a spreadsheet; the message says why, for the uploader."""


@dataclass
class Sheet:
    """An open spreadsheet: its header and a way to walk its data rows."""

    format: str  # "csv" or "xlsx"
    headers: list[str]
    _source: Any

    def rows(self, start: int = 0) -> Iterator[tuple[int, Row]]:
        """``(spreadsheet row number, cells)`` of every data row from the ``start``-th on.

        Row numbers count as the spreadsheet does: the header is row 1, the first data row 2.
        Cells are text (numbers written without a trailing ``.0``), empty cells ``None``.
        """
        for index, raw in enumerate(self._source(), start=0):
            if index < start:
                continue
            yield index + 2, [cell_text(value) for value in raw]

    def count(self) -> int:
        """How many data rows the sheet has (a pass over it, still streamed)."""
        return sum(1 for _ in self._source())


def cell_text(value: Any) -> str | None:
    """A cell as text: numbers without ``.0``, dates as ISO, blanks as ``None``."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime):
        return (
            value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
        )
    if isinstance(value, date):
        return value.isoformat()
    value = str(value).strip()
    return value or None


def sniff_format(name: str, content: bytes) -> str:
    """``xlsx`` or ``csv``, from the bytes first and the file name second."""
    if content.startswith(_ZIP):
        return "xlsx"
    if content.startswith(_OLE) or name.lower().endswith(".xls"):
        raise SheetError(
            text(
                "不支持旧版 .xls 文件，请另存为 .xlsx 或 CSV 后上传",
                "Old .xls files are not supported; save as .xlsx or CSV and upload again",
            )
        )
    if name.lower().endswith(".xlsx"):
        raise SheetError(text("文件不是有效的 .xlsx", "The file is not a valid .xlsx workbook"))
    return "csv"


def _encoding(content: bytes) -> str:
    """UTF-8 (with or without BOM) if the start decodes as UTF-8, else GB18030 (Excel's CSV)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(content[:65536], final=len(content) <= 65536)
        return "utf-8-sig"
    except UnicodeDecodeError:
        return "gb18030"


def normalise_header(value: str | None) -> str:
    """A header cell compared loosely: no spaces or required-markers, lower case."""
    if value is None:
        return ""
    cleaned = value.replace("*", "").replace("＊", "").replace(" ", "").replace("\u3000", "")
    return cleaned.strip().lower()


@contextmanager
def open_sheet(name: str, content: bytes) -> Iterator[Sheet]:
    """Open ``content`` (named ``name``) as a sheet of rows.

    Raises:
        SheetError: not a readable CSV or XLSX file, or no header row.
    """
    kind = sniff_format(name, content)
    if kind == "xlsx":
        with _open_xlsx(content) as sheet:
            yield sheet
        return
    encoding = _encoding(content)

    def source() -> Iterator[list[str]]:
        stream = io.TextIOWrapper(io.BytesIO(content), encoding=encoding, newline="")
        try:
            reader = csv.reader(stream)
            next(reader, None)
            yield from reader
        except (UnicodeDecodeError, csv.Error) as error:
            raise SheetError(
                text("CSV 文件无法读取：", "The CSV file cannot be read: ") + str(error)
            ) from error
        finally:
            stream.detach()

    stream = io.TextIOWrapper(io.BytesIO(content), encoding=encoding, newline="")
    try:
        header = next(csv.reader(stream), None)
    except (UnicodeDecodeError, csv.Error) as error:
        raise SheetError(
            text("CSV 文件无法读取：", "The CSV file cannot be read: ") + str(error)
        ) from error
    finally:
        stream.detach()
    if not header or not any(cell.strip() for cell in header):
        raise SheetError(text("文件没有表头行", "The file has no header row"))
    yield Sheet("csv", [cell_text(cell) or "" for cell in header], source)


@contextmanager
def _open_xlsx(content: bytes) -> Iterator[Sheet]:
    import zipfile

    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise SheetError(
            text("文件不是有效的 .xlsx", "The file is not a valid .xlsx workbook")
        ) from error
    try:
        if not workbook.worksheets:
            raise SheetError(text("工作簿没有工作表", "The workbook has no sheet"))
        worksheet = workbook.worksheets[0]
        first = next(worksheet.iter_rows(max_row=1, values_only=True), None)
        if not first or not any(cell is not None and str(cell).strip() for cell in first):
            raise SheetError(text("文件没有表头行", "The file has no header row"))
        width = len(first)

        def source() -> Iterator[tuple[Any, ...]]:
            for values in worksheet.iter_rows(min_row=2, values_only=True):
                yield values[:width] if len(values) > width else values

        yield Sheet("xlsx", [cell_text(cell) or "" for cell in first], source)
    finally:
        workbook.close()


def write_workbook(headers: list[str], rows: Iterator[list[Any]]) -> bytes:
    """An XLSX workbook of one sheet, written in streaming mode (``write_only``)."""
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(headers)
    for row in rows:
        sheet.append([_safe_cell(value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _safe_cell(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula is written as plain text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@") and not _is_number(value):
        return "'" + value
    return value


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True
