"""Care team and family contacts through the CLI."""

from __future__ import annotations

import json

import pytest

from tests.conftest import assert_one_line_error


@pytest.fixture
def patients(cli):
    assert cli("patient", "add", "Jane Doe", "--mrn", "MRN-1").exit_code == 0
    assert cli("patient", "add", "Omar Haddad", "--mrn", "MRN-2").exit_code == 0
    return cli


def test_add_contact_with_every_field(patients, rows):
    run = patients(
        "contact",
        "add",
        "jane",
        "Ann Doe",
        "--role",
        "daughter",
        "--org",
        "family",
        "--phone",
        "555-0101",
        "--email",
        "ann@example.org",
        "--prefers",
        "text",
        "--consent",
        "--notes",
        "calls after 5pm",
    )
    assert run.exit_code == 0, run.stderr
    assert run.stdout.strip() == "Added contact #1 Ann Doe (daughter) for #1 Jane Doe (MRN MRN-1)."
    [stored] = rows("SELECT * FROM contact")
    assert stored["patient_id"] == 1
    assert stored["preferred_method"] == "text"
    assert stored["consent_to_share"] == 1
    assert stored["organization"] == "family"


def test_consent_defaults_to_no(patients, rows):
    assert patients("contact", "add", "omar", "Dr. Lee", "--role", "cardiologist").exit_code == 0
    assert rows("SELECT consent_to_share FROM contact") == [{"consent_to_share": 0}]


def test_list_all_or_one_patients_contacts(patients):
    patients("contact", "add", "jane", "Ann Doe", "--role", "daughter")
    patients("contact", "add", "omar", "Dr. Lee", "--role", "cardiologist", "--org", "Heart Clinic")
    everyone = json.loads(patients("contact", "list", "-f", "json").stdout)
    assert [(c["patient_name"], c["name"]) for c in everyone] == [
        ("Jane Doe", "Ann Doe"),
        ("Omar Haddad", "Dr. Lee"),
    ]
    just_omar = json.loads(patients("contact", "list", "omar", "-f", "json").stdout)
    assert [c["name"] for c in just_omar] == ["Dr. Lee"]
    table = patients("contact", "list").stdout
    assert "Heart Clinic" in table and "Ann Doe" in table


def test_edit_and_remove(patients, rows):
    patients("contact", "add", "jane", "Ann Doe", "--role", "daughter", "--consent")
    assert patients("contact", "edit", "1", "--phone", "555-0199", "--no-consent").exit_code == 0
    [stored] = rows("SELECT phone, consent_to_share FROM contact")
    assert stored == {"phone": "+15550199", "consent_to_share": 0}  # stored as E.164
    assert patients("contact", "edit", "ann", "--role", "").exit_code == 0
    assert rows("SELECT role FROM contact") == [{"role": None}]
    run = patients("contact", "remove", "1", "--yes")
    assert run.exit_code == 0 and "Removed contact #1 Ann Doe" in run.stdout
    assert rows("SELECT id FROM contact") == []


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (("contact", "add", "nobody", "Ann"), 1, "no patient matches"),
        (("contact", "add", "jane", ""), 1, "name must not be empty"),
        (("contact", "add", "jane", "Ann", "--prefers", "pigeon"), 1, "invalid contact method 'pigeon'"),
        (("contact", "edit", "99", "--phone", "1"), 1, "no contact #99"),
        (("contact", "edit", "1"), 2, "nothing to change"),
        (("contact", "remove", "1"), 2, "--yes"),
    ],
)
def test_bad_contact_input(patients, unchanged, args, code, fragment):
    patients("contact", "add", "jane", "Ann Doe")
    with unchanged():
        assert_one_line_error(patients(*args), code, fragment)


def test_same_named_contacts_are_told_apart_and_can_be_narrowed(cli, rows):
    cli("patient", "add", "Jane Doe")
    cli("patient", "add", "Omar Haddad")
    cli("contact", "add", "jane", "Ann Smith", "--role", "daughter")
    cli("contact", "add", "omar", "Ann Smith", "--role", "neighbour")
    assert_one_line_error(cli("contact", "remove", "ann", "--yes"), 1, "of Jane Doe", "of Omar Haddad")
    assert cli("contact", "remove", "ann", "--patient", "omar", "--yes").exit_code == 0
    assert rows("SELECT role FROM contact") == [{"role": "daughter"}]
    assert_one_line_error(cli("contact", "add", "jane", "Bo", "--email", "a@"), 1, "invalid email")
