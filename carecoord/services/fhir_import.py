"""Import a FHIR R4 file: a Bundle (transaction, batch, collection, searchset or document) or NDJSON.

The file is read whole and checked before anything is stored: every reference that an imported
resource makes to a resource type carecoord imports must point at a resource in the file (a
reference to something carecoord does not import, such as a Practitioner, an Organization or an
Encounter, or a conditional reference such as ``Practitioner?identifier=...``, is fine). Then the
resources are handed, type by type in a fixed order (:func:`handlers`), to their handler, which
creates, updates or leaves alone the record it maps to and says which (:data:`Outcome`). A handler
that finds a resource it cannot take raises :class:`~carecoord.errors.ValidationError` naming it
("Appointment/abc: no start"), and the caller's transaction stores nothing. Importing the same file
twice finds every record again: every outcome the second time is "unchanged".

Reference resolution in a Bundle follows https://hl7.org/fhir/R4/bundle.html#references (fullUrl,
then ``Type/id`` against the entries); NDJSON resources refer to each other as ``Type/id``.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from sqlmodel import Session, SQLModel, select

from carecoord.errors import ValidationError
from carecoord.fhir import uid_for
from carecoord.fhir.elements import record_uid
from carecoord.models import Patient

Outcome = Literal["created", "updated", "unchanged", "skipped"]
OUTCOMES: tuple[Outcome, ...] = ("created", "updated", "unchanged", "skipped")
Handler = Callable[[Session, dict[str, Any], "ImportContext"], Outcome]
M = TypeVar("M", bound=SQLModel)

# Records that meet (or no longer meet) a transition's follow-ups: log entries, visits, discharges.
FOLLOW_UP_EVIDENCE = frozenset({"Communication", "Appointment", "EpisodeOfCare"})
BUNDLE_TYPES = ("transaction", "batch", "collection", "searchset", "document")
_RELATIVE = re.compile(r"^([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(/_history/.*)?$")
_ABSOLUTE = re.compile(r"^https?://.*/([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(/_history/.*)?$")
_CONDITIONAL = re.compile(r"^([A-Z][A-Za-z]+)\?")


def handlers() -> dict[str, Handler]:
    """Every resource type carecoord imports, with its handler, in the order they are handled.

    fhir-care and fhir-nav: add your handlers on the marked lines (one line each, so that branches
    adding to this dict merge cleanly); they run after the patients, contacts, coverage and
    appointments, and before the Conditions (which add needs to a patient's plan).
    """
    from carecoord.services import fhir_appointments, fhir_care, fhir_navigation, fhir_patients

    return {
        **fhir_patients.IMPORT_HANDLERS,
        **fhir_appointments.IMPORT_HANDLERS,
        # fhir-care: its handlers below this line
        **fhir_care.IMPORT_HANDLERS,
        # fhir-care: its handlers above this line
        #
        # fhir-nav: its handlers below this line
        **fhir_navigation.import_handlers(),  # after fhir-care's: chains the shared Task and EpisodeOfCare
        # fhir-nav: its handlers above this line
        **fhir_patients.LAST_IMPORT_HANDLERS,
    }


# --- reading ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """A resource of the file, with the key it is known by (``Type/id``, or its fullUrl)."""

    resource: dict[str, Any]
    key: str
    full_url: str | None


def read_file(path: Path) -> list[Entry]:
    """The resources of a Bundle, a single resource, or NDJSON; anything else is a one-line error."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ValidationError(f"cannot read {path}: {error.strerror or error}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError(f"{path} is not JSON: it is not UTF-8 text") from None
    del raw  # a whole caseload's file is tens of MB: not held twice while it is parsed
    if not text.strip():
        raise ValidationError(f"{path} is empty")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        return _ndjson(path, text, error)
    if not isinstance(document, dict) or not isinstance(document.get("resourceType"), str):
        raise ValidationError(f"{path} is JSON but not a FHIR resource (no resourceType)")
    if document["resourceType"] != "Bundle":
        return [_entry(document, None)]
    kind = document.get("type")
    if kind not in BUNDLE_TYPES:
        raise ValidationError(
            f"{path}: a Bundle of type '{kind}' is not imported; give one of {', '.join(BUNDLE_TYPES)}"
        )
    found = []
    for entry in document.get("entry") or ():
        if not isinstance(entry, dict) or not isinstance(entry.get("resource"), dict):
            continue
        if (entry.get("request") or {}).get("method") == "DELETE" or (entry.get("search") or {}).get(
            "mode"
        ) == "outcome":
            continue
        resource = entry["resource"]
        if not isinstance(resource.get("resourceType"), str):
            raise ValidationError(f"{path}: an entry's resource has no resourceType")
        found.append(_entry(resource, entry.get("fullUrl") if isinstance(entry.get("fullUrl"), str) else None))
    return found


def _ndjson(path: Path, text: str, first_error: json.JSONDecodeError) -> list[Entry]:
    """NDJSON: one resource per line. Anything else was not JSON at all."""
    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    if len(lines) < 2:
        raise ValidationError(f"{path} is not JSON (line {first_error.lineno}: {first_error.msg})")
    found = []
    for number, line in lines:
        try:
            resource = json.loads(line)
        except json.JSONDecodeError as error:
            raise ValidationError(f"{path} is not JSON or NDJSON (line {number}: {error.msg})") from None
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            raise ValidationError(f"{path}: line {number} is not a FHIR resource (no resourceType)")
        found.append(_entry(resource, None))
    return found


def _entry(resource: dict[str, Any], full_url: str | None) -> Entry:
    kind = resource["resourceType"]
    rid = resource.get("id")
    key = f"{kind}/{rid}" if isinstance(rid, str) and rid else (full_url or f"{kind}/#{id(resource)}")
    return Entry(resource, key, full_url)


# --- references -------------------------------------------------------------------------------------


def reference_text(ref: Any) -> str | None:
    """The ``reference`` string of a Reference (or the string itself)."""
    if isinstance(ref, Mapping):
        ref = ref.get("reference")
    return ref if isinstance(ref, str) and ref.strip() else None


def referenced_type(ref: Any) -> str | None:
    """The resource type a reference names, when it says (``Patient/1``, ``Patient?...``, Reference.type)."""
    text = reference_text(ref)
    if text is None:
        return None
    for pattern in (_RELATIVE, _ABSOLUTE, _CONDITIONAL):
        match = pattern.match(text)
        if match:
            return match.group(1)
    if isinstance(ref, Mapping) and isinstance(ref.get("type"), str):
        return str(ref["type"])
    return None


def _references(element: Any) -> Iterator[Any]:
    """Every Reference inside a resource (contained resources left out: they resolve inside it)."""
    if isinstance(element, Mapping):
        if isinstance(element.get("reference"), str):
            yield element
        for key, value in element.items():
            if key != "contained":
                yield from _references(value)
    elif isinstance(element, list):
        for item in element:
            yield from _references(item)


class ImportContext:
    """What a handler needs beyond its resource: the file's other resources, the records already
    imported in this run, and the options of the import."""

    def __init__(self, session: Session, entries: list[Entry], options: Mapping[str, Any]) -> None:
        self.session = session
        self.options = dict(options)
        self.state: dict[str, Any] = {}  # handlers' own working data (e.g. a series' occurrences)
        # working data for the resource type being handled (e.g. its stored records by uid): dropped
        # once that type's records are flushed, so a caseload's records are not all held at once
        self.type_state: dict[str, Any] = {}
        self._entries = entries
        self._by_key: dict[str, Entry] = {}
        self._keys: dict[int, str] = {}
        for entry in entries:
            self._keys[id(entry.resource)] = entry.key
            self._by_key.setdefault(entry.key, entry)
            if entry.full_url:
                self._by_key.setdefault(entry.full_url, entry)
        # The records resources became: held until their type is flushed, then known by model and id
        # (settle), so that a whole caseload's records are not all kept in memory at once.
        self._records: dict[str, Any] = {}
        self._settled: dict[str, tuple[type[SQLModel], int]] = {}
        self._created: dict[int, Any] = {}  # id() -> record, of the records this run created (unsettled)
        self._created_settled: set[tuple[type[SQLModel], int]] = set()
        self._identifiers: dict[tuple[str, str], list[tuple[Any, dict[str, Any]]]] | None = None

    def key(self, resource: Mapping[str, Any]) -> str:
        """How a resource is named in messages: ``Patient/abc``."""
        return self._keys.get(id(resource)) or f"{resource.get('resourceType')}/{resource.get('id')}"

    def resources(self, resource_type: str) -> list[dict[str, Any]]:
        """The file's resources of one type, in file order."""
        return [e.resource for e in self._entries if e.resource["resourceType"] == resource_type]

    def target(self, ref: Any) -> dict[str, Any] | None:
        """The resource of the file a reference points at, or None."""
        text = reference_text(ref)
        if text is None or text.startswith("#"):
            return None
        found = self._by_key.get(text)
        if found is None:
            match = _RELATIVE.match(text) or _ABSOLUTE.match(text)
            if match:
                found = self._by_key.get(f"{match.group(1)}/{match.group(2)}")
        if found is None and _CONDITIONAL.match(text):
            return self._by_identifier(text)
        return found.resource if found is not None else None

    def _by_identifier(self, text: str) -> dict[str, Any] | None:
        """The file's resource a conditional reference ``Type?identifier=[system|]value`` names, if exactly one."""
        kind, _, query = text.partition("?")
        wanted = [v for k, _, v in (p.partition("=") for p in query.split("&")) if k == "identifier"]
        if len(wanted) != 1:
            return None
        system, bar, value = wanted[0].rpartition("|")
        if self._identifiers is None:  # indexed on first use: (type, value) -> (system, resource)
            self._identifiers = {}
            for entry in self._entries:
                for found in entry.resource.get("identifier") or ():
                    if isinstance(found, Mapping) and isinstance(found.get("value"), str):
                        key = (entry.resource["resourceType"], found["value"])
                        self._identifiers.setdefault(key, []).append((found.get("system"), entry.resource))
        matches = {
            id(resource): resource
            for found_system, resource in self._identifiers.get((kind, value), ())
            if not bar or found_system == system
        }
        return next(iter(matches.values())) if len(matches) == 1 else None

    def uid(self, resource: Mapping[str, Any]) -> str:
        """The uid a record made from this resource gets: the carecoord identifier it carries, else
        its id (a UUID as it is, another id as a name-based UUID: the same every time)."""
        carried = record_uid(resource)
        if carried:
            return carried
        rid = resource.get("id")
        if isinstance(rid, str) and rid:
            return uid_for(str(resource["resourceType"]), rid)
        key = self.key(resource)  # no id: a transaction's new resource, known by its fullUrl
        return uid_for(str(resource["resourceType"]), key.removeprefix("urn:uuid:"))

    def remember(self, resource: Mapping[str, Any], record: Any) -> None:
        """The record this resource became (references to it resolve to the record)."""
        self._records[self.key(resource)] = record

    def noted(self, resource: Mapping[str, Any], outcome: Outcome) -> None:
        """What the handler did with ``resource`` (the plumbing calls this after each one)."""
        record = self.recall(resource)
        if outcome == "created" and record is not None:
            self._created[id(record)] = record

    def came_with(self, record: Any) -> Outcome:
        """The outcome of a resource that only repeats what its record holds (a screening's
        Observation, a referral's Consent): created with the record in this run, else unchanged."""
        created = id(record) in self._created or (type(record), record.id) in self._created_settled
        return "created" if created else "unchanged"

    def recall(self, resource: Mapping[str, Any]) -> Any:
        """The record a resource of the file became in this run, if it was handled already."""
        key = self.key(resource)
        record = self._records.get(key)
        if record is None and key in self._settled:
            model, record_id = self._settled[key]
            record = self.session.get(model, record_id)
        return record

    def settle(self) -> None:
        """After a flush: remember this run's records by model and id rather than holding them."""
        for key, record in self._records.items():
            self._settled[key] = (type(record), record.id)
        self._created_settled.update((type(record), record.id) for record in self._created.values())
        self._records.clear()
        self._created.clear()
        self.type_state.clear()

    def record(self, ref: Any, model: type[M]) -> M | None:
        """The record a reference points at: the one its resource in the file became in this run,
        else the stored ``model`` row with that uid; None when there is none."""
        target = self.target(ref)
        if target is not None:
            found = self.recall(target)
            if isinstance(found, model):
                return found
            uid = self.uid(target)
        else:
            text = reference_text(ref)
            if text is None or _CONDITIONAL.match(text) or text.startswith("#"):
                return None  # a conditional reference that names nothing in the file, or a contained resource
            match = _RELATIVE.match(text) or _ABSOLUTE.match(text)
            if match:
                uid = uid_for(match.group(1), match.group(2))
            elif text.startswith("urn:uuid:"):
                uid = text.removeprefix("urn:uuid:")
            else:
                return None
        return self.session.exec(select(model).where(model.uid == uid)).first()  # type: ignore[attr-defined]

    def patient(self, ref: Any) -> Patient | None:
        """The patient a reference points at (see :meth:`record`)."""
        return self.record(ref, Patient)


def check_references(entries: list[Entry], imported: Mapping[str, Handler], ctx: ImportContext) -> None:
    """Refuse a file in which a resource of an imported type names a patient that is not in the file.
    Its other references are each handler's to judge: a record carecoord makes needs its plan or
    goal, while an EHR's own Goal naming a Condition the file leaves out is skipped, not an error.
    Conditional and contained references are fine."""
    for entry in entries:
        if entry.resource["resourceType"] not in imported:
            continue
        for ref in _references(entry.resource):
            text = reference_text(ref)
            if text is None or text.startswith("#") or _CONDITIONAL.match(text) or ctx.target(ref) is not None:
                continue
            if referenced_type(ref) == "Patient":
                raise ValidationError(f"{entry.key}: its reference {text} points at nothing in the file")


# --- the import -------------------------------------------------------------------------------------


@dataclass
class ImportResult:
    """What an import did, by resource type and outcome."""

    counts: dict[str, Counter[str]] = field(default_factory=dict)
    total: int = 0

    def add(self, resource_type: str, outcome: str, n: int = 1) -> None:
        self.counts.setdefault(resource_type, Counter())[outcome] += n


def import_entries(
    session: Session,
    entries: list[Entry],
    *,
    options: Mapping[str, Any] | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Hand every resource to its handler, type by type; resources of other types are counted as
    skipped. Raises ValidationError (nothing should then be stored) for a file it cannot take."""
    from carecoord.services.transitions import sync_followups

    every = handlers()
    ctx = ImportContext(session, entries, options or {})
    check_references(entries, every, ctx)
    result = ImportResult(total=len(entries))
    done = 0
    followed_up: set[int] = set()  # patients whose calls, visits or discharges this import changed
    for resource_type, handler in every.items():
        for entry in entries:
            if entry.resource["resourceType"] != resource_type:
                continue
            outcome = handler(session, entry.resource, ctx)
            ctx.noted(entry.resource, outcome)
            result.add(resource_type, outcome)
            if resource_type in FOLLOW_UP_EVIDENCE and outcome in ("created", "updated"):
                patient_id = getattr(ctx.recall(entry.resource), "patient_id", None)
                followed_up.update([patient_id] if patient_id is not None else [])
            done += 1
            if progress is not None:
                progress(done)
        session.flush()  # the records of one type have their ids before the next type's handler runs
        ctx.settle()
    for entry in entries:
        if entry.resource["resourceType"] not in every:
            result.add(entry.resource["resourceType"], "skipped")
    for patient_id in sorted(followed_up):  # the rule of which call or visit meets which follow-up
        sync_followups(session, patient_id, restate=False)
    session.flush()
    return result


def describe(result: ImportResult) -> str:
    """``Patient 1 (1 created), Coverage 2 (1 created, 1 unchanged); skipped: Encounter 20, Claim 3``."""
    taken, skipped = [], []
    for resource_type in sorted(result.counts):
        counts = result.counts[resource_type]
        took = sum(counts[o] for o in OUTCOMES if o != "skipped")
        if took:
            how = ", ".join(f"{counts[o]} {o}" for o in OUTCOMES if o != "skipped" and counts[o])
            taken.append(f"{resource_type} {took} ({how})")
        if counts["skipped"]:
            skipped.append(f"{resource_type} {counts['skipped']}")
    text = ", ".join(taken) if taken else "nothing"
    return text + (f"; skipped: {', '.join(skipped)}" if skipped else "")
