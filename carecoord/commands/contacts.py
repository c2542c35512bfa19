"""``carecoord contact``: a patient's care team and family."""

from __future__ import annotations

from typing import Annotated

import typer

from carecoord import phones
from carecoord.commands._common import FormatOption, YesOption, confirm_or_refuse, new_app, store
from carecoord.commands._fields import FIELDS, FieldValues, field_options
from carecoord.fields import CONTACT
from carecoord.output import Column, confirm_change, render_list
from carecoord.vocab import OutputFormat

app = new_app("Care team and family contacts.\n\nExample: carecoord contact add 'Jane Doe' 'Ann Doe' --role daughter")

ContactArg = Annotated[str, typer.Argument(help="Contact id (see 'contact list'), or part of the name.")]
OfPatientOpt = Annotated[
    str | None, typer.Option("--patient", "-p", help="Look the contact up among this patient's contacts only.")
]
CONTACT_COLUMNS = (
    Column("id", "ID", no_wrap=True),
    Column("patient_name", "Patient"),
    Column("name", "Contact"),
    Column("role", "Role"),
    Column("organization", "Organization"),
    Column("phone", "Phone", no_wrap=True, show=phones.shown()),
    Column("preferred_method", "Prefers"),
    Column("consent_to_share", "Consent"),
)


@app.command("add")
@field_options(CONTACT, edit=False, skip=("name",))
def add(
    patient: Annotated[str, typer.Argument(help="Patient id, MRN, or an unambiguous part of the name.")],
    name: Annotated[str, typer.Argument(help="The contact's name.")],
    fields: FieldValues = FIELDS,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Add a care-team member or family contact to a patient.

    Example: carecoord contact add 12 'Ann Doe' --role daughter --phone 555-0101 --consent
    """
    from carecoord.records import contact_record
    from carecoord.services import contacts, patients

    with store(write=True) as session:
        owner = patients.resolve(session, patient)
        contact = contacts.add_contact(session, owner, **fields, name=name)
        record = contact_record(contact, owner)
    confirm_change(f"Added contact {contacts.describe(contact)} for {patients.describe(owner)}.", record, fmt)


@app.command("list")
def list_(
    patient: Annotated[str | None, typer.Argument(help="Only this patient's contacts.")] = None,
    search: Annotated[
        str | None,
        typer.Option(
            "--search",
            "-s",
            help="Text in the name, role, organization, email or notes, or a phone "
            "number typed any way, e.g. '617.555.0123'.",
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """List contacts, of one patient or of everyone.

    Example: carecoord contact list 'jane doe'
    Example: carecoord contact list --search '(617) 555-0199'
    """
    from carecoord.records import CONTACT_KEYS, contact_record
    from carecoord.services import contacts, patients

    with store(write=False) as session:
        owner = patients.resolve(session, patient) if patient is not None else None
        records = [contact_record(c) for c in contacts.list_contacts(session, owner, search)]
    render_list(
        records, CONTACT_COLUMNS, fmt, keys=CONTACT_KEYS, title=f"Contacts ({len(records)})", empty="No contacts."
    )


@app.command("edit")
@field_options(CONTACT, edit=True)
def edit(
    contact: ContactArg,
    patient: OfPatientOpt = None,
    fields: FieldValues = FIELDS,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Change a contact; pass an empty value (--phone '') to clear a field.

    Example: carecoord contact edit 4 --phone 555-0199 --no-consent
    """
    from carecoord.errors import UsageError
    from carecoord.records import contact_record
    from carecoord.services import contacts, patients

    if not fields:
        raise UsageError("nothing to change: give at least one option (see 'carecoord contact edit --help')")
    with store(write=True) as session:
        owner = patients.resolve(session, patient) if patient else None
        found = contacts.update_contact(session, contacts.resolve(session, contact, owner), fields)
        record = contact_record(found)
    confirm_change(f"Updated contact {contacts.describe(found)}.", record, fmt)


@app.command("remove")
def remove(contact: ContactArg, patient: OfPatientOpt = None, yes: YesOption = False) -> None:
    """Remove a contact from a patient's care team or family.

    Example: carecoord contact remove 4 --yes
    """
    from carecoord.services import contacts, patients

    with store(write=False) as session:  # ask before taking the write lock
        owner = patients.resolve(session, patient) if patient else None
        found = contacts.resolve(session, contact, owner)
        target, name = f"{found.id}", contacts.describe_with_patient(found)
    confirm_or_refuse(f"Remove contact {name}?", yes)
    with store(write=True) as session:
        contacts.remove_contact(session, contacts.resolve(session, target))
    print(f"Removed contact {name}.")
