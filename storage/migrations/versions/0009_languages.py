"""languages: the candidate's language on the interview, each answer's language on its take

Revision ID: 0009_languages
Revises: 0006_drafts_and_choices
Create Date: 2026-12-03 10:15:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0009_languages'
down_revision: str | None = '0006_drafts_and_choices'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('interview', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=8),
                                      nullable=True))
    with op.batch_alter_table('take', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=8),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('take', schema=None) as batch_op:
        batch_op.drop_column('language')
    with op.batch_alter_table('interview', schema=None) as batch_op:
        batch_op.drop_column('language')
