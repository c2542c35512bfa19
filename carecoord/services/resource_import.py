"""Importing the resource directory (issue 14): an Open Referral HSDS 3.0 CSV folder, or a flat
spreadsheet with one row per resource.

HSDS (https://docs.openreferral.org, the specification's ``examples/csv``): one resource per service
(``services.csv``, the only file required), with its organization (``organizations.csv``), the
addresses of its locations (``service_at_location.csv``, ``locations.csv``, ``addresses.csv``),
phones, languages, opening hours (``schedules.csv``, RRULE-shaped, shown as people read them) and
taxonomy terms (``attributes.csv`` -> ``taxonomy_terms.csv``), which give the category. A resource
keeps its HSDS service id, so importing the folder again updates what changed and adds nothing
twice. Every row is checked before anything is written: all or nothing, each problem named by file
and line.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import Session, SQLModel, col, select

from carecoord.errors import CarecoordError, ValidationError
from carecoord.models import Resource
from carecoord.services import resources as resource_service
from carecoord.services.imports import SKIP, Sheet, column_fields, read_sheet
from carecoord.vocab import RESOURCE_CATEGORIES, RESOURCE_CATEGORY_SYNONYMS

MAX_REPORTED = 20
HSDS_FILES = ("services.csv", "organizations.csv", "service_at_location.csv", "locations.csv", "addresses.csv",
              "phones.csv", "languages.csv", "schedules.csv", "attributes.csv", "taxonomy_terms.csv")  # fmt: skip
# HSDS service status -> whether the resource takes referrals (HSDS 3.0 service.status: active,
# inactive, defunct, temporarily closed).
HSDS_RETIRED_STATUSES = frozenset({"inactive", "defunct"})
FIELDS = ("name", "category", "organization", "phone", "email", "url", "address", "hours", "eligibility",
          "languages", "fees", "notes")  # fmt: skip

# Taxonomy term names -> category, when --map-taxonomy does not say: the first word (at the start of a
# word in the term's name, the term itself before its parents) that matches. Local taxonomies differ,
# so this is a convenience; --map-taxonomy CODE=CATEGORY decides.
TAXONOMY_WORDS: tuple[tuple[str, str], ...] = (
    ("domestic violence", "intimate-partner-violence"), ("intimate partner", "intimate-partner-violence"),
    ("elder abuse", "elder-abuse"), ("home health", "home-health"), ("home care", "home-health"),
    ("mental health", "behavioral-health"), ("behavioral health", "behavioral-health"), ("crisis", "behavioral-health"),
    ("counsel", "behavioral-health"), ("substance", "behavioral-health"),
    ("food", "food-insecurity"), ("meal", "food-insecurity"), ("pantr", "food-insecurity"),
    ("grocer", "food-insecurity"), ("nutrition", "food-insecurity"),
    ("shelter", "homelessness"), ("homeless", "homelessness"),
    ("rent", "housing-instability"), ("housing", "housing-instability"), ("eviction", "housing-instability"),
    ("home repair", "inadequate-housing"), ("home modification", "inadequate-housing"),
    ("utilit", "utility-insecurity"), ("energy", "utility-insecurity"), ("water bill", "utility-insecurity"),
    ("heating", "utility-insecurity"),
    ("transport", "transportation-insecurity"), ("ride", "transportation-insecurity"),
    ("medical equipment", "medical-equipment"), ("durable medical", "medical-equipment"),
    ("pharmac", "pharmacy"), ("prescription", "pharmacy"),
    ("health insurance", "health-insurance-coverage-status"), ("medicaid", "health-insurance-coverage-status"),
    ("medical bill", "medical-cost-burden"), ("medical debt", "medical-cost-burden"),
    ("benefit", "financial-insecurity"), ("income", "financial-insecurity"), ("financial", "financial-insecurity"),
    ("cash assistance", "financial-insecurity"),
    ("employment", "employment-status"), ("job", "employment-status"),
    ("education", "educational-attainment"), ("ged", "educational-attainment"),
    ("literacy", "personal-health-literacy"),
    ("veteran", "veteran-status"),
    ("senior center", "social-connection"), ("social", "social-connection"), ("companion", "social-connection"),
    ("isolation", "social-connection"),
    ("internet", "digital-access"), ("digital", "digital-access"), ("computer", "digital-literacy"),
    ("interpret", "language-access"), ("translation", "language-access"),
    ("reentry", "incarceration-status"), ("re-entry", "incarceration-status"),
    ("clothing", "material-hardship"), ("furniture", "material-hardship"), ("diaper", "material-hardship"),
    ("stress", "stress"), ("specialist", "specialist"),
)  # fmt: skip
_WORD_PATTERNS = tuple(
    (re.compile(rf"\b{re.escape(word)}", re.IGNORECASE), category) for word, category in TAXONOMY_WORDS
)

RESOURCE_HEADERS: dict[str, str] = {
    **{h: "name" for h in ("name", "resource", "resource name", "service", "service name", "program", "program name")},
    **{h: "category" for h in ("category", "type", "need", "domain", "service type")},
    **{h: "organization" for h in ("organization", "organisation", "org", "agency", "provider", "organization name")},
    **{h: "phone" for h in ("phone", "phone number", "telephone", "tel", "phone #")},
    **{h: "email" for h in ("email", "e mail", "email address")},
    **{h: "url" for h in ("url", "website", "web", "web site", "link")},
    **{h: "address" for h in ("address", "location", "street address")},
    **{h: "hours" for h in ("hours", "opening hours", "schedule", "hours of operation")},
    **{h: "eligibility" for h in ("eligibility", "who is eligible", "eligibility description", "eligible")},
    **{h: "languages" for h in ("languages", "language", "languages spoken")},
    **{h: "fees" for h in ("fees", "fee", "cost", "costs", "fees description")},
    **{h: "notes" for h in ("notes", "note", "description", "comments")},
    **{h: "hsds_id" for h in ("hsds id", "service id")},
    **{h: "taxonomy" for h in ("taxonomy", "taxonomy codes")},
    **{h: "status" for h in ("status",)},
    **{h: SKIP for h in ("id", "uid", "created at", "updated at", "last changed", "retired on", "error")},
}


class ResourceImportError(CarecoordError):
    """Problems that stop an import; ``problems`` names each by file and line."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems[:MAX_REPORTED])
        if len(problems) == 1:
            message = f"{problems[0]}; nothing was imported"
        else:
            more = f" (the first {MAX_REPORTED} listed)" if len(problems) > MAX_REPORTED else ""
            message = f"{len(problems)} problems{more}; nothing was imported"
        super().__init__(message)


@dataclass
class ResourceImportResult:
    """What an import did (or, for a dry run, would do)."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    retired: int = 0
    uncategorised: dict[str, int] = field(default_factory=dict)  # taxonomy code (or '') -> services filed as other
    total_services: int = 0


# --- schedules as people read them -------------------------------------------------------------

DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
DAY_NAMES = dict(zip(DAYS, ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"), strict=True))
ORDINALS = {1: "1st", 2: "2nd", 3: "3rd", 4: "4th", 5: "5th", -1: "last", -2: "second-to-last"}


def _clock(value: str) -> str | None:
    """``09:00``, ``09:00:00``, ``9:00Z`` -> ``9:00``; None when empty or unreadable."""
    match = re.match(r"\s*(\d{1,2}):(\d{2})", value or "")
    if not match:
        return None
    return f"{int(match.group(1))}:{match.group(2)}"


def day_span(codes: Iterable[str]) -> str:
    """``MO,TU,WE,TH,FR`` -> ``Mon-Fri``; ``TU,TH`` -> ``Tue, Thu``; all seven -> ``Every day``."""
    days = sorted({c for c in codes if c in DAYS}, key=DAYS.index)
    if len(days) == 7:
        return "Every day"
    runs: list[list[str]] = []
    for day in days:
        if runs and DAYS.index(day) == DAYS.index(runs[-1][-1]) + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts = []
    for run in runs:
        if len(run) >= 3:
            parts.append(f"{DAY_NAMES[run[0]]}-{DAY_NAMES[run[-1]]}")
        else:
            parts += [DAY_NAMES[d] for d in run]
    return ", ".join(parts)


def _hours(opens: str | None, closes: str | None) -> str:
    if opens == "0:00" and closes in ("23:59", "0:00", "24:00"):
        return "24 hours"
    if opens and closes:
        return f"{opens}-{closes}"
    return f"from {opens}" if opens else (f"until {closes}" if closes else "")


def describe_schedules(rows: Sequence[Mapping[str, str]]) -> str | None:
    """HSDS schedule rows (RRULE-shaped) as one line people read: ``Mon-Fri 9:00-17:00; Sat 10:00-12:00``.
    Weekly rows with the same hours share their days; other rules are spelled out; a row that says
    nothing computable gives its description."""
    weekly: dict[tuple[str, int], set[str]] = defaultdict(set)
    order: list[tuple[str, int]] = []
    others: list[str] = []
    for row in rows:
        freq = (row.get("freq") or "").strip().upper()
        hours = _hours(_clock(row.get("opens_at", "")), _clock(row.get("closes_at", "")))
        interval = int(row["interval"]) if (row.get("interval") or "").strip().isdigit() else 1
        byday = [d.strip().upper() for d in (row.get("byday") or "").split(",") if d.strip()]
        if freq == "WEEKLY" and byday and all(d in DAYS for d in byday):
            key = (hours, interval)
            if key not in weekly:
                order.append(key)
            weekly[key].update(byday)
        elif freq == "DAILY":
            others.append(f"Every day {hours}".strip())
        elif freq == "MONTHLY" and (byday or row.get("bymonthday")):
            if byday:
                words = []
                for part in byday:
                    match = re.fullmatch(r"([+-]?\d)?(MO|TU|WE|TH|FR|SA|SU)", part)
                    if match and match.group(1):
                        words.append(f"{ORDINALS.get(int(match.group(1)), match.group(1))} {DAY_NAMES[match.group(2)]}")
                    elif match:
                        words.append(f"every {DAY_NAMES[match.group(2)]}")
                when = " and ".join(words) + " of the month"
            else:
                when = f"day {row.get('bymonthday', '').replace(',', ', ')} of the month"
            others.append(f"{when[0].upper()}{when[1:]} {hours}".strip())
        elif (row.get("description") or "").strip():
            others.append(" ".join(row["description"].split()))
        elif hours:
            others.append(hours)
    lines = []
    for hours, interval in order:
        every = "" if interval == 1 else ("every other week, " if interval == 2 else f"every {interval} weeks, ")
        lines.append(f"{every}{day_span(weekly[(hours, interval)])} {hours}".strip())
    text = "; ".join(lines + others)
    return text[:1].upper() + text[1:] if text else None


# --- categories from taxonomy terms -------------------------------------------------------------


def parse_taxonomy_map(pairs: Iterable[str]) -> dict[str, str]:
    """``--map-taxonomy CODE=CATEGORY`` (repeatable) as {code: category}; the category as typed anywhere."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        code, equals, category = pair.partition("=")
        if not equals or not code.strip() or not category.strip():
            raise ValidationError(f"--map-taxonomy takes CODE=CATEGORY, e.g. BD-1800=food-insecurity, not '{pair}'")
        mapping[code.strip().casefold()] = category_code(category, f"--map-taxonomy {pair}")
    return mapping


def category_code(value: str, where: str) -> str:
    word = " ".join(value.strip().lower().split())
    code = RESOURCE_CATEGORY_SYNONYMS.get(word, word)
    if code not in RESOURCE_CATEGORIES:
        raise ValidationError(f"{where}: '{value.strip()}' is not a category (see 'carecoord resource categories')")
    return code


@dataclass(frozen=True)
class Term:
    code: str
    name: str
    parent_id: str


def _category_of(term_ids: Sequence[str], terms: Mapping[str, Term], mapping: Mapping[str, str]) -> str | None:
    """The category a service's taxonomy terms give: --map-taxonomy on a term or one of its parents
    first, then the words of the terms' names."""
    chains = []
    for term_id in term_ids:
        chain, seen = [], set()
        while term_id in terms and term_id not in seen:
            seen.add(term_id)
            chain.append(terms[term_id])
            term_id = terms[term_id].parent_id
        chains.append(chain)
    for chain in chains:
        for term in chain:
            if term.code.casefold() in mapping:
                return mapping[term.code.casefold()]
    for chain in chains:
        for term in chain:
            for pattern, category in _WORD_PATTERNS:
                if pattern.search(term.name):
                    return category
    return None


# --- reading the folder -------------------------------------------------------------------------


@dataclass
class HsdsTable:
    """One HSDS CSV file: its rows (column name -> cell) with their lines."""

    file: str
    rows: list[tuple[int, dict[str, str]]]


def _read_table(path: Path, encoding: str) -> HsdsTable:
    sheet: Sheet = read_sheet(path, encoding=encoding)
    header = [column.strip().lower() for column in sheet.header]
    rows = [(line, {h: cell.strip() for h, cell in zip(header, cells, strict=False)}) for line, cells in sheet.rows]
    return HsdsTable(path.name, rows)


def read_hsds(folder: Path, *, encoding: str = "utf-8-sig") -> dict[str, HsdsTable]:
    """The HSDS files present in ``folder`` (services.csv required)."""
    if not (folder / "services.csv").is_file():
        present = ", ".join(sorted(p.name for p in folder.glob("*.csv"))[:5]) or "no CSV files"
        raise ValidationError(
            f"{folder} has no services.csv ({present}): an HSDS folder needs services.csv, "
            "one row per service (organizations.csv, locations.csv and the rest are optional)"
        )
    tables = {}
    for name in HSDS_FILES:
        path = folder / name
        if path.is_file():
            tables[name.removesuffix(".csv")] = _read_table(path, encoding)
    missing = [c for c in ("id", "name") if tables["services"].rows and c not in tables["services"].rows[0][1]]
    if missing:
        raise ValidationError(f"services.csv has no {' or '.join(missing)} column: is it an HSDS services file?")
    return tables


def _by(table: HsdsTable | None, key: str) -> dict[str, list[dict[str, str]]]:
    grouped: dict[str, list[dict[str, str]]] = defaultdict(list)
    for _, row in table.rows if table else ():
        if row.get(key):
            grouped[row[key]].append(row)
    return grouped


def _address(row: Mapping[str, str]) -> str:
    street = ", ".join(p for p in (row.get("address_1", ""), row.get("address_2", "")) if p)
    region = " ".join(p for p in (row.get("state_province", ""), row.get("postal_code", "")) if p)
    return ", ".join(p for p in (street, row.get("city", ""), region) if p)


def _phone(row: Mapping[str, str]) -> str:
    number = row.get("number", "").strip().strip('"')
    extension = row.get("extension", "").strip()
    return f"{number} ext. {extension}" if extension else number


def hsds_resources(
    tables: Mapping[str, HsdsTable], mapping: Mapping[str, str]
) -> tuple[list[tuple[str, int, str, dict[str, Any]]], list[str], dict[str, int]]:
    """Each service as (file, line, HSDS id, resource fields); the problems found; the taxonomy codes
    (or '' for none) of the services no term gave a category to, with how many."""
    services = tables["services"]
    organizations = {row["id"]: row for _, row in tables["organizations"].rows} if "organizations" in tables else {}
    sal_by_service = _by(tables.get("service_at_location"), "service_id")
    locations = {row["id"]: row for _, row in tables["locations"].rows} if "locations" in tables else {}
    addresses = _by(tables.get("addresses"), "location_id")
    phones = tables.get("phones")
    phones_by = {key: _by(phones, key) for key in ("service_id", "service_at_location_id", "location_id",
                                                   "organization_id")}  # fmt: skip
    languages = _by(tables.get("languages"), "service_id")
    schedules = {key: _by(tables.get("schedules"), key) for key in ("service_id", "service_at_location_id")}
    terms = {row["id"]: Term(row.get("code", "") or row.get("name", ""), row.get("name", ""), row.get("parent_id", ""))
             for _, row in tables["taxonomy_terms"].rows} if "taxonomy_terms" in tables else {}  # fmt: skip
    term_links = defaultdict(list)
    for _, row in tables["attributes"].rows if "attributes" in tables else ():
        if row.get("link_entity", "service") in ("service", "") and row.get("taxonomy_term_id"):
            term_links[row.get("link_id", "")].append(row["taxonomy_term_id"])
    problems: list[str] = []
    found: list[tuple[str, int, str, dict[str, Any]]] = []
    uncategorised: dict[str, int] = defaultdict(int)
    categories: dict[tuple[str, ...], str | None] = {}  # many services share their terms
    seen: dict[str, int] = {}
    for line, row in services.rows:
        where = f"services.csv line {line}"
        service_id = row.get("id", "")
        if not service_id:
            problems.append(f"{where}: the service has no id")
            continue
        if service_id in seen:
            problems.append(f"{where}: service id {service_id} is also on line {seen[service_id]}")
            continue
        seen[service_id] = line
        org_id = row.get("organization_id", "")
        organization = organizations.get(org_id) if org_id else None
        if org_id and organization is None:
            source = "organizations.csv" if "organizations" in tables else "organizations.csv (which is missing)"
            problems.append(f"{where}: organization {org_id} is not in {source}")
            continue
        sals = sal_by_service.get(service_id, [])
        location_ids = [s["location_id"] for s in sals if s.get("location_id")]
        unknown = [i for i in location_ids if locations and i not in locations]
        if unknown:
            problems.append(f"{where}: service_at_location.csv names location {unknown[0]}, not in locations.csv")
            continue
        phone_rows = (phones_by["service_id"].get(service_id, [])
                      + [p for s in sals for p in phones_by["service_at_location_id"].get(s["id"], [])]
                      + [p for i in location_ids for p in phones_by["location_id"].get(i, [])]
                      + (phones_by["organization_id"].get(org_id, []) if org_id else []))  # fmt: skip
        address_rows = [a for i in location_ids for a in addresses.get(i, [])]
        physical = [a for a in address_rows if a.get("address_type", "physical") in ("physical", "")] or address_rows
        hours_rows = schedules["service_id"].get(service_id, []) + [
            r for s in sals for r in schedules["service_at_location_id"].get(s["id"], [])
            if r not in schedules["service_id"].get(service_id, [])
        ]  # fmt: skip
        term_ids = term_links.get(service_id, [])
        key = tuple(term_ids)
        if key not in categories:
            categories[key] = _category_of(term_ids, terms, mapping)
        category = categories[key]
        codes = [terms[t].code for t in term_ids if t in terms]
        if category is None:
            category = "other"
            uncategorised[", ".join(codes)] += 1
        eligibility = row.get("eligibility_description", "")
        ages = [f"{word} {row[key]}" for key, word in (("minimum_age", "age from"), ("maximum_age", "age up to"))
                if row.get(key)]  # fmt: skip
        if ages:
            eligibility = "; ".join(p for p in (eligibility, ", ".join(ages)) if p)
        fees = row.get("fees_description", "") or row.get("fees", "")
        fields: dict[str, Any] = {
            "name": row.get("name", ""),
            "category": category,
            "organization": organization.get("name") if organization else None,
            "phone": _phone(phone_rows[0]) if phone_rows else None,
            "email": row.get("email") or (organization or {}).get("email") or None,
            "url": row.get("url") or (organization or {}).get("website") or None,
            "address": "\n".join(dict.fromkeys(_address(a) for a in physical if _address(a))) or None,
            "hours": describe_schedules(hours_rows),
            "eligibility": eligibility or None,
            "languages": ", ".join(
                dict.fromkeys(lang["name"] for lang in languages.get(service_id, []) if lang.get("name"))
            )
            or None,
            "fees": fees or None,
            "notes": row.get("description") or None,
            "status": "retired" if row.get("status", "").lower() in HSDS_RETIRED_STATUSES else "active",
            "taxonomy": ", ".join(dict.fromkeys(codes)) or None,
        }
        found.append(("services.csv", line, service_id, fields))
    return found, problems, dict(uncategorised)


# --- the flat spreadsheet -----------------------------------------------------------------------


def sheet_resources(sheet: Sheet, path: Path, mapping: Mapping[str, str], column_map: Mapping[str, str]
                    ) -> tuple[list[tuple[str, int, str | None, dict[str, Any]]], list[str]]:  # fmt: skip
    """One resource per row: headers matched whatever their case and spacing, as in the patient import."""
    targets = (*FIELDS, "hsds_id", "taxonomy", "status")
    chosen = column_fields(sheet.header, column_map, RESOURCE_HEADERS, targets)
    if "name" not in chosen:
        raise ValidationError(f"{path.name}: no column holds the resource's name; use --map 'COLUMN=name'")
    if "category" not in chosen and "taxonomy" not in chosen:
        raise ValidationError(f"{path.name}: no column holds the category; use --map 'COLUMN=category'")
    found: list[tuple[str, int, str | None, dict[str, Any]]] = []
    problems: list[str] = []
    for line, cells in sheet.rows:
        values = {target: cell.strip() for target, cell in zip(chosen, cells, strict=True) if target != SKIP}
        where = f"{path.name} line {line}"
        try:
            category = values.get("category", "")
            if category:
                values["category"] = category_code(category, "category")
            elif values.get("taxonomy"):
                codes = [c.strip().casefold() for c in values["taxonomy"].split(",")]
                values["category"] = next((mapping[c] for c in codes if c in mapping), "")
            if not values.get("category"):
                raise ValidationError("no category (give one, or map its taxonomy code with --map-taxonomy)")
            status = values.pop("status", "").lower() or "active"
            if status not in ("active", "retired"):
                raise ValidationError(f"status '{status}' is not active or retired")
        except CarecoordError as error:
            problems.append(f"{where}: {error.message}")
            continue
        fields = {key: values.get(key) or None for key in (*FIELDS, "taxonomy") if key in values}
        fields["status"] = status
        found.append((path.name, line, values.get("hsds_id") or None, fields))
    return found, problems


# --- storing ------------------------------------------------------------------------------------

_PLAIN = ("status", "taxonomy")


def store_resources(
    session: Session,
    found: Sequence[tuple[str, int, str | None, dict[str, Any]]],
    problems: list[str],
    *,
    dry_run: bool,
    progress: Callable[[int], None] | None = None,
) -> ResourceImportResult:
    """Check every resource as 'resource add' would, then (unless a problem or a dry run) add the new
    ones and update the changed ones: by HSDS id, else by name and organization. All or nothing."""
    from carecoord.dates import today

    by_hsds = {r.hsds_id: r for r in session.exec(select(Resource).where(col(Resource.hsds_id).is_not(None))).all()}
    by_name: dict[tuple[str, str], Resource] = {}
    if any(hsds_id is None for _, _, hsds_id, _ in found):
        for r in session.exec(select(Resource)).all():
            by_name.setdefault((r.name.casefold(), (r.organization or "").casefold()), r)
    plan: list[tuple[Resource | None, str | None, dict[str, Any]]] = []
    names_seen: dict[tuple[str, str], str] = {}
    for file, line, hsds_id, fields in found:
        where = f"{file} line {line}"
        extra = {key: fields.pop(key) for key in _PLAIN if key in fields}
        try:
            values = resource_service.validate_fields(fields)
            if not values.get("name"):
                raise ValidationError("the resource has no name")
        except CarecoordError as error:
            problems.append(f"{where}: {error.message}")
            continue
        values.update(extra)
        key = (values["name"].casefold(), (values.get("organization") or "").casefold())
        if hsds_id is None:
            if key in names_seen:
                problems.append(f"{where}: the same resource as {names_seen[key]}")
                continue
            names_seen[key] = where
            existing = by_name.get(key)
        else:
            existing = by_hsds.get(hsds_id)
        plan.append((existing, hsds_id, values))
    if problems:
        raise ResourceImportError(problems)
    result = ResourceImportResult(rows=len(found))
    new_rows: list[dict[str, Any]] = []
    for done, (existing, hsds_id, values) in enumerate(plan, 1):
        if existing is None:
            result.created += 1
            new_rows.append({**values, "hsds_id": hsds_id,
                             "retired_on": today() if values.get("status") == "retired" else None})  # fmt: skip
        else:
            changes = {k: v for k, v in values.items() if getattr(existing, k) != v}
            if not changes:
                result.unchanged += 1
            else:
                result.updated += 1
                result.retired += changes.get("status") == "retired"
                if not dry_run:
                    for name, value in changes.items():
                        setattr(existing, name, value)
                    if "status" in changes:
                        existing.retired_on = today() if existing.status == "retired" else None
        if progress is not None:
            progress(done)
    session.flush()
    if new_rows and not dry_run:
        _insert_new(session, new_rows)
    return result


def _insert_new(session: Session, new_rows: list[dict[str, Any]]) -> None:
    """Add thousands of resources in a few multi-row INSERTs (not one ORM object each, which costs
    more than the rest of an import put together), each audited as a flush would audit it."""
    from sqlalchemy import insert

    from carecoord.models import new_uid, utcnow
    from carecoord.services.audit import record_created

    table: Any = SQLModel.metadata.tables["resource"]
    now = utcnow()
    columns = [c.name for c in table.columns if c.name != "id"]
    defaults = {"email": None, "url": None, "address": None, "hours": None, "eligibility": None, "languages": None,
                "fees": None, "notes": None, "organization": None, "phone": None, "taxonomy": None, "retired_on": None,
                "status": "active"}  # fmt: skip
    rows = [{**defaults, **values, "uid": new_uid(), "created_at": now, "updated_at": now} for values in new_rows]
    rows = [{name: row.get(name) for name in columns} for row in rows]
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    ids = session.connection().execute(statement, rows).scalars().all()
    record_created(session, "resource", list(zip(ids, rows, strict=True)))


def import_path(
    session: Session,
    path: Path,
    *,
    taxonomy_map: Mapping[str, str],
    column_map: Mapping[str, str],
    dry_run: bool,
    encoding: str = "utf-8-sig",
    progress_for: Callable[[int], Callable[[int], None] | None] | None = None,
) -> ResourceImportResult:
    """Import ``path``: an HSDS folder, or a CSV file with one resource per row."""
    uncategorised: dict[str, int] = {}
    found: list[tuple[str, int, str | None, dict[str, Any]]]
    if path.is_dir():
        if column_map:
            raise ValidationError("--map is for a spreadsheet; an HSDS folder's columns are the specification's")
        tables = read_hsds(path, encoding=encoding)
        hsds, problems, uncategorised = hsds_resources(tables, taxonomy_map)
        found = list(hsds)
    elif path.is_file():
        found, problems = sheet_resources(read_sheet(path, encoding=encoding), path, taxonomy_map, column_map)
    else:
        raise ValidationError(f"{path} does not exist: give an HSDS folder or a CSV file")
    progress = progress_for(len(found)) if progress_for is not None else None
    result = store_resources(session, found, problems, dry_run=dry_run, progress=progress)
    result.uncategorised = uncategorised
    result.total_services = len(found)
    return result


def describe_uncategorised(uncategorised: Mapping[str, int]) -> str | None:
    """A sentence on the services filed as 'other' and how to map their taxonomy codes."""
    if not uncategorised:
        return None
    total = sum(uncategorised.values())
    codes = sorted(c for c in uncategorised if c)
    listed = f" (taxonomy codes: {', '.join(codes[:10])}{'...' if len(codes) > 10 else ''})" if codes else ""
    example = codes[0].split(",")[0] if codes else "CODE"
    return (f"{total} service{'s' if total != 1 else ''} had no taxonomy term that gives a category and "
            f"{'were' if total != 1 else 'was'} filed as 'other'{listed}; map a code with "
            f"--map-taxonomy {example}=CATEGORY and import again.")  # fmt: skip
