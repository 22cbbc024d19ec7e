"""Re-encrypting stored values after a new key has been put first (key rotation)."""

import sqlalchemy as sa

from core.audit.recorder import record
from core.platform import Platform
from core.security.fields import Encrypted

BATCH = 1_000


def encrypted_columns(platform: Platform) -> list[tuple[sa.Table, list[sa.Column]]]:
    """Every loaded owner's tables with their ``Encrypted`` columns."""
    found = []
    for models in platform.plugins.models.values():
        for model in models:
            table: sa.Table = model.__table__
            columns = [c for c in table.columns if isinstance(c.type, Encrypted)]
            if columns:
                found.append((table, columns))
    return found


def rotate(platform: Platform) -> dict[str, int]:
    """Rewrite each value not under the current key; return how many per table.

    Works on the raw stored text (not through the column type) so a value is decrypted with
    the key it names and written back under the current one, in batches of one transaction
    each; running it again rewrites nothing. The rotation is recorded in the audit trail.
    """
    keyring = platform.keyring
    counts: dict[str, int] = {}
    for table, columns in encrypted_columns(platform):
        key = list(table.primary_key.columns)[0]
        raw = [sa.type_coerce(column, sa.Text).label(column.key) for column in columns]
        done = 0
        last = None
        while True:
            query = sa.select(key, *raw).order_by(key).limit(BATCH)
            if last is not None:
                query = query.where(key > last)
            with platform.engine.begin() as connection:
                rows = connection.execute(query).all()
                for row in rows:
                    updates = {
                        column.key: keyring.encrypt(keyring.decrypt(value))
                        for column, value in zip(columns, row[1:], strict=True)
                        if value is not None and keyring.key_of(value) != keyring.current
                    }
                    if updates:
                        # type_coerce keeps the Encrypted type from encrypting twice.
                        values = {
                            table.c[n]: sa.type_coerce(v, sa.Text) for n, v in updates.items()
                        }
                        connection.execute(sa.update(table).where(key == row[0]).values(values))
                        done += 1
            if not rows:
                break
            last = rows[-1][0]
        counts[table.name] = done
    with platform.session_factory() as session:
        record(session, "key_rotation", after={"key": keyring.current, "rewritten": counts})
        session.commit()
    return counts
