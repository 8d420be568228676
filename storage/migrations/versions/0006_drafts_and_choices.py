"""drafts: a take counts the messages or clips it was put together from

Revision ID: 0006_drafts_and_choices
Revises: 0008_fairness
Create Date: 2026-12-03 10:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006_drafts_and_choices'
down_revision: str | None = '0008_fairness'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('take', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pieces', sa.Integer(), nullable=False,
                                      server_default='1'))


def downgrade() -> None:
    with op.batch_alter_table('take', schema=None) as batch_op:
        batch_op.drop_column('pieces')
