from alembic import context
from sqlalchemy import create_engine

from taxi_core.db import engine_url
from taxi_core.models import Base

config = context.config


def run_migrations_online() -> None:
    engine = create_engine(engine_url(config.get_main_option("sqlalchemy.url")))
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
