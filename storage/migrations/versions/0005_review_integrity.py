"""reply prompts: the message ids of force-reply prompts, so replies route by id only

Revision ID: 0005_review_integrity
Revises: 0003_outbox_steps
Create Date: 2026-12-03 10:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = '0005_review_integrity'
down_revision: str | None = '0003_outbox_steps'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('reply_prompt',
    sa.Column('chat', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('message_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('target', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('sent_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('chat', 'message_id')
    )


def downgrade() -> None:
    op.drop_table('reply_prompt')
