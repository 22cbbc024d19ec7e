"""Statistics as a workbook (XLSX) and as charts (SVG drawn on the server).

Rows are labelled in the reader's language; cells are numbers or plain text, never formulas
(text a spreadsheet would run is prefixed with ``'``).
"""

import io
from html import escape

from markupsafe import Markup

from core.contributions import Label
from core.security.csv import safe_cell
from plugins.mediation.settings import Config
from plugins.mediation.statistics import Figures, Period
from plugins.mediation.vocab import SOURCE_LABELS

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

#: The figures of a report, in order, with their names.
ROWS: list[tuple[str, Label]] = [
    ("registered", Label("登记纠纷", "Registered")),
    ("accepted", Label("受理", "Accepted")),
    ("not_accepted", Label("不予受理", "Not accepted")),
    ("agreement_written", Label("达成书面协议", "Written agreements")),
    ("agreement_oral", Label("达成口头协议", "Oral agreements")),
    ("failed", Label("调解不成", "Failed")),
    ("refused", Label("拒绝调解", "Refused")),
    ("success_rate", Label("调解成功率", "Success rate")),
    ("average_days", Label("平均用时（天）", "Average days")),
    ("median_days", Label("用时中位数（天）", "Median days")),
    ("overdue_ended", Label("超期办结", "Ended after the limit")),
    ("overdue_open", Label("目前超期未结", "Overdue now")),
    ("extensions", Label("延期", "Extensions")),
    ("terms_due", Label("到期协议条款", "Terms due")),
    ("terms_performed", Label("已履行条款", "Terms performed")),
    ("performance_rate", Label("协议履行率", "Performance rate")),
    ("follow_ups", Label("回访", "Follow-ups")),
    ("confirmations_applied", Label("申请司法确认", "Confirmations applied")),
    ("confirmations_valid", Label("司法确认有效", "Confirmed valid")),
    ("escalations", Label("激化风险报告", "Escalation reports")),
    ("leads", Label("排查线索", "Screening leads")),
    ("zero_report_units", Label("零上报单位", "Units with zero reports")),
]


def shown(key: str, value) -> str | int | float:
    """A figure as printed: rates as percentages, absent values as a dash."""
    if value is None:
        return "—"
    if key.endswith("_rate"):
        return f"{value * 100:.1f}%"
    return value


def workbook(
    title: str,
    period: Period,
    total: Figures,
    committees: list[tuple[str, Figures]],
    config: Config,
    locale: str,
) -> bytes:
    """The report as XLSX: the totals, the committees side by side, and the breakdowns."""
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    summary = book.create_sheet(Label("汇总", "Summary")(locale))
    summary.append([safe_cell(title), period.name])
    summary.append([Label("指标", "Figure")(locale), Label("数值", "Value")(locale)])
    for key, label in ROWS:
        summary.append([label(locale), shown(key, getattr(total, key))])
    per_committee = book.create_sheet(Label("各调委会", "Committees")(locale))
    per_committee.append(
        [Label("调委会", "Committee")(locale), *(label(locale) for _, label in ROWS[:20])]
    )
    for name, figures in committees:
        per_committee.append(
            [safe_cell(name), *(shown(key, getattr(figures, key)) for key, _ in ROWS[:20])]
        )
    breakdown = book.create_sheet(Label("类别与来源", "Categories and sources")(locale))
    breakdown.append([Label("纠纷类别", "Category")(locale), Label("件数", "Count")(locale)])
    for code, count in sorted((total.by_category or {}).items()):
        breakdown.append([safe_cell(config.category_label(code)(locale)), count])
    breakdown.append([])
    breakdown.append([Label("案件来源", "Source")(locale), Label("件数", "Count")(locale)])
    for code, count in sorted((total.by_source or {}).items()):
        label = SOURCE_LABELS.get(code)
        breakdown.append([label(locale) if label else safe_cell(code), count])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def bar_chart(title: str, bars: list[tuple[str, int | float]], width: int = 360) -> Markup:
    """A horizontal bar chart as inline SVG; labels are escaped, sizes relative to the max."""
    row, left, top = 22, 120, 26
    height = top + row * max(len(bars), 1) + 8
    peak = max((value for _, value in bars), default=0) or 1
    span = width - left - 40
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="{escape(title)}" class="chart">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="16" font-size="13" font-weight="bold">{escape(title)}</text>',
    ]
    for index, (label, value) in enumerate(bars):
        y = top + index * row
        length = round(span * value / peak)
        parts.append(
            f'<text x="{left - 6}" y="{y + 14}" font-size="12" text-anchor="end">'
            f"{escape(label)}</text>"
            f'<rect x="{left}" y="{y + 3}" width="{length}" height="14" fill="#b22222"></rect>'
            f'<text x="{left + length + 4}" y="{y + 14}" font-size="12">{value}</text>'
        )
    if not bars:
        parts.append(f'<text x="{left}" y="{top + 14}" font-size="12">—</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
