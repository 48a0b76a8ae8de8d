"""devices: users' device keys (WAMP-cryptosign) and the sessions that logged in with them

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03

Users already there have no devices: they log in with their password, as before.
"""

import sqlalchemy as sa
from alembic import op

from taxi_core.models import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "devices",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", name="fk_devices_user"), nullable=False),
        sa.Column("public_key", sa.String(64), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("created", UTCDateTime(), nullable=False),
        sa.Column("last_used", UTCDateTime(), nullable=True),
        sa.UniqueConstraint("public_key", name="uq_devices_public_key"),
    )
    op.create_index("ix_devices_user", "devices", ["user_id"])
    op.create_table(
        "device_sessions",
        # WAMP session ids go up to 2**53; the router picks them, so no autoincrement.
        sa.Column("session_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column(
            "device_id",
            sa.Integer(),
            sa.ForeignKey("devices.id", name="fk_device_sessions_device", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("joined", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_device_sessions_device", "device_sessions", ["device_id"])


def downgrade() -> None:
    op.drop_table("device_sessions")
    op.drop_table("devices")
