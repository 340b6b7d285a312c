"""registro de llamadas y extras

Revision ID: 0005
Revises: 0004
Placeholder in the fixed migration chain; its owner fills in upgrade/downgrade.
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
