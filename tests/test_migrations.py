"""Migrations build the schema from nothing, agree with the models, and undo cleanly."""

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from portal import create_app
from portal.extensions import db
from tests.conftest import config_for, fresh_database


@pytest.fixture
def empty_app(backend, tmp_path):
    with fresh_database(backend, tmp_path) as url:
        app = create_app(config_for(url))
        yield app
        with app.app_context():
            db.engine.dispose()


def test_upgrade_from_empty_matches_the_models_and_downgrades(empty_app):
    runner = empty_app.test_cli_runner()
    with empty_app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert set(db.metadata.tables) <= tables
        result = runner.invoke(args=["db", "check"])
        assert result.exit_code == 0, result.output
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) == {"alembic_version"}
        upgrade()
        assert set(db.metadata.tables) <= set(inspect(db.engine).get_table_names())
