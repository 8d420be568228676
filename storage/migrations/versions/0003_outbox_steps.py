"""outbox steps with a lease, and every post about an interview kept for erasure

Revision ID: 0003_outbox_steps
Revises: 0004_script_revisions
Create Date: 2026-12-03 10:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = '0003_outbox_steps'
down_revision: str | None = '0004_script_revisions'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lease_owner', sqlmodel.sql.sqltypes.AutoString(
            length=64), nullable=True))
        batch_op.add_column(sa.Column('lease_until', storage.types.UTCDateTime(timezone=True),
                                      nullable=True))
    with op.batch_alter_table('review_post', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=8),
                                      nullable=False, server_default='card'))
        batch_op.add_column(sa.Column('parts', sqlmodel.sql.sqltypes.AutoString(),
                                      nullable=False, server_default=''))
    # entries written before steps existed are read as steps (see core.outbox.decode)


def downgrade() -> None:
    with op.batch_alter_table('review_post', schema=None) as batch_op:
        batch_op.drop_column('parts')
        batch_op.drop_column('kind')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('lease_until')
        batch_op.drop_column('lease_owner')
