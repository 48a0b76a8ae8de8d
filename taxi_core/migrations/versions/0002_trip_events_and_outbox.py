"""trip events, the outbox and leases

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02

Every trip already there gets its current state as event 1, told by the service (nobody did
it now) at the trip's last update; nothing goes into the outbox for them: their state was
published when it happened, and publishing it again would tell no one anything new.
"""

import sqlalchemy as sa
from alembic import op

from taxi_core.models import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("trips", sa.Column("seq", sa.Integer(), nullable=False, server_default=sa.text("1")))
    op.create_table(
        "trip_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("trip_id", sa.Integer(), sa.ForeignKey("trips.id", name="fk_trip_events_trip"), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("actor_authid", sa.String(150), nullable=True),
        sa.Column("actor_role", sa.String(16), nullable=False),
        sa.Column("session_id", sa.BigInteger(), nullable=True),
        sa.Column("created", UTCDateTime(), nullable=False),
        sa.CheckConstraint("actor_role IN ('rider', 'driver', 'service')", name="ck_trip_events_actor_role"),
        sa.UniqueConstraint("trip_id", "seq", name="uq_trip_events_trip_seq"),
    )
    op.create_table(
        "outbox",
        sa.Column(
            "event_id", sa.Integer(), sa.ForeignKey("trip_events.id", name="fk_outbox_event"), primary_key=True
        ),
        sa.Column("payload", sa.JSON(), nullable=False),
    )
    op.create_table(
        "leases",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("holder", sa.String(64), nullable=True),
        sa.Column("expires", UTCDateTime(), nullable=True),
    )
    op.execute(
        "INSERT INTO trip_events (trip_id, seq, status, actor_authid, actor_role, session_id, created) "
        "SELECT id, 1, status, NULL, 'service', NULL, updated FROM trips"
    )
    op.execute("INSERT INTO leases (name) VALUES ('outbox')")


def downgrade() -> None:
    op.drop_table("leases")
    op.drop_table("outbox")
    op.drop_table("trip_events")
    with op.batch_alter_table("trips") as batch:
        batch.drop_column("seq")
