"""Care team and family contacts of a patient."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from carecoord.errors import NotFoundError
from carecoord.fields import CONTACT
from carecoord.models import Contact, Patient
from carecoord.services import text
from carecoord.services.lookup import as_id, pick_one, require_ref


def validate_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Clean and check the fields a person set (see ``fields.CONTACT``); empty text clears a field."""
    return text.clean_fields(CONTACT, fields)


def add_contact(session: Session, patient: Patient, **fields: Any) -> Contact:
    """Add a care-team member or family contact to ``patient``."""
    values = validate_fields({"name": None, **fields})
    assert patient.id is not None
    contact = Contact(patient_id=patient.id, **values)
    session.add(contact)
    session.flush()
    return contact


def update_contact(session: Session, contact: Contact, fields: Mapping[str, Any]) -> Contact:
    """Change any fields of a contact; empty text clears a field."""
    for key, value in validate_fields(fields).items():
        setattr(contact, key, value)
    session.flush()
    return contact


def remove_contact(session: Session, contact: Contact) -> None:
    """Remove a contact (the audit trail keeps what it was)."""
    session.delete(contact)
    session.flush()


def describe(contact: Contact) -> str:
    """``#4 Ann Doe (daughter)``."""
    role = f" ({contact.role})" if contact.role else ""
    return f"#{contact.id} {contact.name}{role}"


def describe_with_patient(contact: Contact) -> str:
    """``#4 Ann Doe (daughter) of Jane Doe``: tells same-named contacts apart."""
    owner = f" of {contact.patient.name}" if contact.patient else ""
    return f"{describe(contact)}{owner}"


def resolve(session: Session, ref: str, patient: Patient | None = None) -> Contact:
    """A contact from its id, or an unambiguous part of its name (within ``patient`` if given)."""
    cleaned = require_ref(ref, "contact")
    contact_id = as_id(cleaned)
    if contact_id is not None:
        found = session.get(Contact, contact_id)
        if found is None or (patient is not None and found.patient_id != patient.id):
            raise NotFoundError(f"no contact #{contact_id}")
        return found
    query = select(Contact).order_by(col(Contact.id)).limit(50)
    for word in cleaned.replace(",", " ").split():
        query = query.where(col(Contact.name).icontains(word, autoescape=True))
    if patient is not None:
        query = query.where(Contact.patient_id == patient.id)
    return pick_one(cleaned, "contact", session.exec(query).all(), describe_with_patient)


def list_contacts(session: Session, patient: Patient | None = None, search: str | None = None) -> Sequence[Contact]:
    """Contacts of one patient, or of everyone (with their patient loaded), in one query; ``search``:
    text in the name, role, organization, email or notes, or a phone number typed any way."""
    from carecoord.services.patients import phone_matches

    query = select(Contact, Patient).join(Patient).order_by(col(Patient.name_key), col(Contact.id))
    if patient is not None:
        query = query.where(Contact.patient_id == patient.id)
    if search and search.strip():
        text = search.strip().lower()
        query = query.where(
            or_(
                *(func.lower(getattr(Contact, field)).contains(text, autoescape=True)
                  for field in ("name", "role", "organization", "phone", "email", "notes")),
                *phone_matches(col(Contact.phone), search),
            )
        )  # fmt: skip
    return [contact for contact, _patient in session.exec(query).all()]
