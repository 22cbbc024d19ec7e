"""The national registry export: configured columns, clear IDs only for export holders, audited,
cells that can never be formulas, and a writer a plugin may replace."""

import csv
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from core.audit.models import AuditEntry
from core.people.identity import check_digit
from core.people.services import PersonDetails, create_person
from core.units.models import Unit
from core.volunteers.export import DEFAULT_COLUMNS_FILE, SOURCES, ExportConfigError, load_columns
from core.volunteers.services import enroll
from tests.support.web import csrf_token, sign_in

pytestmark = [pytest.mark.anyio, pytest.mark.plugins("sample")]

EXPORT = "/api/v1/volunteers/export"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def resident_id(serial: int, born: str = "19870615") -> str:
    first17 = f"500103{born}{serial:03d}"
    return first17 + check_digit(first17)


@pytest.fixture
def registered(platform, unit_tree):
    """Three volunteers in the district (one with a formula for a name), one elsewhere."""
    people = [
        (unit_tree.village, "王芳", resident_id(2), "13800000002", ["first_aid", "law"]),
        (unit_tree.township, '=HYPERLINK("http://x")', resident_id(3), "13800000003", []),
        (unit_tree.other_village, "刘洋", resident_id(5), "13800000005", ["driving"]),
        (unit_tree.other_district, "杨勇", resident_id(7), "13800000007", []),
    ]
    made = []
    with platform.session_factory() as session:
        for unit, name, id_number, phone, skills in people:
            unit = session.get(Unit, unit.id)
            person = create_person(
                session,
                platform.keyring,
                unit,
                PersonDetails(
                    name=name, id_number=id_number, phone=phone, skills=skills, education="college"
                ),
            )
            volunteer = enroll(session, person, unit)
            made.append({"name": name, "id_number": id_number, "phone": phone, "id": volunteer.id})
        session.commit()
    return made


def sheet_rows(content: bytes) -> list[list[str | None]]:
    sheet = load_workbook(io.BytesIO(content)).active
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def exports(platform) -> list[AuditEntry]:
    with platform.session_factory() as session:
        return list(
            session.exec(
                select(AuditEntry).where(AuditEntry.event == "export").order_by(AuditEntry.id)
            )
        )


async def test_export_follows_the_default_columns_with_clear_ids_and_is_audited(
    client, platform, unit_tree, registered, accounts
):
    office = accounts("district_admin", unit_tree.district)
    response = await client.post(
        EXPORT,
        json={"unit_id": unit_tree.district.id, "reason": "向全国系统登记本季度新志愿者"},
        headers=office.headers,
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    assert 'filename="volunteers-500103-' in response.headers["content-disposition"]
    rows = sheet_rows(response.content)
    headers = [column.header for column in load_columns()]
    assert rows[0] == headers
    assert headers[:9] == [
        "姓名",
        "性别",
        "出生日期",
        "国籍",
        "证件类型",
        "证件号码",
        "居住区域",
        "区划代码",
        "联系电话",
    ]
    by_name = {row[0]: dict(zip(headers, row, strict=True)) for row in rows[1:]}
    assert set(by_name) == {"王芳", '\'=HYPERLINK("http://x")', "刘洋"}  # not 杨勇: elsewhere
    wang = by_name["王芳"]
    assert wang["证件号码"] == registered[0]["id_number"]  # in clear: the national system needs it
    assert wang["联系电话"] == "13800000002"
    assert (wang["性别"], wang["出生日期"], wang["国籍"], wang["证件类型"]) == (
        "女",
        "1987-06-15",
        "中国",
        "居民身份证",
    )
    assert wang["居住区域"] == "重庆市渝中区解放碑街道民族路社区"
    assert wang["区划代码"] == "500103002001"
    assert (wang["学历"], wang["专业技能"]) == ("大专", "急救、法律")
    assert wang["服务类别"] == "平安建设" and wang["所属组织"] == "民族路社区分队"
    assert wang["本地志愿者编号"].startswith("500103") and wang["志愿者统一编号"] is None

    [entry] = exports(platform)
    assert (entry.action, entry.user_id, entry.object_type) == (
        "core.volunteer.export",
        office.user_id,
        "volunteer",
    )
    assert entry.reason == "向全国系统登记本季度新志愿者"
    assert entry.unit_path == unit_tree.district.path
    assert entry.after["rows"] == 3 and entry.after["format"] == "xlsx"
    assert entry.after["filters"]["unit_id"] == unit_tree.district.id
    assert registered[0]["id_number"] not in str(entry.model_dump())


async def test_no_cell_is_a_formula(client, unit_tree, registered, accounts):
    office = accounts("district_admin", unit_tree.district)
    response = await client.post(
        EXPORT, json={"reason": "检查导出格式", "name": "HYPERLINK"}, headers=office.headers
    )
    sheet = load_workbook(io.BytesIO(response.content)).active
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert cells and all(cell.data_type == "s" for cell in cells if cell.value is not None)
    [row] = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2)]
    assert row[0] == '\'=HYPERLINK("http://x")'
    assert row[5] == registered[1]["id_number"]  # text, every digit kept


async def test_csv_cells_are_escaped(client, unit_tree, registered, accounts):
    office = accounts("district_admin", unit_tree.district)
    response = await client.post(
        EXPORT, json={"reason": "导出CSV核对", "format": "csv"}, headers=office.headers
    )
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][0] == "姓名" and len(rows) == 4
    assert '\'=HYPERLINK("http://x")' in [row[0] for row in rows]


async def test_export_filters_follow_the_list(client, unit_tree, registered, accounts):
    office = accounts("district_admin", unit_tree.district)
    response = await client.post(
        EXPORT,
        json={
            "reason": "只导出有急救特长的",
            "skill": "first_aid",
            "unit_id": unit_tree.township.id,
        },
        headers=office.headers,
    )
    assert [row[0] for row in sheet_rows(response.content)[1:]] == ["王芳"]


async def test_export_is_refused_without_the_export_action(
    client, platform, unit_tree, registered, accounts
):
    body = {"unit_id": unit_tree.township.id, "reason": "想看看完整号码"}
    for role, unit in (
        ("township_leader", unit_tree.township),
        ("village_leader", unit_tree.village),
        ("auditor", unit_tree.city),
    ):
        assert "core.volunteer.export" not in platform.policy.actions(role)
        account = accounts(role, unit)
        response = await client.post(EXPORT, json=body, headers=account.headers)
        assert response.status_code == 403, (role, response.text)
        assert registered[0]["id_number"] not in response.text
    sibling = accounts("district_admin", unit_tree.other_district)
    response = await client.post(EXPORT, json=body, headers=sibling.headers)
    assert response.status_code == 404  # another district's unit is not there at all
    everything = await client.post(EXPORT, json={"reason": "本区全部"}, headers=sibling.headers)
    assert [row[0] for row in sheet_rows(everything.content)[1:]] == ["杨勇"]
    assert len(exports(platform)) == 1  # only the export that happened


async def test_export_needs_a_reason_and_a_known_format(client, platform, unit_tree, accounts):
    office = accounts("district_admin", unit_tree.district)
    missing = await client.post(EXPORT, json={}, headers=office.headers)
    assert missing.status_code == 400
    assert [(e["field"], e["rule"]) for e in missing.json()["errors"]] == [("reason", "missing")]
    unknown = await client.post(
        EXPORT, json={"reason": "格式测试", "format": "pdf"}, headers=office.headers
    )
    assert unknown.status_code == 400
    assert [(e["field"], e["rule"]) for e in unknown.json()["errors"]] == [
        ("format", "unsupported")
    ]
    assert exports(platform) == []


async def test_columns_follow_the_configured_file(
    client, platform, unit_tree, registered, accounts, tmp_path
):
    config = tmp_path / "columns.toml"
    config.write_text(
        '[[columns]]\nheader = "证件号码"\nsource = "id_number"\n\n'
        '[[columns]]\nheader = "数据来源"\nvalue = "重庆平安志愿服务平台"\n\n'
        '[[columns]]\nheader = "姓名"\nsource = "name"\n\n'
        '[[columns]]\nheader = "状态"\nsource = "status"\n',
        encoding="utf-8",
    )
    platform.settings.national_export_file = config
    office = accounts("district_admin", unit_tree.district)
    response = await client.post(
        EXPORT,
        json={"unit_id": unit_tree.village.id, "reason": "按区里的新模板导出"},
        headers=office.headers,
    )
    assert sheet_rows(response.content) == [
        ["证件号码", "数据来源", "姓名", "状态"],
        [registered[0]["id_number"], "重庆平安志愿服务平台", "王芳", "在册"],
    ]
    assert exports(platform)[-1].after["columns"] == ["证件号码", "数据来源", "姓名", "状态"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("columns = []", "no [[columns]]"),
        ('[[columns]]\nsource = "name"', "column 1: header is required"),
        ('[[columns]]\nheader = "年龄"\nsource = "age"', "column 1 (年龄): unknown source 'age'"),
        (
            '[[columns]]\nheader = "姓名"\nsource = "name"\nvalue = "x"',
            "exactly one of source, value",
        ),
        ('[[columns]]\nheader = "姓名"', "exactly one of source, value"),
        (
            '[[columns]]\nheader = "姓名"\nsource = "name"\nwidth = 9',
            "only header, source and value",
        ),
        ("[[columns]\n", "Expected"),
    ],
)
def test_a_broken_column_file_is_named_with_its_problem(tmp_path, text, problem):
    path = tmp_path / "broken.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ExportConfigError) as refused:
        load_columns(path)
    assert str(path) in refused.value.message and problem in refused.value.message
    with pytest.raises(ExportConfigError):
        load_columns(tmp_path / "missing.toml")


def test_the_default_file_names_only_known_sources():
    columns = load_columns(Path(DEFAULT_COLUMNS_FILE))
    assert all(column.source in SOURCES or column.value for column in columns)
    assert {
        "name",
        "gender",
        "birth_date",
        "id_type",
        "id_number",
        "residence_area",
        "phone",
        "skills",
        "service_category",
        "organisation",
    } <= {column.source for column in columns}


async def test_the_export_page(client, platform, unit_tree, registered, accounts):
    office = accounts("district_admin", unit_tree.district)
    await sign_in(client, office.username, office.password)
    page = await client.get(f"/units/{unit_tree.district.id}/volunteers/?skill=law")
    assert "导出到全国志愿服务信息系统" in page.text
    token = csrf_token(page.text.split('id="export"')[1])
    url = f"/units/{unit_tree.district.id}/volunteers/export"
    refused = await client.post(url, data={"format": "xlsx", "skill": "law", "_csrf_token": token})
    assert refused.status_code == 400 and "reason" in refused.text
    download = await client.post(
        url,
        data={"format": "xlsx", "skill": "law", "reason": "页面导出核对", "_csrf_token": token},
    )
    assert download.status_code == 200 and download.headers["content-type"] == XLSX
    assert [row[0] for row in sheet_rows(download.content)[1:]] == ["王芳"]
    assert exports(platform)[-1].reason == "页面导出核对"

    leader = accounts("township_leader", unit_tree.township)
    client.cookies.clear()
    await sign_in(client, leader.username, leader.password)
    page = await client.get(f"/units/{unit_tree.township.id}/volunteers/")
    assert page.status_code == 200 and 'id="export"' not in page.text
    forbidden = await client.post(
        f"/units/{unit_tree.township.id}/volunteers/export",
        data={"reason": "试试看", "_csrf_token": csrf_token(page.text)},
        headers={"accept": "text/html"},
    )
    assert forbidden.status_code == 403
