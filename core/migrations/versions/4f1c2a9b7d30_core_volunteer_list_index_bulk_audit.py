"""core: the volunteer list read from one index per sort; bulk audit entries found by id

Revision ID: 4f1c2a9b7d30
Revises: dff1ed521675
Create Date: 2026-11-29 04:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '4f1c2a9b7d30'
down_revision: str | Sequence[str] | None = 'dff1ed521675'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The district a volunteer's path lies in: the second id of "<root>.<district>.…", none at the
# root (core.volunteers.listing.district_of_path).
DISTRICT_OF_PATH = {
    'postgresql': "NULLIF(split_part(unit_path, '.', 2), '')::integer",
    'sqlite': (
        "CAST(NULLIF(substr(substr(unit_path, instr(unit_path, '.') + 1), 1,"
        " instr(substr(unit_path, instr(unit_path, '.') + 1), '.') - 1), '') AS INTEGER)"
    ),
}


def upgrade() -> None:
    op.create_table('audit_object_range',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('object_type', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('first_id', sa.Integer(), nullable=False),
    sa.Column('last_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['audit_entry.id'], name=op.f('fk_audit_object_range_entry_id_audit_entry'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_object_range'))
    )
    with op.batch_alter_table('audit_object_range', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_object_range_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index('ix_audit_object_range_lookup', ['object_type', 'first_id', 'last_id'], unique=False)

    # Columns added to existing tables get server defaults so rows already there stay valid;
    # they are then filled from the person and the path.
    with op.batch_alter_table('volunteer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('district_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('skills', sa.JSON(), nullable=False, server_default='[]'))
    dialect = op.get_bind().dialect.name
    op.execute(
        "UPDATE volunteer SET "
        "name = (SELECT person.name FROM person WHERE person.id = volunteer.person_id), "
        "skills = (SELECT person.skills FROM person WHERE person.id = volunteer.person_id), "
        f"district_id = {DISTRICT_OF_PATH[dialect]}"
    )
    # The composite (unit_path, status, id) serves every prefix search the single one did.
    with op.batch_alter_table('volunteer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_volunteer_unit_path'))
        batch_op.create_index('ix_volunteer_district_name', ['district_id', 'name', 'id'], unique=False, postgresql_include=['status', 'skills'])
        batch_op.create_index('ix_volunteer_district_number', ['district_id', 'number'], unique=False, postgresql_include=['id', 'status', 'name', 'skills'])
        batch_op.create_index('ix_volunteer_district_registered_at', ['district_id', 'registered_at', 'id'], unique=False, postgresql_include=['status', 'name', 'skills'])


def downgrade() -> None:
    with op.batch_alter_table('volunteer', schema=None) as batch_op:
        batch_op.drop_index('ix_volunteer_district_registered_at')
        batch_op.drop_index('ix_volunteer_district_number')
        batch_op.drop_index('ix_volunteer_district_name')
        batch_op.create_index(batch_op.f('ix_volunteer_unit_path'), ['unit_path'], unique=False)
        batch_op.drop_column('skills')
        batch_op.drop_column('name')
        batch_op.drop_column('district_id')

    with op.batch_alter_table('audit_object_range', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_object_range_lookup')
        batch_op.drop_index(batch_op.f('ix_audit_object_range_entry_id'))

    op.drop_table('audit_object_range')
