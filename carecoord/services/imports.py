"""Bulk import from spreadsheets: headers matched to fields, every row checked before anything is
written, duplicates found by MRN or by name and date of birth, all or nothing."""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from carecoord.dates import parse_date, today
from carecoord.errors import CarecoordError, ValidationError
from carecoord.models import Contact, Patient
from carecoord.services import contacts as contact_service
from carecoord.services import patients as patient_service
from carecoord.services.lookup import search_key
from carecoord.services.tags import join_tags
from carecoord.vocab import RISK_SYNONYMS, PatientStatus, RiskLevel

SKIP = "-"  # --map 'Column=-' leaves a column out
MAX_REPORTED_ERRORS = 20
DUPLICATE_POLICIES = ("error", "skip", "update")

# Header (normalised) -> field. Our own CSV export's keys are included, so exports import back.
PATIENT_HEADERS: dict[str, str] = {
    **{h: "name" for h in ("name", "patient name", "patient", "full name", "client name")},
    **{h: "first_name" for h in ("first name", "firstname", "given name")},
    **{h: "last_name" for h in ("last name", "lastname", "surname", "family name")},
    **{h: "birth_date" for h in ("birth date", "dob", "date of birth", "birthdate", "d o b")},
    **{h: "mrn" for h in ("mrn", "mrn #", "mrn no", "medical record number", "medical record", "record number")},
    **{h: "phone" for h in ("phone", "phone number", "telephone", "tel", "mobile", "cell", "phone #")},
    **{h: "email" for h in ("email", "e mail", "email address")},
    **{h: "address" for h in ("address", "home address", "street address")},
    **{h: "language" for h in ("language", "preferred language", "primary language")},
    **{h: "payer" for h in ("payer", "insurance", "insurer", "insurance plan", "plan", "health plan")},
    **{h: "member_id" for h in ("member id", "member #", "insurance id", "subscriber id", "policy number")},
    **{h: "auth_expires" for h in ("auth expires", "authorization expires", "authorization end")},
    **{h: "pcp" for h in ("pcp", "primary care provider", "primary care physician", "primary care", "doctor")},
    **{h: "risk" for h in ("risk", "risk level", "risk tier", "acuity")},
    **{h: "tags" for h in ("tags", "tag", "labels")},
    **{h: "notes" for h in ("notes", "note", "comments", "comment")},
    **{h: "status" for h in ("status",)},
    **{h: "enrolled_on" for h in ("enrolled on", "enrolled", "enrollment date", "enrolment date")},
    **{h: "discharged_on" for h in ("discharged on", "discharge date")},
    **{h: "discharge_reason" for h in ("discharge reason",)},
    **{h: "uid" for h in ("uid",)},
    **{h: SKIP for h in ("id", "created at", "updated at", "error", "import error")},
    # An export's coordinator: imported patients are the importing person's ('patient assign' hands over).
    "coordinator": SKIP,
}
CONTACT_HEADERS: dict[str, str] = {
    **{h: "patient" for h in ("patient", "patient id", "patient mrn", "mrn")},
    **{h: "patient_name" for h in ("patient name", "client", "client name")},
    **{h: "name" for h in ("name", "contact", "contact name", "full name")},
    **{h: "role" for h in ("role", "relationship", "relation")},
    **{h: "organization" for h in ("organization", "organisation", "org", "agency", "practice")},
    **{h: "phone" for h in ("phone", "phone number", "telephone", "mobile", "cell")},
    **{h: "email" for h in ("email", "e mail", "email address")},
    **{h: "preferred_method" for h in ("preferred method", "prefers", "contact method", "preferred contact")},
    **{h: "consent_to_share" for h in ("consent", "consent to share", "consented", "roi", "release of information")},
    **{h: "notes" for h in ("notes", "note", "comments")},
    **{h: SKIP for h in ("id", "uid", "created at", "updated at", "error", "import error")},
}
# The codes and their synonyms ('medium') as everywhere, and spreadsheet shorthand accepted in imports only.
RISK_WORDS = {
    **{level.value: level.value for level in RiskLevel}, **RISK_SYNONYMS,
    "lo": "low", "l": "low", "1": "low",
    "mod": "moderate", "m": "moderate", "2": "moderate",
    "hi": "high", "h": "high", "3": "high",
}  # fmt: skip
YES = frozenset({"yes", "y", "true", "t", "1", "x"})
NO = frozenset({"no", "n", "false", "f", "0", ""})


class ImportError_(CarecoordError):
    """Rows that cannot be imported; ``errors`` holds one message per problem, with its line."""

    def __init__(self, errors: Sequence[str], total: int) -> None:
        shown = list(errors[:MAX_REPORTED_ERRORS])
        more = f" (the first {len(shown)} listed)" if len(errors) > len(shown) else ""
        valid = total - len(errors)
        rows = "the valid row" if valid == 1 else f"the {valid} valid rows"
        hint = f" (--skip-invalid imports {rows})" if valid > 0 else ""
        problems = "1 problem" if len(errors) == 1 else f"{len(errors)} problems"
        super().__init__(f"{problems} in {total} row{'' if total == 1 else 's'}{more}; nothing was imported{hint}")
        self.errors = shown


def normalise_header(header: str) -> str:
    """``  Date of Birth `` -> ``date of birth``; ``MRN #`` -> ``mrn #``."""
    return " ".join(re.sub(r"[_\-./]+", " ", header.strip().lower()).split())


# --- reading the file ---------------------------------------------------------------------------


@dataclass
class Sheet:
    """A CSV file read whole: its header and its rows with their line numbers."""

    header: list[str]
    rows: list[tuple[int, list[str]]]


def read_sheet(path: Path, *, encoding: str = "utf-8-sig") -> Sheet:
    """Read a CSV file; a wrong encoding, an empty file or ragged rows are clear errors."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ValidationError(f"cannot read {path}: {error.strerror or error}") from None
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise ValidationError(
            f"--encoding '{encoding}' is not a text encoding this computer knows (e.g. utf-8, cp1252, latin-1)"
        ) from None
    try:
        content = raw.decode(encoding)
    except (UnicodeDecodeError, LookupError) as error:
        where = ""
        if isinstance(error, UnicodeDecodeError):
            line = raw[: error.start].count(b"\n") + 1
            where = f" (line {line})"
        raise ValidationError(
            f"{path} is not {encoding} text{where}: save it as 'CSV UTF-8', or give --encoding (e.g. cp1252)"
        ) from None
    content = content.lstrip("\ufeff")
    if not content.strip():
        raise ValidationError(f"{path} is empty")
    try:
        dialect: Any = csv.Sniffer().sniff(content[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(content), dialect)
    try:
        records = [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
    except csv.Error as error:
        raise ValidationError(f"{path} is not valid CSV (line {reader.line_num}): {error}") from None
    if not records:
        raise ValidationError(f"{path} is empty")
    (_, header), body = records[0], records[1:]
    ragged = [line for line, row in body if len(row) > len(header)]
    if ragged:
        lines = ", ".join(str(n) for n in ragged[:10])
        which = f"line {lines} has" if len(ragged) == 1 else f"lines {lines} have"
        raise ValidationError(f"{path}: {which} more cells than the header has columns")
    return Sheet(header, [(line, row + [""] * (len(header) - len(row))) for line, row in body])


def column_fields(
    header: Sequence[str], mapping: Mapping[str, str], known: Mapping[str, str], fields: Sequence[str]
) -> list[str]:
    """Which field each column fills (``-`` for none); unknown columns are an error."""
    given = {normalise_header(column): target for column, target in mapping.items()}
    bad_targets = sorted({t for t in given.values() if t != SKIP and t not in fields})
    if bad_targets:
        which = "an unknown field" if len(bad_targets) == 1 else "unknown fields"
        raise ValidationError(f"--map names {which} {', '.join(bad_targets)}; fields: {', '.join(fields)}")
    chosen = []
    unknown = []
    for column in header:
        key = normalise_header(column)
        target = given.get(key) or known.get(key)
        if target is None:
            unknown.append(column)
        chosen.append(target or SKIP)
    if unknown:
        names = ", ".join(f"'{c}'" for c in unknown)
        which = "unknown column" if len(unknown) == 1 else "unknown columns"
        raise ValidationError(f"{which} {names}: add --map 'COLUMN=FIELD' (or 'COLUMN=-' to leave one out)")
    used = [f for f in chosen if f != SKIP]
    twice = sorted({f for f in used if used.count(f) > 1})
    if twice:
        raise ValidationError(f"several columns fill {', '.join(twice)}; leave one out with --map 'COLUMN=-'")
    return chosen


# --- patients -----------------------------------------------------------------------------------

PATIENT_FIELDS = (
    "name", "first_name", "last_name", "birth_date", "mrn", "phone", "email", "address", "language", "payer",
    "member_id", "auth_expires", "pcp", "risk", "tags", "notes", "status", "enrolled_on", "discharged_on",
    "discharge_reason", "uid",
)  # fmt: skip


def flip_name(name: str) -> str:
    """``Doe, Jane`` -> ``Jane Doe`` (only for exactly one comma with words on both sides)."""
    last, comma, first = name.partition(",")
    if comma and "," not in first and last.strip() and first.strip():
        return f"{first.strip()} {last.strip()}"
    return name


def _risk(value: str) -> str | None:
    word = value.strip().lower()
    if not word:
        return None
    if word not in RISK_WORDS:
        raise ValidationError(f"risk '{value}' is not low, moderate or high")
    return RISK_WORDS[word]


def _date(value: str, what: str) -> date | None:
    if not value.strip():
        return None
    try:
        return parse_date(value)
    except ValidationError:
        raise ValidationError(f"{what} '{value}' is not a date (use YYYY-MM-DD or MM/DD/YYYY)") from None


@dataclass
class PatientRow:
    """One row, checked and ready to store."""

    line: int
    values: dict[str, Any]
    tags: list[str]
    extra: dict[str, Any] = field(default_factory=dict)  # status, dates, uid: not editable fields


def _raw_phone(values: dict[str, Any], raw_phone: bool) -> None:
    """With ``raw_phone``, a phone number that cannot be read is kept as typed instead of refused."""
    if raw_phone and values.get("phone"):
        from carecoord.phones import lenient

        values["phone"] = lenient(values["phone"])


def parse_patient_row(line: int, cells: Mapping[str, str], *, flip_names: bool, raw_phone: bool = False) -> PatientRow:
    """Check one row with the same rules as 'patient add'."""
    name = cells.get("name", "").strip()
    if not name and (cells.get("first_name") or cells.get("last_name")):
        name = f"{cells.get('first_name', '').strip()} {cells.get('last_name', '').strip()}".strip()
    if flip_names:
        name = flip_name(name)
    raw: dict[str, Any] = {
        "name": name,
        **{key: cells[key] for key in ("mrn", "phone", "email", "address", "language", "payer", "member_id", "pcp",
                                        "notes") if key in cells},
    }  # fmt: skip
    if "birth_date" in cells:
        raw["birth_date"] = _date(cells["birth_date"], "date of birth")
    if "auth_expires" in cells:
        raw["auth_expires"] = _date(cells["auth_expires"], "authorization end")
    if "risk" in cells:
        raw["risk"] = _risk(cells["risk"])
    _raw_phone(raw, raw_phone)
    values = patient_service.validate_fields(raw)
    extra: dict[str, Any] = {}
    if cells.get("enrolled_on", "").strip():
        enrolled = _date(cells["enrolled_on"], "enrolment date")
        if enrolled and enrolled > today():
            raise ValidationError(f"the enrolment date {enrolled} is in the future")
    status = cells.get("status", "").strip().lower()
    if status:
        if status not in {s.value for s in PatientStatus}:
            raise ValidationError(f"status '{cells['status']}' is not active, on-hold or discharged")
        extra["status"] = status
        extra["enrolled_on"] = enrolled
    if cells.get("discharged_on", "").strip():
        extra["discharged_on"] = _date(cells["discharged_on"], "discharge date")
    if cells.get("discharge_reason", "").strip():
        extra["discharge_reason"] = cells["discharge_reason"].strip()
    if cells.get("uid", "").strip():
        extra["uid"] = cells["uid"].strip()
    tags = [t for t in re.split(r"[;,]", cells.get("tags", "")) if t.strip()]
    join_tags(tags)  # checks them
    return PatientRow(line, values, tags, extra)


@dataclass(frozen=True)
class Rejected:
    """A row left out by ``skip_invalid``: its line, its cells as read, and why."""

    line: int
    cells: list[str]
    reason: str


@dataclass
class ImportResult:
    """What an import did (or, for a dry run, would do)."""

    created: int = 0
    updated: int = 0
    skipped: int = 0
    flippable_names: int = 0
    rejected: list[Rejected] = field(default_factory=list)


def _settle(errors: dict[int, str], sheet: Sheet, result: ImportResult, *, skip_invalid: bool) -> None:
    """All or nothing: an invalid row stops the import, every problem listed; with ``skip_invalid``
    the invalid rows are set aside in ``result.rejected`` and the others go ahead."""
    if errors and not skip_invalid:
        raise ImportError_([f"line {line}: {reason}" for line, reason in errors.items()], len(sheet.rows))
    result.rejected = [Rejected(line, cells, errors[line]) for line, cells in sheet.rows if line in errors]


def rejects_csv(sheet: Sheet, rejected: Sequence[Rejected]) -> bytes:
    """The rejected rows as CSV (UTF-8 with a byte-order mark, as spreadsheets like it): the file's
    own header and cells, and the reason in a last column, which an import leaves out, so the file
    can be corrected and imported as it is."""
    taken = {normalise_header(column) for column in sheet.header}
    reason_column = "error" if "error" not in taken else "import error"
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([*sheet.header, reason_column])
    for row in rejected:
        writer.writerow([*row.cells, row.reason])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _stored_as(
    by_mrn: Mapping[str, Patient],
    by_name_dob: Mapping[tuple[str, date | None], Patient],
    mrn: str,
    key: tuple[str, date | None] | None,
) -> Patient | None:
    """The stored patient a row is: the one with its MRN, else the one with its name and date of
    birth, unless both have an MRN and they differ (then they are two people)."""
    if mrn and mrn in by_mrn:
        return by_mrn[mrn]
    candidate = by_name_dob.get(key) if key else None
    if candidate is not None and mrn and candidate.mrn:
        return None
    return candidate


def import_patients(
    session: Session,
    sheet: Sheet,
    *,
    mapping: Mapping[str, str],
    on_duplicate: str = "error",
    flip_names: bool = False,
    dry_run: bool = False,
    skip_invalid: bool = False,
    progress: Callable[[int], None] | None = None,
    raw_phone: bool = False,
) -> ImportResult:
    """Check every row, then write them all in this transaction (or raise and write nothing; with
    ``skip_invalid``, write the valid ones and return the others). A dry run checks and counts,
    and writes nothing."""
    chosen = column_fields(sheet.header, mapping, PATIENT_HEADERS, PATIENT_FIELDS)
    if not {"name", "first_name", "last_name"} & set(chosen):
        raise ValidationError("no column holds the patient's name (e.g. 'Patient Name'); use --map 'COLUMN=name'")
    by_mrn = {p.mrn.casefold(): p for p in session.exec(select(Patient).where(col(Patient.mrn).is_not(None))).all()
              if p.mrn}  # fmt: skip
    by_name_dob = {
        key: p for p in session.exec(select(Patient).where(col(Patient.birth_date).is_not(None))).all()
        if (key := patient_service.identity_key(p.name, p.birth_date))
    }  # fmt: skip
    errors: dict[int, str] = {}
    seen_mrn: dict[str, int] = {}
    seen_key: dict[tuple[str, date | None], int] = {}
    plan: list[tuple[PatientRow, Patient | None]] = []
    result = ImportResult()
    for line, cells in sheet.rows:
        values = {target: cell for target, cell in zip(chosen, cells, strict=True) if target != SKIP}
        try:
            row = parse_patient_row(line, values, flip_names=flip_names, raw_phone=raw_phone)
        except CarecoordError as error:
            errors[line] = error.message
            continue
        if not flip_names and flip_name(row.values["name"]) != row.values["name"]:
            result.flippable_names += 1
        mrn = (row.values.get("mrn") or "").casefold()
        key = patient_service.identity_key(row.values["name"], row.values.get("birth_date"))
        if mrn and mrn in seen_mrn:
            errors[line] = f"MRN {row.values['mrn']} is also on line {seen_mrn[mrn]}"
            continue
        if key and key in seen_key and not mrn:
            errors[line] = f"same name and date of birth as line {seen_key[key]}"
            continue
        if mrn:
            seen_mrn[mrn] = line
        if key:
            seen_key[key] = line
        existing = _stored_as(by_mrn, by_name_dob, mrn, key)
        if existing is not None and on_duplicate == "error":
            errors[line] = (f"already stored as {patient_service.describe(existing)} "
                            "(choose --on-duplicate skip or update)")  # fmt: skip
            continue
        plan.append((row, existing))
    _settle(errors, sheet, result, skip_invalid=skip_invalid)
    taken_uids = set(session.exec(select(Patient.uid)).all()) if "uid" in chosen else set()
    insured: list[tuple[Patient, Mapping[str, Any]]] = []
    for done, (row, existing) in enumerate(plan, 1):
        if dry_run:
            result.created += existing is None
            result.updated += existing is not None and on_duplicate == "update"
            result.skipped += existing is not None and on_duplicate == "skip"
        elif existing is None:
            insured.append((_create_patient(session, row, taken_uids), row.values))
            result.created += 1
        elif on_duplicate == "update":
            patient_service.update_patient(session, existing, row.values, add_tags=row.tags)
            result.updated += 1
        else:
            result.skipped += 1
        if progress is not None:
            progress(done)
    session.flush()
    from carecoord.services import coverage

    # payer, member id and authorization end: a primary coverage and an authorization (0011), once
    # the new patients have their ids
    coverage.insure_new_patients(session, insured)
    return result


def _create_patient(session: Session, row: PatientRow, taken_uids: set[str]) -> Patient:
    from carecoord.services import coverage

    extra = row.extra
    own, _insurance = coverage.split_patient_fields(row.values)
    patient = Patient(
        name=row.values["name"],
        name_key=search_key(row.values["name"]),
        enrolled_on=extra.get("enrolled_on") or today(),
        tags=join_tags(row.tags),
        status=extra.get("status", PatientStatus.active.value),
        discharged_on=extra.get("discharged_on"),
        discharge_reason=extra.get("discharge_reason"),
        **{k: v for k, v in own.items() if k != "name"},
    )
    if "uid" in extra and extra["uid"] not in taken_uids:  # an export's stable id survives the round trip
        patient.uid = extra["uid"]
        taken_uids.add(patient.uid)
    session.add(patient)
    return patient


# --- contacts -----------------------------------------------------------------------------------

CONTACT_FIELDS = ("patient", "patient_name", "name", "role", "organization", "phone", "email", "preferred_method",
                  "consent_to_share", "notes")  # fmt: skip


def _yes_no(value: str) -> bool:
    word = value.strip().lower()
    if word in YES:
        return True
    if word in NO:
        return False
    raise ValidationError(f"consent '{value}' is not yes or no")


def import_contacts(
    session: Session,
    sheet: Sheet,
    *,
    mapping: Mapping[str, str],
    on_duplicate: str = "error",
    dry_run: bool = False,
    skip_invalid: bool = False,
    progress: Callable[[int], None] | None = None,
    raw_phone: bool = False,
) -> ImportResult:
    """Contacts for existing patients (by id, MRN or name); all rows checked first, all or nothing
    (or, with ``skip_invalid``, the valid rows, the others returned)."""
    chosen = column_fields(sheet.header, mapping, CONTACT_HEADERS, CONTACT_FIELDS)
    if "patient" not in chosen and "patient_name" not in chosen:
        raise ValidationError("no column names the patient (id, MRN or name); use --map 'COLUMN=patient'")
    if "name" not in chosen:
        raise ValidationError("no column holds the contact's name; use --map 'COLUMN=name'")
    errors: dict[int, str] = {}
    plan: list[tuple[Patient, dict[str, Any], Contact | None]] = []
    seen: dict[tuple[int, str], int] = {}
    for line, cells in sheet.rows:
        values: dict[str, Any] = {target: cell for target, cell in zip(chosen, cells, strict=True) if target != SKIP}
        try:
            by_name = values.pop("patient_name", "")
            owner = patient_service.resolve(session, values.pop("patient", "") or by_name)
            if "consent_to_share" in values:
                values["consent_to_share"] = _yes_no(values["consent_to_share"])
            _raw_phone(values, raw_phone)
            checked = contact_service.validate_fields({"name": None, **values})
        except CarecoordError as error:
            errors[line] = error.message
            continue
        assert owner.id is not None
        key = (owner.id, checked["name"].casefold())
        if key in seen:
            errors[line] = f"the same contact as line {seen[key]}"
            continue
        seen[key] = line
        existing = session.exec(
            select(Contact).where(Contact.patient_id == owner.id, col(Contact.name).ilike(checked["name"]))
        ).first()
        if existing is not None and on_duplicate == "error":
            errors[line] = (f"{contact_service.describe(existing)} is already a contact of "
                            f"{patient_service.describe(owner)} (choose --on-duplicate skip or update)")  # fmt: skip
            continue
        plan.append((owner, checked, existing))
    result = ImportResult()
    _settle(errors, sheet, result, skip_invalid=skip_invalid)
    for done, (owner, checked, existing) in enumerate(plan, 1):
        if dry_run:
            result.created += existing is None
            result.updated += existing is not None and on_duplicate == "update"
            result.skipped += existing is not None and on_duplicate == "skip"
        elif existing is None:
            contact_service.add_contact(session, owner, **checked)
            result.created += 1
        elif on_duplicate == "update":
            contact_service.update_contact(session, existing, checked)
            result.updated += 1
        else:
            result.skipped += 1
        if progress is not None:
            progress(done)
    return result
