"""dispatch: pick-up locations, driver positions, offers, EXPIRED

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02

Trips already there have no pick-up location: they stay open to every driver, as before.
Outbox rows already there get the drivers' notices their backend would have published (to
every driver, for a request, an accept or a cancel), so the sweep publishes them as before.
"""

import sqlalchemy as sa
from alembic import op

from taxi_core.models import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

STATUSES_0002 = "status IN ('REQUESTED', 'STARTED', 'IN_PROGRESS', 'COMPLETED', 'CANCELED')"
STATUSES_0003 = "status IN ('REQUESTED', 'STARTED', 'IN_PROGRESS', 'COMPLETED', 'CANCELED', 'EXPIRED')"
BUSY = "status IN ('STARTED', 'IN_PROGRESS')"
TO_EVERY_DRIVER = '[{"eligible": null, "offer": null, "expires": null}]'


def upgrade() -> None:
    # Batch mode: SQLite changes a CHECK constraint only by making the table anew.
    with op.batch_alter_table("trips") as batch:
        batch.add_column(sa.Column("pick_up_lat", sa.Double(), nullable=True))
        batch.add_column(sa.Column("pick_up_lng", sa.Double(), nullable=True))
        batch.add_column(sa.Column("dispatch_round", sa.Integer(), nullable=False, server_default=sa.text("0")))
        batch.add_column(sa.Column("offered_count", sa.Integer(), nullable=False, server_default=sa.text("0")))
        batch.add_column(sa.Column("dispatch_radius_km", sa.Double(), nullable=True))
        batch.add_column(sa.Column("offering", sa.Boolean(), nullable=False, server_default=sa.text("false")))
        batch.add_column(sa.Column("next_dispatch_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("expires_at", UTCDateTime(), nullable=True))
        batch.drop_constraint("ck_trips_status", type_="check")
        batch.create_check_constraint("ck_trips_status", STATUSES_0003)
        batch.create_check_constraint("ck_trips_pick_up_location", "(pick_up_lat IS NULL) = (pick_up_lng IS NULL)")
    op.create_index("ix_trips_status_next_dispatch", "trips", ["status", "next_dispatch_at"])
    op.create_index(
        "ix_trips_busy_driver", "trips", ["driver_id"], sqlite_where=sa.text(BUSY), postgresql_where=sa.text(BUSY)
    )
    op.create_table(
        "driver_positions",
        sa.Column(
            "driver_id", sa.Integer(), sa.ForeignKey("users.id", name="fk_driver_positions_driver"), primary_key=True
        ),
        sa.Column("lat", sa.Double(), nullable=False),
        sa.Column("lng", sa.Double(), nullable=False),
        sa.Column("seen", UTCDateTime(), nullable=False),
        sa.Column("online", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_driver_positions_lat_lng", "driver_positions", ["lat", "lng"])
    op.create_table(
        "offers",
        sa.Column("trip_id", sa.Integer(), sa.ForeignKey("trips.id", name="fk_offers_trip"), primary_key=True),
        sa.Column("driver_id", sa.Integer(), sa.ForeignKey("users.id", name="fk_offers_driver"), primary_key=True),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("offered", UTCDateTime(), nullable=False),
        sa.Column("expires", UTCDateTime(), nullable=False),
    )
    op.add_column("outbox", sa.Column("notices", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
    op.execute(
        f"UPDATE outbox SET notices = '{TO_EVERY_DRIVER}' WHERE event_id IN "
        "(SELECT id FROM trip_events WHERE status IN ('REQUESTED', 'STARTED', 'CANCELED'))"
    )
    op.execute("INSERT INTO leases (name) VALUES ('dispatch')")


def downgrade() -> None:
    op.execute("DELETE FROM leases WHERE name = 'dispatch'")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("notices")
    op.drop_table("offers")
    op.drop_table("driver_positions")
    op.drop_index("ix_trips_busy_driver", "trips")
    op.drop_index("ix_trips_status_next_dispatch", "trips")
    # 0002 knows no EXPIRED: an expired request becomes what it is closest to there, a
    # request that ended without a ride (its log keeps the EXPIRED event).
    op.execute("UPDATE trips SET status = 'CANCELED' WHERE status = 'EXPIRED'")
    with op.batch_alter_table("trips") as batch:
        batch.drop_constraint("ck_trips_pick_up_location", type_="check")
        batch.drop_constraint("ck_trips_status", type_="check")
        batch.create_check_constraint("ck_trips_status", STATUSES_0002)
        for column in ("expires_at", "next_dispatch_at", "offering", "dispatch_radius_km", "offered_count",
                       "dispatch_round", "pick_up_lng", "pick_up_lat"):  # fmt: skip
            batch.drop_column(column)
