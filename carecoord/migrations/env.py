"""Alembic environment: runs on the connection carecoord hands over (see ``carecoord.db``).

For developers, ``alembic -c carecoord/migrations/alembic.ini revision --autogenerate -m ...``
also works against a scratch database given by ``sqlalchemy.url``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine
from sqlmodel import SQLModel

import carecoord.models  # noqa: F401  (registers the tables on SQLModel.metadata)

config = context.config
connection = config.attributes.get("connection")


def _run(conn: object) -> None:
    context.configure(
        connection=conn,  # type: ignore[arg-type]
        target_metadata=SQLModel.metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if connection is not None:
    _run(connection)
else:
    url = config.get_main_option("sqlalchemy.url") or "sqlite:///scratch.db"
    with create_engine(url).connect() as conn:
        _run(conn)
        conn.commit()
