"""The record declarations (carecoord.fields) agree with the schema, the records and the commands."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from sqlmodel import SQLModel

from carecoord import models  # noqa: F401  (registers the tables)
from carecoord.fields import CONTACT, DERIVED_KEYS, PATIENT, RecordSpec
from tests.conftest import Run, assert_one_line_error


@pytest.mark.parametrize("record", [PATIENT, CONTACT], ids=lambda r: r.noun)
def test_every_declared_field_is_a_column(record: RecordSpec) -> None:
    columns = SQLModel.metadata.tables[record.noun].columns
    declared = set(record.keys) - DERIVED_KEYS.get(record.noun, frozenset())
    assert declared <= set(columns.keys()), declared - set(columns.keys())
    # every column a person can see is declared (name_key is the search index's copy of the name)
    assert set(columns.keys()) - {"name_key"} <= set(record.keys)


@pytest.mark.parametrize(("command", "record"), [("patient", PATIENT), ("contact", CONTACT)])
def test_add_and_edit_offer_an_option_for_every_settable_field(
    cli: Callable[..., Run], command: str, record: RecordSpec
) -> None:
    add_help, edit_help = cli(command, "add", "--help").stdout, cli(command, "edit", "--help").stdout
    for spec in record.editable:
        assert spec.option is not None
        first = spec.option.split()[0].split("/")[0]
        assert first in edit_help, first
        if spec.key != "name":  # add takes the name as its argument
            assert first in add_help, first


def test_declared_options_set_check_and_clear_fields(cli: Callable[..., Run], unchanged: Callable[..., object]) -> None:
    added = cli(
        "patient", "add", "Jane Doe", "--dob", "03/02/1950", "--risk", "Medium", "--phone", "555-0100", "-f", "json"
    )
    assert added.exit_code == 0, added.stderr
    record = json.loads(added.stdout)
    assert (record["birth_date"], record["risk"], record["phone"]) == ("1950-03-02", "moderate", "555-0100")
    cleared = json.loads(cli("patient", "edit", "jane", "--risk", "", "--phone", "", "-f", "json").stdout)
    assert (cleared["risk"], cleared["phone"]) == (None, None)
    with unchanged():  # type: ignore[attr-defined]
        assert_one_line_error(cli("patient", "edit", "jane", "--email", "not-an-address"), 1, "invalid email address")
        assert_one_line_error(cli("contact", "add", "jane", "Ann", "--prefers", "pigeon"), 1, "contact method")
