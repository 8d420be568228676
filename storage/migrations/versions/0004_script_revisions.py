"""script revisions: interviews pinned to the script they were invited to

Revision ID: 0004_script_revisions
Revises: 0007_hiring_team
Create Date: 2026-12-03 09:40:00

Interviews created before this revision have no script revision; interviewbot pins them to
their script's current file when it next starts (bots.app.build -> storage.scripts.pin_unpinned).
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = '0004_script_revisions'
down_revision: str | None = '0007_hiring_team'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('script_revision',
    sa.Column('hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('script_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('hash')
    )
    with op.batch_alter_table('script_revision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_script_revision_script_id'), ['script_id'],
                              unique=False)
    with op.batch_alter_table('interview', schema=None) as batch_op:
        batch_op.add_column(sa.Column('script_revision',
                                      sqlmodel.sql.sqltypes.AutoString(length=64),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('interview', schema=None) as batch_op:
        batch_op.drop_column('script_revision')
    with op.batch_alter_table('script_revision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_script_revision_script_id'))
    op.drop_table('script_revision')
