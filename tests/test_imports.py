"""Bulk import of volunteers: streamed reading, every row checked, good rows stored in chunks,
bad rows returned with reasons, a second run updating instead of duplicating; the upload
page with its progress, the API, and ``pingan import`` with a progress bar."""

import csv
import io
from datetime import date

import anyio
import openpyxl
import pytest
from click.testing import CliRunner
from sqlmodel import func, select

from core.audit.bulk import ids_of
from core.audit.models import AuditEntry
from core.cli import CliState, cli
from core.files.models import StoredFile
from core.imports import services
from core.imports.models import ImportBatch, ImportStatus
from core.imports.reader import SheetError, open_sheet
from core.people.identity import check_digit
from core.people.models import Person
from core.people.services import PersonDetails, create_person
from core.units.models import Unit
from core.volunteers.models import TeamMembership, Volunteer
from core.volunteers.services import enroll
from tests.support.web import csrf_token, sign_in

pytestmark = pytest.mark.anyio

HEADERS = ["姓名*", "身份证号*", "队伍代码*", "手机号", "住址", "学历", "特长", "备注"]


def resident_id(born: str, sequence: int, region: str = "500103") -> str:
    first17 = f"{region}{born}{sequence:03d}"
    return first17 + check_digit(first17)


def good_rows(count: int, *, phone_prefix: str = "138") -> list[list]:
    codes = ["500103002001", "500103002", "500103001001", "500103"]
    return [
        [
            f"队员{number}",
            resident_id(f"19{70 + number % 30}0{number % 9 + 1}1{number % 9}", number),
            codes[number % len(codes)],
            f"{phone_prefix}{number:08d}",
            f"渝中区民族路{number}号",
            ["本科", "高中", "bachelor", ""][number % 4],
            ["急救、法律", "驾驶", "", "first_aid,law"][number % 4],
            "备注不导入",
        ]
        for number in range(count)
    ]


def bad_rows() -> list[tuple[list, str]]:
    """Rows that must be refused, each with a piece of the reason it must give."""
    minor = resident_id(f"{date.today().year - 10}0101", 901)
    return [
        (["", resident_id("19800101", 902), "500103002", "", "", "", "", ""], "姓名"),
        (["错号", "500103198001019999", "500103002", "", "", "", "", ""], "身份证号"),
        (["少年", minor, "500103002", "", "", "", "", ""], "18"),
        (["外区", resident_id("19800101", 903), "500105", "", "", "", "", ""], "不在本单位范围内"),
        (["无码", resident_id("19800101", 904), "", "", "", "", "", ""], "队伍代码"),
        (["未知", resident_id("19800101", 905), "999999", "", "", "", "", ""], "999999"),
        (["错手机", resident_id("19800101", 906), "500103002", "12345", "", "", "", ""], "手机号"),
        (["错学历", resident_id("19800101", 907), "500103002", "", "", "博士后", "", ""], "学历"),
        (["错特长", resident_id("19800101", 908), "500103002", "", "", "", "飞行", ""], "飞行"),
        (["数字号", 5.00103198001019e17, "500103002", "", "", "", "", ""], "文本"),
    ]


def workbook(rows: list[list], headers: list[str] = HEADERS) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def csv_file(rows: list[list], encoding: str = "utf-8-sig") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADERS)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def counts(platform) -> tuple[int, int, int]:
    with platform.session_factory() as session:
        return (
            session.exec(select(func.count()).select_from(Person)).one(),
            session.exec(select(func.count()).select_from(Volunteer)).one(),
            session.exec(select(func.count()).select_from(TeamMembership)).one(),
        )


def listed_ids(entries: list[AuditEntry]) -> dict[str, set[int]]:
    """Every id the bulk entries list, per table."""
    listed: dict[str, set[int]] = {}
    for entry in entries:
        for table, runs in entry.after["ids"].items():
            listed.setdefault(table, set()).update(ids_of(runs))
    return listed


def written_ids(session) -> dict[str, set[int]]:
    """Every id of the tables a volunteer import writes."""
    return {
        model.__tablename__: set(session.exec(select(model.id)))
        for model in (Person, Volunteer, TeamMembership)
    }


async def wait_for(client, unit: Unit, headers: dict, batch_id: int) -> dict:
    url = f"/api/v1/units/{unit.id}/imports/volunteers"
    for _ in range(600):
        response = await client.get(url, params={"batch": batch_id}, headers=headers)
        assert response.status_code == 200, response.text
        (batch,) = response.json()
        if batch["status"] in ("done", "failed"):
            return batch
        await anyio.sleep(0.05)
    raise AssertionError(f"import {batch_id} still {batch}")


async def upload(client, unit: Unit, headers: dict, name: str, content: bytes):
    return await client.post(
        f"/api/v1/units/{unit.id}/imports/volunteers",
        files={"file": (name, content, "application/octet-stream")},
        headers=headers,
    )


# -- the API and the job -------------------------------------------------------------------


async def test_mixed_rows_lose_nothing_and_a_rerun_duplicates_nothing(
    client, platform, unit_tree, accounts, monkeypatch
):
    monkeypatch.setattr(services, "CHUNK", 7)  # several chunks, and a chunk with bad rows
    office = accounts("district_admin", unit_tree.district)
    good = good_rows(23)
    bad = bad_rows()
    rows = good[:5] + [row for row, _ in bad[:4]] + good[5:] + [row for row, _ in bad[4:]]
    rows.insert(12, [None] * len(HEADERS))  # a blank line is skipped, not refused
    content = workbook(rows)

    response = await upload(client, unit_tree.district, office.headers, "名册.xlsx", content)
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "pending"
    first = await wait_for(client, unit_tree.district, office.headers, response.json()["id"])
    assert first["status"] == "done", first
    assert (first["rows_total"], first["rows_done"]) == (len(rows), len(rows))
    assert (first["created"], first["updated"], first["refused"]) == (23, 0, len(bad))
    assert first["percent"] == 100 and first["has_error_file"]
    assert counts(platform) == (23, 23, 23)

    with platform.session_factory() as session:
        volunteers = session.exec(select(Volunteer)).all()
        numbers = {v.number for v in volunteers}
        assert len(numbers) == 23 and all(
            n.startswith(f"500103{date.today().year}") for n in numbers
        )
        assert all(v.import_key for v in volunteers)
        person = session.exec(select(Person).where(Person.name == "队员1")).one()
        team = session.exec(select(Unit).where(Unit.code == "500103002")).one()
        assert (person.unit_id, person.unit_path) == (team.id, team.path)
        assert person.skills == ["driving"] and person.education == "senior"
        assert person.phone == "13800000001"
        # the rows' writes are audited as the uploader's: one bulk entry per chunk that stored
        # rows, naming the batch and listing every person, volunteer and membership written
        bulk = session.exec(select(AuditEntry).where(AuditEntry.event == "bulk_insert")).all()
        assert len(bulk) == 4  # 34 rows in chunks of 7: the fifth holds only refused rows
        assert {(e.user_id, e.object_type, e.object_id) for e in bulk} == {
            (office.user_id, "import_batch", str(first["id"]))
        }
        assert sum(e.after["count"] for e in bulk) == 23
        assert listed_ids(bulk) == written_ids(session)
        # the upload held ID numbers in clear: emptied once imported, its name and size kept
        upload_row = session.get(StoredFile, session.get(ImportBatch, first["id"]).file_id)
        assert upload_row.content == b"" and upload_row.size == len(content)

    # the refused rows, with their original columns and the reason
    errors = await client.get(
        f"/api/v1/units/{unit_tree.district.id}/imports/volunteers/errors",
        params={"batch": first["id"]},
        headers=office.headers,
    )
    assert errors.status_code == 200
    assert errors.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = list(
        openpyxl.load_workbook(io.BytesIO(errors.content)).active.iter_rows(values_only=True)
    )
    assert sheet[0] == (*HEADERS, "行号", "错误原因")
    assert len(sheet) == 1 + len(bad)
    for (row, reason), refused in zip(bad, sheet[1:], strict=True):
        assert refused[0] == (row[0] or None)
        assert reason in refused[-1], (reason, refused[-1])
    numbers = [row[-2] for row in sheet[1:]]
    assert numbers == sorted(numbers) and numbers[0] == 7  # spreadsheet row numbers
    with platform.session_factory() as session:
        export = session.exec(select(AuditEntry).where(AuditEntry.event == "export")).one()
        assert export.object_id == str(first["id"]) and export.user_id == office.user_id

    # the same file again: every good row updated, nothing new, the same rows refused
    again = await upload(client, unit_tree.district, office.headers, "名册.xlsx", content)
    second = await wait_for(client, unit_tree.district, office.headers, again.json()["id"])
    assert (second["created"], second["updated"], second["refused"]) == (0, 23, len(bad))
    assert counts(platform) == (23, 23, 23)

    # a corrected file: changed phones are updated, a moved volunteer changes team
    changed = good_rows(23, phone_prefix="139")
    changed[1][2] = "500103001001"
    third = await upload(client, unit_tree.district, office.headers, "名册.csv", csv_file(changed))
    third = await wait_for(client, unit_tree.district, office.headers, third.json()["id"])
    assert (third["created"], third["updated"], third["refused"]) == (0, 23, 0)
    assert not third["has_error_file"]
    with platform.session_factory() as session:
        person = session.exec(select(Person).where(Person.name == "队员1")).one()
        assert person.phone == "13900000001"
        volunteer = session.exec(select(Volunteer).where(Volunteer.person_id == person.id)).one()
        assert volunteer.unit_path == unit_tree.other_village.path
        memberships = session.exec(
            select(TeamMembership).where(TeamMembership.volunteer_id == volunteer.id)
        ).all()
        assert sorted((m.unit_id, m.until is None) for m in memberships) == sorted(
            [(unit_tree.township.id, False), (unit_tree.other_village.id, True)]
        )
    assert counts(platform)[:2] == (23, 23)


async def test_import_is_refused_outside_the_importers_subtree(
    client, platform, unit_tree, accounts
):
    office = accounts("district_admin", unit_tree.district)
    content = workbook(good_rows(2))
    # another district's unit is not there for this office: 404, nothing stored
    response = await upload(client, unit_tree.other_district, office.headers, "a.xlsx", content)
    assert response.status_code == 404
    # roles without the import action are refused at their own unit
    leader = accounts("township_leader", unit_tree.township)
    response = await upload(client, unit_tree.township, leader.headers, "a.xlsx", content)
    assert response.status_code == 403
    with platform.session_factory() as session:
        assert session.exec(select(func.count()).select_from(ImportBatch)).one() == 0
    # a team code in another district's area is refused row by row
    other = good_rows(1)
    other[0][2] = "500105"
    response = await upload(client, unit_tree.district, office.headers, "b.xlsx", workbook(other))
    batch = await wait_for(client, unit_tree.district, office.headers, response.json()["id"])
    assert (batch["created"], batch["refused"]) == (0, 1)
    # a person already registered in another district is not taken over by an import
    with platform.session_factory() as session:
        elsewhere = session.get(Unit, unit_tree.other_district.id)
        person = create_person(
            session,
            platform.keyring,
            elsewhere,
            PersonDetails(name="江北人", id_number=good_rows(1)[0][1]),
        )
        enroll(session, person, elsewhere)
        session.commit()
    response = await upload(client, unit_tree.district, office.headers, "c.xlsx", content)
    batch = await wait_for(client, unit_tree.district, office.headers, response.json()["id"])
    assert (batch["created"], batch["updated"], batch["refused"]) == (1, 0, 1)
    with platform.session_factory() as session:
        assert session.get(Person, person.id).name == "江北人"
    # another district's batches are invisible
    other_office = accounts("district_admin", unit_tree.other_district)
    listed = await client.get(
        f"/api/v1/units/{unit_tree.other_district.id}/imports/volunteers",
        headers=other_office.headers,
    )
    assert listed.json() == []
    errors = await client.get(
        f"/api/v1/units/{unit_tree.other_district.id}/imports/volunteers/errors",
        params={"batch": batch["id"]},
        headers=other_office.headers,
    )
    assert errors.status_code == 404


async def test_unreadable_files_and_missing_columns_are_refused_at_upload(
    client, unit_tree, accounts
):
    office = accounts("district_admin", unit_tree.district)
    cases = [
        ("empty.csv", b"", "empty"),
        ("old.xls", b"\xd0\xcf\x11\xe0" + b"\0" * 100, "unreadable"),
        ("broken.xlsx", b"PK\x03\x04not really a zip", "unreadable"),
        ("columns.xlsx", workbook([["张三"]], headers=["姓名", "电话"]), "missing_column"),
    ]
    for name, content, rule in cases:
        response = await upload(client, unit_tree.district, office.headers, name, content)
        assert response.status_code == 400, name
        assert rule in {error["rule"] for error in response.json()["errors"]}, response.json()
    missing = await client.post(
        f"/api/v1/units/{unit_tree.district.id}/imports/volunteers",
        files={"other": ("a.csv", b"x", "text/csv")},
        headers=office.headers,
    )
    assert missing.status_code == 400 and missing.json()["code"] == "validation_failed"
    template = await client.get(
        f"/api/v1/units/{unit_tree.district.id}/imports/volunteers/template",
        headers=office.headers,
    )
    header = next(
        openpyxl.load_workbook(io.BytesIO(template.content)).active.iter_rows(values_only=True)
    )
    assert header[:3] == ("姓名*", "身份证号*", "队伍代码*")


def test_reader_streams_csv_in_utf8_or_gb18030_and_xlsx_cells_as_text():
    rows = [["张三", resident_id("19800101", 1), "500103002", "13800000000", "", "", "", ""]]
    for encoding in ("utf-8-sig", "utf-8", "gb18030"):
        with open_sheet("a.csv", csv_file(rows, encoding)) as sheet:
            assert sheet.headers[0] == "姓名*"
            assert list(sheet.rows()) == [(2, [cell or None for cell in rows[0]])]
            assert sheet.count() == 1
    with open_sheet("a.xlsx", workbook([["张三", "X", 500103002001, 13800000000, 1.5]])) as sheet:
        ((number, cells),) = sheet.rows()
        assert number == 2 and cells[:5] == ["张三", "X", "500103002001", "13800000000", "1.5"]
    with open_sheet("a.xlsx", workbook([[str(n)] for n in range(10)])) as sheet:
        assert [n for n, _ in sheet.rows(start=7)] == [9, 10, 11]
    with pytest.raises(SheetError):
        with open_sheet("a.csv", b"\n\n"):
            pass


def test_a_run_stops_after_its_budget_and_the_next_run_goes_on(platform, unit_tree, monkeypatch):
    """A job run imports a slice and returns; the next run continues from rows_done, and
    the refused rows of every slice end up in one workbook."""
    monkeypatch.setattr(services, "CHUNK", 4)
    rows = good_rows(10) + [row for row, _ in bad_rows()[:3]]
    with platform.session_factory() as session:
        batch = services.create_batch(
            session,
            kind="volunteers",
            unit=session.get(Unit, unit_tree.district.id),
            name="分批.xlsx",
            content=workbook(rows),
            by_user_id=None,
        )
        session.commit()
    seen = []
    runs = 0
    while True:
        runs += 1
        finished = services.run_batch(
            platform.session_factory,
            platform.keyring,
            platform.plugins,
            batch.id,
            budget_seconds=0,
            progress=lambda done, total: seen.append((done, total)),
        )
        if finished:
            break
        with platform.session_factory() as session:
            assert session.get(ImportBatch, batch.id).status == ImportStatus.running
    assert runs == 4  # 13 rows in chunks of 4, one chunk a run
    assert seen[-1] == (13, 13) and (4, 13) in seen and (12, 13) in seen
    with platform.session_factory() as session:
        done = session.get(ImportBatch, batch.id)
        assert (done.status, done.created, done.refused, done.rows_done) == ("done", 10, 3, 13)
        parts = session.exec(
            select(func.count())
            .select_from(StoredFile)
            .where(StoredFile.media_type == services.PART_MEDIA_TYPE)
        ).one()
        assert parts == 0
        error_file = session.get(StoredFile, done.error_file_id)
    sheet = list(
        openpyxl.load_workbook(io.BytesIO(error_file.content)).active.iter_rows(values_only=True)
    )
    assert [row[-2] for row in sheet[1:]] == [12, 13, 14]
    assert counts(platform) == (10, 10, 10)


def test_the_job_continues_itself_until_the_file_is_done(
    platform, unit_tree, worker, broker, monkeypatch
):
    from core.imports import jobs
    from core.jobs import Job, enqueue

    monkeypatch.setattr(services, "CHUNK", 3)
    monkeypatch.setattr(jobs, "SLICE_SECONDS", 0)
    with platform.session_factory() as session:
        unit = session.get(Unit, unit_tree.district.id)
        batch = services.create_batch(
            session,
            kind="volunteers",
            unit=unit,
            name="a.csv",
            content=csv_file(good_rows(8)),
            by_user_id=None,
        )
        enqueue(session, jobs.import_file, unit_id=unit.id, batch_id=batch.id, locale="en")
        session.commit()
    for _ in range(10):
        broker.join("core", fail_fast=True)
        with platform.session_factory() as session:
            if session.get(ImportBatch, batch.id).status == ImportStatus.done:
                break
    with platform.session_factory() as session:
        done = session.get(ImportBatch, batch.id)
        runs = session.exec(select(Job).where(Job.name == jobs.JOB_NAME)).all()
    assert (done.status, done.created, done.rows_done) == ("done", 8, 8)
    assert len(runs) == 3 and all(run.status == "done" for run in runs)


# -- the page ------------------------------------------------------------------------------


async def test_upload_page_starts_the_import_and_shows_its_progress(
    client, platform, unit_tree, accounts
):
    office = accounts("district_admin", unit_tree.district)
    await sign_in(client, office.username, office.password)
    base = f"/units/{unit_tree.district.id}/imports/volunteers"
    page = await client.get(base)
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.text
    assert "批量导入志愿者" in page.text
    rows = good_rows(4) + [bad_rows()[0][0]]
    response = await client.post(
        base,
        data={"_csrf_token": csrf_token(page.text)},
        files={"file": ("名册.xlsx", workbook(rows), "application/octet-stream")},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith(f"{base}?batch=")
    progress = await client.get(location)
    assert "<progress" in progress.text and "名册.xlsx" in progress.text
    if "已完成" not in progress.text:
        assert progress.headers.get("refresh") == "2"
    for _ in range(200):
        progress = await client.get(location)
        if "已完成" in progress.text:
            break
        await anyio.sleep(0.05)
    assert "已完成" in progress.text and "refresh" not in progress.headers
    assert "新增 4" in progress.text and "未通过 1" in progress.text
    link = f"{base}/errors?batch={location.rsplit('=', 1)[1]}"
    assert link in progress.text
    download = await client.get(link)
    assert download.status_code == 200 and download.content.startswith(b"PK")
    # a file without the required columns comes back with the reason on the page
    page = await client.get(base)
    refused = await client.post(
        base,
        data={"_csrf_token": csrf_token(page.text)},
        files={"file": ("x.csv", "姓名\n张三\n".encode(), "text/csv")},
    )
    assert refused.status_code == 400 and "身份证号" in refused.text
    english = await client.get(f"{base}?lang=en")
    assert "Upload and import" in english.text


# -- the command line ----------------------------------------------------------------------


def test_cli_imports_volunteers_in_process_with_a_progress_bar(
    platform, settings, pm, unit_tree, tmp_path, monkeypatch
):
    import click._termui_impl

    monkeypatch.setattr(click._termui_impl, "isatty", lambda stream: True)
    monkeypatch.setattr(services, "CHUNK", 5)
    path = tmp_path / "名册.csv"
    path.write_bytes(csv_file(good_rows(12) + [bad_rows()[2][0]], "gb18030"))
    errors_path = tmp_path / "refused.xlsx"

    def invoke(*args):
        return CliRunner().invoke(cli, list(args), obj=CliState(settings=settings, pm=pm))

    result = invoke(
        "import", "volunteers", str(path), "--unit", "500103", "--errors", str(errors_path)
    )
    assert result.exit_code == 0, result.output
    assert "importing volunteers into 渝中区" in result.output
    assert "100%" in result.output and "13/13" in result.output
    assert "13 rows, 12 created, 0 updated, 1 refused" in result.output
    assert errors_path.read_bytes().startswith(b"PK")
    assert counts(platform) == (12, 12, 12)
    again = invoke("import", "volunteers", str(path), "--unit", "500103")
    assert "0 created, 12 updated, 1 refused" in again.output
    assert counts(platform) == (12, 12, 12)
    with platform.session_factory() as session:
        entry = session.exec(
            select(AuditEntry).where(AuditEntry.event == "bulk_insert").limit(1)
        ).one()
        assert entry.username == "cli"
    unknown = invoke("import", "volunteers", str(path), "--unit", "999")
    assert unknown.exit_code == 1 and "no unit with id or code '999'" in unknown.output
    broken = tmp_path / "broken.csv"
    broken.write_text("姓名\n张三\n", encoding="utf-8")
    refused = invoke("import", "volunteers", str(broken), "--unit", "500103")
    assert refused.exit_code == 1 and "身份证号" in refused.output


def test_cli_imports_units(platform, settings, pm, unit_tree, tmp_path):
    path = tmp_path / "units.csv"
    path.write_text(
        "code,name,level,parent_code,population,population_year\n"
        "500103009,新华路街道,township,500103,48000,2020\n"
        "500103009001,新华路社区,village,500103009,5400,2020\n"
        "500105009,错区街道,township,500103,,\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        cli, ["import", "units", str(path)], obj=CliState(settings=settings, pm=pm)
    )
    assert result.exit_code == 0, result.output
    assert "3 rows, 2 created, 0 updated, 1 refused" in result.output
    with platform.session_factory() as session:
        village = session.exec(select(Unit).where(Unit.code == "500103009001")).one()
        assert village.population == 5400


def test_a_second_run_of_the_same_batch_stops_when_another_got_further(platform, unit_tree):
    """A message delivered twice must not import the same rows twice."""
    with platform.session_factory() as session:
        batch = services.create_batch(
            session,
            kind="volunteers",
            unit=session.get(Unit, unit_tree.district.id),
            name="a.csv",
            content=csv_file(good_rows(6)),
            by_user_id=None,
        )
        session.commit()
    with platform.session_factory() as stale, platform.session_factory() as other:
        seen_by_first = stale.get(ImportBatch, batch.id)
        stale.commit()
        ahead = other.get(ImportBatch, batch.id)
        ahead.rows_done = 2  # the other run committed a chunk
        other.commit()
        with pytest.raises(services.Superseded):
            services._claim(stale, seen_by_first)
        stale.rollback()
        seen_by_first = stale.get(ImportBatch, batch.id)
        services._claim(stale, seen_by_first)  # in step again: goes on
