"""round delivery: what a round still owes its chat (posted questions, due results and podiums)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 03:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('round_questions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('posted_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('result_due', sa.Boolean(), server_default=sa.text('false'), nullable=False))
        batch_op.create_index('ix_round_questions_open_deadline', ['deadline'], unique=False, sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))
    with op.batch_alter_table('rounds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('end_due', sa.Boolean(), server_default=sa.text('false'), nullable=False))
        batch_op.create_index('ix_rounds_end_due', ['ended_at'], unique=False, sqlite_where=sa.text('end_due'), postgresql_where=sa.text('end_due'))
    # Questions asked before this schema were shown as far as anyone knows: not asked again.
    op.execute("UPDATE round_questions SET posted_at = opened_at WHERE opened_at IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table('rounds', schema=None) as batch_op:
        batch_op.drop_index('ix_rounds_end_due', sqlite_where=sa.text('end_due'), postgresql_where=sa.text('end_due'))
        batch_op.drop_column('end_due')
    with op.batch_alter_table('round_questions', schema=None) as batch_op:
        batch_op.drop_index('ix_round_questions_open_deadline', sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))
        batch_op.drop_column('result_due')
        batch_op.drop_column('posted_at')
