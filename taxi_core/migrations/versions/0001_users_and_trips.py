"""users and trips

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

from taxi_core.models import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(150), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("first_name", sa.String(150), nullable=False),
        sa.Column("last_name", sa.String(150), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created", UTCDateTime(), nullable=False),
        sa.CheckConstraint("role IN ('rider', 'driver')", name="ck_users_role"),
        sa.UniqueConstraint("username", name="uq_users_username"),
    )
    op.create_table(
        "trips",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("nk", sa.String(32), nullable=False),
        sa.Column("created", UTCDateTime(), nullable=False),
        sa.Column("updated", UTCDateTime(), nullable=False),
        sa.Column("pick_up_address", sa.String(255), nullable=False),
        sa.Column("drop_off_address", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=True),
        sa.Column("rider_id", sa.Integer(), sa.ForeignKey("users.id", name="fk_trips_rider"), nullable=False),
        sa.Column("driver_id", sa.Integer(), sa.ForeignKey("users.id", name="fk_trips_driver"), nullable=True),
        sa.CheckConstraint(
            "status IN ('REQUESTED', 'STARTED', 'IN_PROGRESS', 'COMPLETED', 'CANCELED')", name="ck_trips_status"
        ),
        sa.UniqueConstraint("nk", name="uq_trips_nk"),
        sa.UniqueConstraint("rider_id", "request_id", name="uq_trips_rider_request"),
    )
    op.create_index("ix_trips_status_created", "trips", ["status", "created"])
    op.create_index("ix_trips_rider_created", "trips", ["rider_id", "created"])
    op.create_index("ix_trips_driver_created", "trips", ["driver_id", "created"])


def downgrade() -> None:
    op.drop_table("trips")
    op.drop_table("users")
