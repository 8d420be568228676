"""records kept apart from the interview: self-identification, consent records, accommodations

Revision ID: 0008_fairness
Revises: 0005_review_integrity
Create Date: 2026-12-03 10:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = '0008_fairness'
down_revision: str | None = '0005_review_integrity'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('accommodation_request',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('interview_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('adjustments', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('requested_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('decided_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['interview_id'], ['interview.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('accommodation_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_accommodation_request_interview_id'),
                              ['interview_id'], unique=False)
    op.create_table('consent_record',
    sa.Column('interview_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('notice_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('accepted_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['interview_id'], ['interview.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('interview_id')
    )
    op.create_table('self_identification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('interview_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('answer', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('answered_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['interview_id'], ['interview.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('interview_id', 'category', name='uq_self_id_once')
    )
    with op.batch_alter_table('self_identification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_self_identification_interview_id'),
                              ['interview_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('self_identification', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_self_identification_interview_id'))
    op.drop_table('self_identification')
    op.drop_table('consent_record')
    with op.batch_alter_table('accommodation_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_accommodation_request_interview_id'))
    op.drop_table('accommodation_request')
