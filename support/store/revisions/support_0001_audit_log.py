"""Baseline of support's tables: the audit log as main had it at 97d1110.

The audit table's set-up depends on who runs it (support.store.audit_schema): as a
superuser it is handed to its owner role; as the application's role, created with a
warning; where another role set it up, only checked.

Revision ID: support_0001
"""

from support.store.audit_schema import prepare_audit_table
from support.store.migrations import upgrade_connection

revision = "support_0001"
down_revision = None
branch_labels = ("support",)
depends_on = None


def upgrade() -> None:
    prepare_audit_table(upgrade_connection())
