"""Personal data at rest: encrypted columns, the keyed blind index, ID validation, key
rotation, and where the keys come from."""

import base64
import hashlib
import json
import os
import stat
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from cryptography.exceptions import InvalidTag
from pingan_sample.models import SampleNote
from sqlalchemy.engine import make_url
from sqlmodel import select

from core.audit.models import AuditEntry
from core.cli import CliState, cli
from core.people.identity import check_digit
from core.people.models import Person
from core.people.services import ID_PURPOSE
from core.platform import Platform, build_platform
from core.plugins import make_plugin_manager
from core.security.fields import Keyring
from core.security.rotation import rotate
from core.security.secrets import (
    Secrets,
    SecretsError,
    load_secrets,
    new_encryption_key,
    parse_encryption_keys,
)
from core.settings import Settings

pytestmark = pytest.mark.anyio

# Valid resident IDs whose check character is X: they cannot turn up by chance inside the
# hex and base64 text the database also holds.
ID_A = "50010319880516108X"
ID_B = "50010519920229100X"
ID_C = "11010519491231002X"
PHONE = "13812345678"
ADDRESS = "重庆市渝中区民族路188号"


# -- helpers -----------------------------------------------------------------------------


def raw_person(platform: Platform, person_id: int) -> dict[str, str | None]:
    """The person's stored columns as text, read around the ``Encrypted`` type."""
    with platform.engine.connect() as connection:
        row = connection.execute(
            sa.text(
                "SELECT name, id_number, phone, address, id_number_index FROM person WHERE id = :id"
            ),
            {"id": person_id},
        ).one()
    return dict(row._mapping)


def raw_encrypted_values(platform: Platform) -> list[str]:
    """Every stored value of every encrypted column (person and the sample plugin's notes)."""
    with platform.engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT id_number, phone, address FROM person")).all()
        notes = connection.execute(sa.text("SELECT contact FROM sample_note")).all()
    return [value for row in [*rows, *notes] for value in row if value is not None]


def add_person(platform: Platform, unit, name: str, **fields) -> int:
    """Store a person through the ORM (as the API does), with the blind index."""
    with platform.session_factory() as session:
        number = fields.get("id_number")
        person = Person(
            unit_id=unit.id,
            unit_path=unit.path,
            name=name,
            id_number_index=platform.keyring.blind_index(number, ID_PURPOSE) if number else None,
            **fields,
        )
        session.add(person)
        session.commit()
        return person.id


def people(platform: Platform) -> dict[str, tuple[str | None, str | None, str | None]]:
    with platform.session_factory() as session:
        return {
            p.name: (p.id_number, p.phone, p.address)
            for p in session.exec(select(Person).order_by(Person.id))
        }


def key_id(entry: str) -> str:
    return entry.partition(":")[0]


def platform_with_keys(settings: Settings, keys: str) -> Platform:
    return build_platform(
        settings.model_copy(update={"encryption_keys": keys}), make_plugin_manager()
    )


# -- encrypted columns -------------------------------------------------------------------


async def test_encrypted_columns_hold_ciphertext_and_read_back_in_clear(
    client, platform, settings, unit_tree, admin
):
    response = await client.post(
        "/api/v1/people",
        json={
            "unit_id": unit_tree.district.id,
            "name": "周九",
            "id_number": ID_A.lower(),  # read as X
            "phone": "+86 138-1234-5678",  # stored as 11 digits
            "address": ADDRESS,
        },
        headers=admin.headers,
    )
    assert response.status_code == 201, response.text
    shown = response.json()
    assert (shown["id_number"], shown["phone"], shown["address"]) == (
        "500***********108X",
        "138****5678",
        "重庆市渝中区****",
    )
    raw = raw_person(platform, shown["id"])
    current = platform.keyring.current
    for column, clear in (("id_number", ID_A), ("phone", PHONE), ("address", ADDRESS)):
        stored = raw[column]
        assert stored.startswith(f"{current}:"), stored
        assert clear not in stored and clear[-6:] not in stored
        assert platform.keyring.decrypt(stored) == clear
    assert raw["name"] == "周九"  # not an encrypted column
    assert raw["id_number_index"] == platform.keyring.blind_index(ID_A, ID_PURPOSE)
    # Two encryptions of one value differ (a fresh nonce each time).
    assert platform.keyring.encrypt(ID_A) != platform.keyring.encrypt(ID_A)
    assert people(platform)["周九"] == (ID_A, PHONE, ADDRESS)
    revealed = await client.post(
        f"/api/v1/people/{shown['id']}/reveal",
        json={"fields": ["id_number", "phone", "address"], "reason": "核对登记信息"},
        headers=admin.headers,
    )
    assert revealed.json()["values"] == {"id_number": ID_A, "phone": PHONE, "address": ADDRESS}

    if platform.engine.dialect.name == "sqlite":
        database = Path(make_url(settings.database_url).database)
        stored_bytes = b"".join(
            path.read_bytes()
            for path in (database, database.with_name(database.name + "-wal"))
            if path.exists()
        )
        assert b"\xe5\x91\xa8\xe4\xb9\x9d" in stored_bytes  # the name 周九 is there in clear
        for clear in (ID_A, PHONE, ADDRESS):
            assert clear.encode() not in stored_bytes, clear


def test_tampered_ciphertext_refuses_to_decrypt(platform, unit_tree):
    person_id = add_person(platform, unit_tree.district, "吴十", id_number=ID_B, phone=PHONE)
    stored = raw_person(platform, person_id)["id_number"]
    kid, _, encoded = stored.partition(":")
    sealed = bytearray(base64.b64decode(encoded))
    sealed[20] ^= 0x01  # one bit of the ciphertext
    forged = f"{kid}:{base64.b64encode(bytes(sealed)).decode()}"
    with platform.engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE person SET id_number = :value WHERE id = :id"),
            {"value": forged, "id": person_id},
        )
    with platform.session_factory() as session, pytest.raises(InvalidTag):
        session.get(Person, person_id)
    with pytest.raises(InvalidTag):
        platform.keyring.decrypt(forged)
    with pytest.raises(KeyError, match="'nokey' is not configured"):
        platform.keyring.decrypt("nokey:" + encoded)
    truncated = f"{kid}:{base64.b64encode(bytes(sealed)[:-1]).decode()}"
    with pytest.raises(InvalidTag):
        platform.keyring.decrypt(truncated)


# -- the blind index ---------------------------------------------------------------------


def test_the_blind_index_finds_a_person_by_id_number_and_is_keyed(platform, unit_tree):
    add_person(platform, unit_tree.district, "郑甲", id_number=ID_A)
    add_person(platform, unit_tree.other_district, "王乙", id_number=ID_B)
    keyring = platform.keyring

    def find(number: str) -> list[str]:
        index = keyring.blind_index(number, ID_PURPOSE)
        with platform.session_factory() as session:
            return list(session.exec(select(Person.name).where(Person.id_number_index == index)))

    assert find(ID_A) == ["郑甲"]
    assert find(ID_B) == ["王乙"]
    assert find(f" {ID_A.lower()} ") == ["郑甲"]  # normalised: spaces, lower-case x
    assert find(ID_C) == []

    index = keyring.blind_index(ID_A, ID_PURPOSE)
    assert len(index) == 64 and ID_A not in index
    assert index != hashlib.sha256(ID_A.encode()).hexdigest()  # not a plain hash anyone can redo
    assert index != keyring.blind_index(ID_A, "another.purpose")  # separate per purpose
    other_key = Keyring(
        Secrets("s", platform.secrets.encryption_keys, keyring.current, os.urandom(32))
    )
    assert other_key.blind_index(ID_A, ID_PURPOSE) != index
    same_key = Keyring(Secrets("s", {"kx": os.urandom(32)}, "kx", platform.secrets.index_key))
    assert same_key.blind_index(ID_A, ID_PURPOSE) == index  # the index key alone decides


async def test_a_registered_id_number_is_refused_with_409(client, platform, unit_tree, admin):
    first = await client.post(
        "/api/v1/people",
        json={"unit_id": unit_tree.district.id, "name": "冯丙", "id_number": ID_A},
        headers=admin.headers,
    )
    assert first.status_code == 201
    for spelling, unit in ((ID_A, unit_tree.district), (ID_A.lower(), unit_tree.other_district)):
        again = await client.post(
            "/api/v1/people",
            json={"unit_id": unit.id, "name": "陈丁", "id_number": spelling},
            headers=admin.headers,
        )
        assert again.status_code == 409, spelling
        body = again.json()
        assert body["code"] == "conflict"
        assert [(e["field"], e["rule"]) for e in body["errors"]] == [("id_number", "unique")]
    assert list(people(platform)) == ["冯丙"]


@pytest.mark.parametrize(
    ("id_number", "problem"),
    [
        (ID_A[:17] + "1", "check digit does not match"),  # wrong check character
        ("500103" + "19900230" + "1234", "impossible birth date"),  # 30 February
        ("500103" + "19901301" + "1234", "impossible birth date"),  # month 13
        ("500103" + "20991231" + "1234", "birth date out of range"),  # not born yet
        (ID_A[:17], "must be 18 characters"),
        (ID_A + "1", "must be 18 characters"),
        ("50010319880516108Y", "must be 17 digits and a digit or X"),
    ],
    ids=["check_digit", "30_february", "month_13", "future", "short", "long", "letter"],
)
async def test_an_invalid_resident_id_is_refused_with_400(
    client, platform, unit_tree, admin, id_number, problem
):
    if problem.startswith(("impossible", "birth date")):  # give these a correct check digit
        id_number = id_number[:17] + check_digit(id_number[:17])
    response = await client.post(
        "/api/v1/people",
        json={"unit_id": unit_tree.district.id, "name": "褚戊", "id_number": id_number},
        headers=admin.headers,
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_failed"
    (error,) = body["errors"]
    assert error["field"] == "id_number"
    assert problem in error["message"]
    assert people(platform) == {}


async def test_an_invalid_mobile_number_is_refused_with_400(client, platform, unit_tree, admin):
    response = await client.post(
        "/api/v1/people",
        json={"unit_id": unit_tree.district.id, "name": "卫己", "phone": "12345678901"},
        headers=admin.headers,
    )
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["phone"]
    assert people(platform) == {}


# -- key rotation ------------------------------------------------------------------------


def test_rotation_re_encrypts_every_value_under_the_new_key(
    platform, settings, test_keys, unit_tree
):
    key_a = test_keys["encryption_keys"]
    key_b = new_encryption_key()
    kid_a, kid_b = key_id(key_a), key_id(key_b)
    assert kid_a != kid_b and platform.keyring.current == kid_a
    add_person(platform, unit_tree.district, "甲", id_number=ID_A, phone=PHONE, address=ADDRESS)
    add_person(platform, unit_tree.township, "乙", id_number=ID_B)
    add_person(platform, unit_tree.other_district, "丙", phone="13900001111")
    add_person(platform, unit_tree.village, "丁")  # nothing encrypted
    with platform.session_factory() as session:
        session.add(SampleNote(unit_id=unit_tree.district.id, text="n", contact="13700002222"))
        session.add(SampleNote(unit_id=unit_tree.district.id, text="no contact"))
        session.commit()
    stored = people(platform)
    before = raw_encrypted_values(platform)
    assert len(before) == 6 and {key_id(v) for v in before} == {kid_a}

    both = platform_with_keys(settings, f"{key_b},{key_a}")
    only_b = only_a = None
    try:
        assert both.keyring.current == kid_b
        assert people(both) == stored  # old values still readable
        newcomer = add_person(both, unit_tree.district, "戊", id_number=ID_C)
        assert key_id(raw_person(both, newcomer)["id_number"]) == kid_b  # new writes use B
        stored = people(both)

        counts = rotate(both)
        assert {"application", "person", "sample_note"} <= set(counts)  # every encrypted table
        changed = {table: rows for table, rows in counts.items() if rows}
        assert changed == {"person": 3, "sample_note": 1}  # rows changed; 戊 was already B
        after = raw_encrypted_values(both)
        assert len(after) == 7 and {key_id(v) for v in after} == {kid_b}
        assert not set(after) & set(before)
        again = rotate(both)
        assert set(again) == set(counts) and not any(again.values())  # running again: nothing
        with both.session_factory() as session:
            rotations = session.exec(
                select(AuditEntry).where(AuditEntry.event == "key_rotation")
            ).all()
        assert [entry.after for entry in rotations] == [
            {"key": kid_b, "rewritten": counts},
            {"key": kid_b, "rewritten": again},
        ]
        # The blind index does not depend on the encryption key: search still works.
        assert raw_person(both, newcomer)["id_number_index"] == platform.keyring.blind_index(
            ID_C, ID_PURPOSE
        )

        only_b = platform_with_keys(settings, key_b)
        assert people(only_b) == stored
        with only_b.session_factory() as session:
            (note,) = session.exec(select(SampleNote).where(SampleNote.text == "n")).all()
            assert note.contact == "13700002222"

        only_a = platform_with_keys(settings, key_a)  # the retired key alone reads nothing now
        with pytest.raises(KeyError, match=f"'{kid_b}' is not configured"):
            people(only_a)
    finally:
        for built in (both, only_b, only_a):
            if built is not None:
                built.engine.dispose()


def test_keys_new_and_keys_rotate_on_the_command_line(platform, settings, test_keys, unit_tree):
    add_person(platform, unit_tree.district, "甲", id_number=ID_A, phone=PHONE)
    new = CliRunner().invoke(
        cli, ["keys", "new"], obj=CliState(settings=settings, pm=make_plugin_manager())
    )
    assert new.exit_code == 0
    entry = new.output.strip()
    keys, current = parse_encryption_keys(entry)
    assert current == key_id(entry) and len(keys[current]) == 32

    rotated_settings = settings.model_copy(
        update={"encryption_keys": f"{entry},{test_keys['encryption_keys']}"}
    )
    state = CliState(settings=rotated_settings, pm=make_plugin_manager())
    try:
        result = CliRunner().invoke(cli, ["keys", "rotate"], obj=state)
    finally:
        if state._platform is not None:
            state._platform.engine.dispose()
    assert result.exit_code == 0, result.output
    assert "person: 1 value(s) re-encrypted" in result.output
    assert f"all encrypted values now use key {current}" in result.output
    assert {key_id(v) for v in raw_encrypted_values(platform)} == {current}


# -- where the keys come from ------------------------------------------------------------


def test_a_server_database_without_keys_refuses_to_start(tmp_path, test_keys):
    server = "postgresql+psycopg://pingan@127.0.0.1:5432/pingan"
    bare = Settings(_env_file=None, var_dir=tmp_path / "var", database_url=server)
    with pytest.raises(SecretsError) as refused:
        load_secrets(bare)
    assert str(refused.value) == (
        "set PINGAN_SECRET_KEY, PINGAN_ENCRYPTION_KEYS, PINGAN_INDEX_KEY "
        "(required with a server database)"
    )
    with pytest.raises(SecretsError):
        build_platform(bare, make_plugin_manager())
    partial = bare.model_copy(
        update={
            "secret_key": test_keys["secret_key"],
            "encryption_keys": test_keys["encryption_keys"],
        }
    )
    with pytest.raises(SecretsError, match=r"^set PINGAN_INDEX_KEY \(required"):
        load_secrets(partial)
    assert not (tmp_path / "var" / "secrets.json").exists()  # nothing generated for a server
    complete = partial.model_copy(update={"index_key": test_keys["index_key"]})
    assert load_secrets(complete).current_key_id == key_id(test_keys["encryption_keys"])


def test_malformed_keys_are_refused(tmp_path, test_keys):
    good = Settings(_env_file=None, var_dir=tmp_path / "var", **test_keys)
    short = base64.urlsafe_b64encode(os.urandom(16)).decode()
    for update, message in (
        ({"encryption_keys": f"k1:{short}"}, "key 'k1' must be 32 bytes"),
        ({"encryption_keys": " , "}, "PINGAN_ENCRYPTION_KEYS is empty"),
        ({"index_key": short}, "PINGAN_INDEX_KEY must decode to at least 32 bytes"),
    ):
        with pytest.raises(SecretsError, match=message):
            load_secrets(good.model_copy(update=update))


def test_embedded_sqlite_without_keys_generates_private_secrets_once(tmp_path):
    settings = Settings(_env_file=None, var_dir=tmp_path / "var")
    assert settings.effective_database_url.startswith("sqlite")
    path = tmp_path / "var" / "secrets.json"
    assert not path.exists()
    first = load_secrets(settings)
    assert path.exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    stored = json.loads(path.read_text())
    assert set(stored) == {"secret_key", "encryption_keys", "index_key"}
    assert first.current_key_id == key_id(stored["encryption_keys"])
    assert len(first.encryption_keys[first.current_key_id]) == 32 and len(first.index_key) == 32
    assert len(first.secret_key) >= 32

    content = path.read_bytes()
    second = load_secrets(settings)
    assert second == first and path.read_bytes() == content  # reused, not regenerated

    # Two processes on the same installation share the keys.
    one = build_platform(settings, make_plugin_manager())
    two = build_platform(settings, make_plugin_manager())
    try:
        sealed = one.keyring.encrypt(ID_A)
        assert two.keyring.decrypt(sealed) == ID_A
        assert one.keyring.blind_index(ID_A, ID_PURPOSE) == two.keyring.blind_index(
            ID_A, ID_PURPOSE
        )
    finally:
        one.engine.dispose()
        two.engine.dispose()

    # A setting that is given wins over the stored value; the others still come from the file.
    own = load_secrets(settings.model_copy(update={"secret_key": "configured-secret"}))
    assert own.secret_key == "configured-secret"
    assert own.encryption_keys == first.encryption_keys and own.index_key == first.index_key

    other = load_secrets(Settings(_env_file=None, var_dir=tmp_path / "elsewhere"))
    assert other.encryption_keys != first.encryption_keys  # random per installation
