"""unique indexes for one-shot actions: one live claim per order, one open objection per account and claim, one
open complaint per account and order

Partial unique indexes (issue 15), so the database refuses the second row however many requests race:
- uq_redemptions_live_order: redemptions(order_id) where status <> 'rejected'.
- uq_objections_open_claim_user: objections(redemption_id, user_id) where status = 'open'.
- uq_complaints_open_order_user: complaints(order_id, user_id) where status = 'open'.
Plus (user_id, created_at) indexes on objections and complaints for the per-account daily caps.

Rows that already break a rule stop the upgrade with a message naming them, rather than being changed here: two
live claims on one order may both have moved money (the issue found two approved and paid), and only a reviewer can
decide which stands (reject the other); duplicate open objections or complaints are resolved in /admin/objections
and /admin/complaints, which writes the audit log a migration would not.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 22:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

LIVE = "status <> 'rejected'"
OPEN = "status = 'open'"
# (index, table, columns, rows it covers, what to do about rows that break it)
RULES = (
    ("uq_redemptions_live_order", "redemptions", ["order_id"], LIVE,
     "订单有多个未被驳回的兑付申请，请审核人员核实后驳回多余的申请"),
    ("uq_objections_open_claim_user", "objections", ["redemption_id", "user_id"], OPEN,
     "同一账号对同一兑付有多个待处理异议，请在 /admin/objections 处理多余的异议"),
    ("uq_complaints_open_order_user", "complaints", ["order_id", "user_id"], OPEN,
     "同一账号对同一订单有多个待处理投诉，请在 /admin/complaints 处理多余的投诉"),
)


def upgrade() -> None:
    problems = [problem for rule in RULES for problem in _broken(*rule)]
    if problems:
        raise RuntimeError("升级前请先处理以下重复数据（issue 15）：\n" + "\n".join(problems))
    for name, table, columns, where, _ in RULES:
        op.create_index(name, table, columns, unique=True,
                        postgresql_where=sa.text(where), sqlite_where=sa.text(where))
    op.create_index('ix_objections_user_created', 'objections', ['user_id', 'created_at'])
    op.create_index('ix_complaints_user_created', 'complaints', ['user_id', 'created_at'])


def _broken(name: str, table: str, columns: list[str], where: str, advice: str) -> list[str]:
    keys = ", ".join(columns)
    filled = " AND ".join(f"{column} IS NOT NULL" for column in columns)
    rows = op.get_bind().execute(sa.text(
        f"SELECT {keys}, COUNT(*) FROM {table} WHERE {where} AND {filled} GROUP BY {keys} HAVING COUNT(*) > 1"))
    return [f"{advice}：{table}（{keys}）= {tuple(row[:-1])} 共 {row[-1]} 条" for row in rows]


def downgrade() -> None:
    op.drop_index('ix_complaints_user_created', table_name='complaints')
    op.drop_index('ix_objections_user_created', table_name='objections')
    for name, table, *_ in reversed(RULES):
        op.drop_index(name, table_name=table)
