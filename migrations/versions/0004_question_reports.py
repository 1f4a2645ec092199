"""question reports: learners say a question is wrong; curators accept or reject

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 10:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('question_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('chat_id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.String(length=128), nullable=False),
    sa.Column('question_ref', sa.String(length=32), nullable=False),
    sa.Column('question', sa.JSON(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['chat_id'], ['chats.id'], name=op.f('fk_question_reports_chat_id_chats'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_question_reports_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_question_reports')),
    sa.UniqueConstraint('user_id', 'question_ref', 'reason', name=op.f('uq_question_reports_user_id'))
    )
    with op.batch_alter_table('question_reports', schema=None) as batch_op:
        batch_op.create_index('ix_question_reports_status_entry', ['status', 'entry_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('question_reports', schema=None) as batch_op:
        batch_op.drop_index('ix_question_reports_status_entry')

    op.drop_table('question_reports')
