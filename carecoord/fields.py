"""One declaration per record: each field's key, label, kind, command-line option and help, written once.

The services check values by a field's kind, the records (JSON and CSV keys) follow the declared
order, ``show`` labels come from here, and ``add``/``edit`` options are generated from it
(``commands/_fields.py``). The SQLModel tables in ``models.py`` stay the schema (they are what the
migrations build); ``tests/test_fields.py`` checks that every declared field is a column.

Plain Python: the command modules read this at ``--help`` time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from carecoord.vocab import (
    RESOURCE_CATEGORIES,
    RESOURCE_CATEGORY_SYNONYMS,
    RISK_SYNONYMS,
    AppointmentType,
    AuthorizationStatus,
    AuthorizationUnit,
    Channel,
    Complexity,
    ContactMethod,
    CoverageOrder,
    CoverageStatus,
    CoverageType,
    Direction,
    Outcome,
    RiskLevel,
    TaskPriority,
)


class Kind(StrEnum):
    """How a field's value is typed, checked and shown."""

    name = "name"  # one line, required
    line = "line"  # one line, optional
    text = "text"  # several lines (notes)
    email = "email"
    phone = "phone"  # stored as E.164 (carecoord.phones); --raw-phone keeps it as typed
    choice = "choice"  # one of ``choices`` (or a synonym of one)
    date = "date"
    flag = "flag"  # yes/no
    tags = "tags"  # stored comma-separated, a list in records
    moment = "moment"  # a UTC timestamp, shown in the user's zone
    plain = "plain"  # kept as it is (ids, codes the services set)
    number = "number"  # a whole number, 0 or more (units)
    days = "days"  # a whole number of days, typed as an interval (90d, 12w)
    minutes = "minutes"  # whole minutes, typed 15, 45m or 1h30m
    time = "time"  # a time of day, HH:MM in records
    lines = "lines"  # one-line items stored one per line (a plan's needs), a list in records


@dataclass(frozen=True)
class FieldSpec:
    """One field of a record."""

    key: str  # the model attribute and the record key
    label: str  # how ``show`` labels it
    kind: Kind = Kind.plain
    option: str | None = None  # the add/edit option; None when add/edit do not set it
    help: str = ""  # the option's help (edit adds how to clear it)
    noun: str = ""  # how messages name it; the label in lower case when empty
    choices: tuple[str, ...] = ()
    synonyms: Mapping[str, str] = field(default_factory=dict)  # other words people type for a choice
    shown: bool = True  # listed by ``show`` (uid and created_at are for scripts)
    metavar: str = ""  # the word --help shows for the value; by kind when empty
    past: bool = False  # a date of something that already happened: a weekday means the last one
    relative: bool = True  # a date people may type as 'fri' or '+3d' (not a date of birth)
    attribute: str = ""  # the model attribute, when it is not named like the key
    required: bool = False  # edit cannot clear it (a name is always required)

    @property
    def word(self) -> str:
        if self.metavar:
            return self.metavar
        if self.choices and len("|".join(self.choices)) <= 24:
            return "|".join(self.choices)
        return {Kind.date: "DATE", Kind.moment: "WHEN", Kind.choice: "CHOICE"}.get(self.kind, "TEXT")

    @property
    def option_names(self) -> list[str]:
        """The option's names, as Typer takes them: ``['--discharged', '-d']``."""
        return (self.option or "").split()

    @property
    def source(self) -> str:
        """The model attribute the field reads."""
        return self.attribute or self.key

    @property
    def what(self) -> str:
        return self.noun or self.label.lower()

    @property
    def settable(self) -> bool:
        return self.option is not None


@dataclass(frozen=True)
class RecordSpec:
    """A record's fields, in the order of its JSON and CSV keys."""

    noun: str
    fields: tuple[FieldSpec, ...]
    table: str = ""  # the record's table, when it is not named like the noun

    @property
    def table_name(self) -> str:
        return self.table or self.noun

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(f.key for f in self.fields)

    @property
    def editable(self) -> tuple[FieldSpec, ...]:
        return tuple(f for f in self.fields if f.settable)

    @property
    def shown(self) -> tuple[FieldSpec, ...]:
        return tuple(f for f in self.fields if f.shown)

    def __getitem__(self, key: str) -> FieldSpec:
        for spec in self.fields:
            if spec.key == key:
                return spec
        raise KeyError(key)


_ID = FieldSpec("id", "ID")
_UID = FieldSpec("uid", "UID", shown=False)
_CREATED = FieldSpec("created_at", "Created", Kind.moment, shown=False)
_UPDATED = FieldSpec("updated_at", "Last changed", Kind.moment)
_PHONE = FieldSpec(
    "phone",
    "Phone",
    Kind.phone,
    "--phone",
    "Phone number, typed any way: (617) 555-0123, 617.555.0123 x12, +44 20 7946 0958.",
    noun="phone number",
    metavar="PHONE",
)
_EMAIL = FieldSpec("email", "Email", Kind.email, "--email", "Email address.", noun="email address", metavar="EMAIL")
_NOTES = FieldSpec("notes", "Notes", Kind.text, "--notes", "Free-text notes.")

PATIENT = RecordSpec(
    "patient",
    (
        _ID,
        _UID,
        FieldSpec("name", "Name", Kind.name, "--name", "Full name, e.g. 'Jane Doe'.", noun="patient's name"),
        FieldSpec(
            "birth_date",
            "Date of birth",
            Kind.date,
            "--dob",
            "Date of birth, e.g. 1950-03-02 or 03/02/1950.",
            past=True,
            relative=False,  # its help does not offer 'tomorrow' or 'fri'
        ),
        FieldSpec("mrn", "MRN", Kind.line, "--mrn", "Medical record number (unique).", noun="MRN", metavar="MRN"),
        _PHONE,
        _EMAIL,
        FieldSpec("address", "Address", Kind.text, "--address", "Home address."),
        FieldSpec(
            "language", "Language", Kind.line, "--language", "Preferred language, e.g. Spanish.", metavar="LANGUAGE"
        ),
        # Not columns since 0011: the primary coverage's payer and member id, and the end of the approved
        # authorization that ends last; setting them sets those records (services/coverage.py).
        FieldSpec(
            "payer", "Payer", Kind.line, "--payer", "Payer of the primary coverage, e.g. 'Medicare'.", metavar="NAME"
        ),
        FieldSpec(
            "member_id", "Member id", Kind.line, "--member-id", "Member id of the primary coverage.", metavar="ID"
        ),
        FieldSpec(
            "auth_expires",
            "Authorization ends",
            Kind.date,
            "--auth-expires",
            "Date the insurance authorization ends (the approved authorization that ends last).",
        ),
        FieldSpec(
            "pcp",
            "Primary care",
            Kind.line,
            "--pcp",
            "Primary care provider.",
            noun="primary care provider",
            metavar="NAME",
        ),
        FieldSpec(
            "risk",
            "Risk",
            Kind.choice,
            "--risk",
            "Risk level: low, moderate (or medium) or high.",
            noun="risk level",
            choices=tuple(r.value for r in RiskLevel),
            synonyms=RISK_SYNONYMS,
        ),
        FieldSpec("status", "Status"),
        FieldSpec("enrolled_on", "Enrolled", Kind.date),
        FieldSpec("discharged_on", "Discharged", Kind.date),
        FieldSpec("discharge_reason", "Discharge reason"),
        FieldSpec("coordinator", "Coordinator"),  # set by 'patient add' and 'patient assign', not by edit
        FieldSpec("tags", "Tags", Kind.tags),
        _NOTES,
        _CREATED,
        _UPDATED,
    ),
)

CONTACT = RecordSpec(
    "contact",
    (
        _ID,
        _UID,
        FieldSpec("patient_id", "Patient id", shown=False),
        FieldSpec("patient_name", "Patient", shown=False),  # not a column: the record adds the patient's name
        FieldSpec("name", "Name", Kind.name, "--name", "The contact's name.", noun="contact's name"),
        FieldSpec(
            "role", "Role", Kind.line, "--role -r", "Role or relationship, e.g. daughter, cardiologist or home health."
        ),
        FieldSpec(
            "organization",
            "Organization",
            Kind.line,
            "--org",
            "Organization, e.g. 'Mercy Home Health'.",
            metavar="NAME",
        ),
        _PHONE,
        _EMAIL,
        FieldSpec(
            "preferred_method",
            "Prefers",
            Kind.choice,
            "--prefers",
            f"Preferred contact method: {', '.join(m.value for m in ContactMethod)}.",
            noun="contact method",
            choices=tuple(m.value for m in ContactMethod),
            metavar="METHOD",
        ),
        FieldSpec(
            "consent_to_share",
            "Consent to share",
            Kind.flag,
            "--consent/--no-consent",
            "Whether the patient consented to share information with them.",
        ),
        _NOTES,
        _CREATED,
        _UPDATED,
    ),
)

RESOURCE = RecordSpec(
    "resource",
    (
        _ID,
        _UID,
        FieldSpec(
            "name",
            "Name",
            Kind.name,
            "--name",
            "The service's name, e.g. 'Weekly Food Pantry'.",
            noun="resource's name",
        ),
        FieldSpec(
            "category",
            "Category",
            Kind.choice,
            "--category -c",
            "What it helps with: a social-need domain of the Gravity SDOH value set (food-insecurity, "
            "housing-instability, transportation-insecurity, utility-insecurity...; everyday words such as "
            "'food' or 'housing' work too) or a clinical kind (specialist, home-health, behavioral-health, "
            "medical-equipment, pharmacy, other). 'carecoord resource categories' lists them all.",
            choices=RESOURCE_CATEGORIES,
            synonyms=RESOURCE_CATEGORY_SYNONYMS,
            metavar="CATEGORY",
        ),
        FieldSpec("organization", "Organization", Kind.line, "--org", "The organization that runs it.", metavar="NAME"),
        _PHONE,
        _EMAIL,
        FieldSpec(
            "url",
            "Website",
            Kind.line,
            "--url",
            "Web address, e.g. https://food.example.org.",
            noun="web address",
            metavar="URL",
        ),
        FieldSpec("address", "Address", Kind.text, "--address", "Where it is (street, city)."),
        FieldSpec(
            "hours",
            "Hours",
            Kind.line,
            "--hours",
            "Opening hours as people read them, e.g. 'Mon-Fri 9:00-17:00'.",
            metavar="TEXT",
        ),
        FieldSpec(
            "eligibility", "Eligibility", Kind.text, "--eligibility", "Who may use it, e.g. 'county residents 60+'."
        ),
        FieldSpec(
            "languages",
            "Languages",
            Kind.line,
            "--languages",
            "Languages spoken, e.g. 'English, Spanish'.",
            metavar="LIST",
        ),
        FieldSpec(
            "fees", "Fees", Kind.line, "--fees", "What it costs, e.g. 'free' or 'sliding scale'.", metavar="TEXT"
        ),
        _NOTES,
        FieldSpec("status", "Status"),  # active or retired: set by 'resource retire' and 'resource restore'
        FieldSpec("retired_on", "Retired", Kind.date),
        FieldSpec("hsds_id", "HSDS id"),  # the Open Referral service id an import found it by
        FieldSpec("taxonomy", "Taxonomy"),  # the HSDS taxonomy codes it was filed under
        _CREATED,
        _UPDATED,
    ),
)

COVERAGE = RecordSpec(
    "coverage",
    (
        _ID,
        _UID,
        FieldSpec("patient_id", "Patient id", shown=False),
        FieldSpec("patient_name", "Patient"),  # not a column: the record adds the patient's name
        FieldSpec("payer", "Payer", Kind.name, "--payer", "The insurer, e.g. 'Medicare' or 'Aetna'.", metavar="NAME"),
        FieldSpec(
            "plan", "Plan", Kind.line, "--plan", "The plan's name, e.g. 'Medicare Advantage HMO'.", metavar="NAME"
        ),
        FieldSpec("member_id", "Member id", Kind.line, "--member-id", "The patient's member id.", metavar="ID"),
        FieldSpec(
            "group_number", "Group", Kind.line, "--group", "The group number.", noun="group number", metavar="ID"
        ),
        FieldSpec(
            "type",
            "Type",
            Kind.choice,
            "--type",
            f"Kind of coverage: {', '.join(t.value for t in CoverageType)}.",
            noun="coverage type",
            choices=tuple(t.value for t in CoverageType),
            metavar="TYPE",
        ),
        FieldSpec(
            "order",
            "Order",
            Kind.choice,
            "--order",
            "Order of benefits: primary (billed first), secondary or tertiary. Default on add: primary.",
            noun="order of benefits",
            choices=tuple(o.value for o in CoverageOrder),
        ),
        FieldSpec(
            "status",
            "Status",
            Kind.choice,
            "--status",
            "active, cancelled (never in force) or entered-in-error ('coverage end' ends one that was).",
            noun="coverage status",
            choices=tuple(s.value for s in CoverageStatus),
            metavar="STATUS",
        ),
        FieldSpec("start_on", "Starts", Kind.date, "--start", "First day of coverage.", noun="start date"),
        FieldSpec("end_on", "Ends", Kind.date, "--end", "Last day of coverage.", noun="end date"),
        FieldSpec("current", "Current"),  # not a column: in force today
        _PHONE,
        _NOTES,
        _CREATED,
        _UPDATED,
    ),
)

AUTHORIZATION = RecordSpec(
    "authorization",
    (
        _ID,
        _UID,
        FieldSpec("patient_id", "Patient id", shown=False),
        FieldSpec("patient_name", "Patient"),  # not a column: the record adds the patient's name
        FieldSpec(
            "coverage_id",
            "Coverage",
            Kind.plain,
            "--coverage",
            "The coverage it is under: its id (see 'carecoord coverage list'). Default on add: the primary one.",
            metavar="ID",
        ),
        FieldSpec("payer", "Payer"),  # not a column: the coverage's payer
        FieldSpec(
            "referral_id",
            "Referral",
            Kind.plain,
            "--referral",
            "The referral it authorizes (home health, a specialist...): its id (see 'carecoord referral list').",
            metavar="ID",
        ),
        FieldSpec(
            "service",
            "Service",
            Kind.name,
            "--service",
            "What is authorized, e.g. 'home health visits' or 'home oxygen'.",
            metavar="TEXT",
        ),
        FieldSpec("number", "Number", Kind.line, "--number", "The payer's authorization number.", metavar="TEXT"),
        FieldSpec(
            "status",
            "Status",
            Kind.choice,
            "--status",
            f"{', '.join(s.value for s in AuthorizationStatus)} (default: requested; 'auth status' changes it).",
            noun="authorization status",
            choices=tuple(s.value for s in AuthorizationStatus),
            metavar="STATUS",
        ),
        FieldSpec(
            "requested_on",
            "Requested",
            Kind.date,
            "--requested",
            "When it was requested (default: today).",
            noun="request date",
            past=True,
        ),
        FieldSpec("decided_on", "Decided", Kind.date),  # set by 'auth status'
        FieldSpec("start_on", "Starts", Kind.date, "--start", "First day it covers.", noun="start date"),
        FieldSpec("end_on", "Ends", Kind.date, "--end", "Last day it covers.", noun="end date"),
        FieldSpec("units_approved", "Units approved", Kind.number, "--units", "Units approved, e.g. 12.", metavar="N"),
        FieldSpec(
            "unit",
            "Unit",
            Kind.choice,
            "--unit",
            f"What the units count: {', '.join(u.value for u in AuthorizationUnit)}.",
            choices=tuple(u.value for u in AuthorizationUnit),
            metavar="UNIT",
        ),
        FieldSpec("units_used", "Units used"),  # not a column: the sum of its uses
        FieldSpec("units_left", "Units left"),  # not a column: approved less used
        _NOTES,
        _CREATED,
        _UPDATED,
    ),
)

_PATIENT_ID = FieldSpec("patient_id", "Patient id", shown=False)
_PATIENT_NAME = FieldSpec("patient_name", "Patient")  # not a column: the record adds the patient's name

PLAN = RecordSpec(
    "plan",
    (
        _ID,
        _UID,
        _PATIENT_ID,
        _PATIENT_NAME,
        FieldSpec("title", "Plan", Kind.name, "--title", "The plan's title.", noun="plan's title"),
        FieldSpec("status", "Status"),  # set by 'plan status' (and 'plan add --status draft|active')
        FieldSpec("needs", "Problems and needs", Kind.lines),  # --need, --add-need, --remove-need
        FieldSpec(
            "start_on", "Starts", Kind.date, "--start", "First day of the plan (a new plan starts today).", noun="start"
        ),
        FieldSpec("end_on", "Ends", Kind.date, "--end", "Last day of the plan.", noun="end"),
        FieldSpec(
            "next_review",
            "Next review",
            Kind.date,
            "--review",
            "Next review date, e.g. +90d or 2027-02-01.",
            noun="next review date",
        ),
        FieldSpec(
            "review_every_days",
            "Review every (days)",
            Kind.days,
            "--review-every",
            "Review interval, e.g. 90d or 12w; sets the next review.",
            noun="review interval",
            metavar="INTERVAL",
        ),
        FieldSpec("review_due", "Review due", Kind.flag),  # not a column: the next review's day has come
        _NOTES,
        _CREATED,
        _UPDATED,
    ),
    table="care_plan",
)

GOAL = RecordSpec(
    "goal",
    (
        _ID,
        _UID,
        FieldSpec("plan_id", "Plan"),
        _PATIENT_ID,
        FieldSpec(
            "description",
            "Goal",
            Kind.name,
            "--description",
            "What the patient is working towards.",
            noun="goal's description",
        ),
        FieldSpec("lifecycle_status", "Status"),  # set by 'goal status' (and 'goal add --status')
        FieldSpec("achievement_status", "Progress"),  # set by 'goal status --achievement'
        FieldSpec(
            "target_on", "Target", Kind.date, "--target", "Target date, e.g. +8w or 2027-01-31.", noun="target date"
        ),
        FieldSpec("measure", "Measure", Kind.line, "--measure", "How progress is measured.", metavar="TEXT"),
        _CREATED,
        _UPDATED,
    ),
)

_DUE_HELP = "When it is due: a date, maybe with a time (fri, +3d, 'tomorrow 9am')."

TASK = RecordSpec(
    "task",
    (
        _ID,
        _UID,
        FieldSpec("title", "Task", Kind.name, "--title", "What needs doing.", noun="task's title"),
        FieldSpec("status", "Status"),  # set by done, skip, start, hold, cancel, reopen
        FieldSpec("status_reason", "Status note"),
        FieldSpec(
            "priority",
            "Priority",
            Kind.choice,
            "--priority",
            "routine (the default), urgent, asap or stat.",
            choices=tuple(p.value for p in TaskPriority),
            required=True,
        ),
        # --due sets both (commands/tasks.py reads a date with an optional time)
        FieldSpec("due_on", "Due", Kind.date, "--due", _DUE_HELP, noun="due date"),
        FieldSpec("due_time", "Due time", Kind.time, "--due", _DUE_HELP, noun="due time"),
        FieldSpec("overdue", "Overdue", Kind.flag),  # not a column: open, and due before today
        _PATIENT_ID,
        _PATIENT_NAME,
        FieldSpec("plan_id", "Plan"),
        FieldSpec("goal_id", "Goal"),
        FieldSpec("repeat", "Repeats", attribute="rrule"),  # --every, parsed into an RRULE (carecoord.recurrence)
        FieldSpec("repeat_text", "Repeats (in words)"),  # not a column: the rule in words
        FieldSpec("series_id", "Series"),
        FieldSpec("tags", "Tags", Kind.tags),
        FieldSpec("notes", "Notes", Kind.text, "--note", "A note."),
        FieldSpec("completed_at", "Completed", Kind.moment),
        _CREATED,
        _UPDATED,
    ),
)

# 'appt edit --status' sets these; outcomes (fulfilled, noshow, cancelled) have their own commands.
EDITABLE_APPOINTMENT_STATUSES = ("proposed", "pending", "booked", "waitlist", "arrived", "checked-in")

APPOINTMENT = RecordSpec(
    "appointment",
    (
        _ID,
        _UID,
        _PATIENT_ID,
        _PATIENT_NAME,
        FieldSpec(
            "type",
            "Type",
            Kind.choice,
            "--type",
            f"Kind of appointment: {', '.join(t.value for t in AppointmentType)} (new ones: other).",
            noun="appointment type",
            choices=tuple(t.value for t in AppointmentType),
            metavar="TYPE",
            attribute="kind",
            required=True,
        ),
        FieldSpec(
            "status",
            "Status",
            Kind.choice,
            "--status",
            f"New status: {', '.join(EDITABLE_APPOINTMENT_STATUSES)} ('appt done', 'noshow' and 'cancel' "
            "record outcomes).",
            noun="appointment status",
            choices=EDITABLE_APPOINTMENT_STATUSES,
            metavar="STATUS",
            required=True,
        ),  # 'appt add --status' offers booked or proposed (commands/appointments.py)
        # the times: set by --start with --end or --duration, and 'appt move'; an occurrence's own
        FieldSpec("start", "Starts", Kind.moment, attribute="starts_at"),
        FieldSpec("end", "Ends", Kind.moment, attribute="ends_at"),
        FieldSpec("tz", "Time zone"),  # --tz
        FieldSpec("location", "Where", Kind.text, "--location -l", "Where.", metavar="PLACE"),
        FieldSpec(
            "with",
            "With",
            Kind.line,
            "--with",
            "With whom, e.g. 'Dr. Lee' or 'daughter'.",
            noun="'with'",
            metavar="NAME",
            attribute="with_whom",
        ),
        FieldSpec(
            "attending",
            "Attending",
            Kind.flag,
            "--attending/--not-attending",
            "Whether you attend it (default by type: home visits, phone and telehealth yes; others no). "
            "Only appointments you attend clash with each other.",
        ),
        FieldSpec("recurring", "Recurring", Kind.flag),  # not a column: whether it repeats
        FieldSpec("repeat", "Repeats", attribute="rrule"),  # --every, --until, --count
        FieldSpec("occurrence", "Occurrence", Kind.moment),  # not a column: the sitting's original start
        FieldSpec("moved", "Moved", Kind.flag),  # not a column: the sitting was moved
        FieldSpec("reason", "Reason"),  # not a column: why the sitting was cancelled or moved
        FieldSpec(
            "reminder_minutes",
            "Reminder (min)",
            Kind.minutes,
            "--remind",
            "Reminder before it starts, e.g. 30m or 1h.",
            noun="reminder",
            metavar="DURATION",
        ),
        FieldSpec("notes", "Notes", Kind.text, "--note", "A note."),
        FieldSpec("sequence", "Sequence"),  # iCalendar SEQUENCE
        FieldSpec("authorization_id", "Authorization"),  # --auth
    ),
)

COMMUNICATION = RecordSpec(
    "log entry",
    (
        _ID,
        _UID,
        _PATIENT_ID,
        _PATIENT_NAME,
        FieldSpec(
            "at",
            "When",
            Kind.moment,
            "--when -w",
            "When it happened (new entries: now).",
            noun="time",
            past=True,
            required=True,
        ),
        FieldSpec(
            "channel",
            "How",
            Kind.choice,
            "--channel -c",
            f"How: {', '.join(c.value for c in Channel)} (new entries: phone).",
            noun="channel",
            choices=tuple(c.value for c in Channel),
            metavar="CHANNEL",
            required=True,
        ),
        FieldSpec(
            "direction",
            "Direction",
            Kind.choice,
            "--direction",
            "Who called whom: outbound or inbound (new entries: outbound).",
            choices=tuple(d.value for d in Direction),
            required=True,
        ),
        FieldSpec(
            "with",
            "With",
            Kind.line,
            "--with",
            "Who you spoke with: a contact's name (linked) or any text.",
            noun="person spoken with",
            metavar="NAME",
            attribute="with_whom",
        ),
        FieldSpec("contact_id", "Contact"),  # the patient's contact named by --with, if one is
        FieldSpec(
            "outcome",
            "Outcome",
            Kind.choice,
            "--outcome -o",
            f"How it ended: {', '.join(o.value for o in Outcome)} (new entries: reached).",
            choices=tuple(o.value for o in Outcome),
            metavar="OUTCOME",
            required=True,
        ),
        FieldSpec(
            "minutes",
            "Minutes",
            Kind.minutes,
            "--minutes -m",
            "Minutes spent (care-management time): 15, 45m or 1h30m.",
            metavar="MINUTES",
            required=True,
        ),
        FieldSpec(
            "program",
            "Program",
            Kind.line,
            "--program -P",
            "The program its minutes count toward (one only): ccm, complex-ccm, pcm, tcm, chi, pin or apcm; "
            "by default the patient's one enrolled time-based program (see 'carecoord program list').",
            metavar="PROGRAM",
        ),
        FieldSpec("note", "Note", Kind.text, "--note -n", "What was said or done."),
        _CREATED,
        _UPDATED,
    ),
    table="communication",
)

TRANSITION = RecordSpec(
    "transition",
    (
        _ID,
        _UID,
        _PATIENT_ID,
        _PATIENT_NAME,
        FieldSpec(
            "facility",
            "From",
            Kind.name,
            "--from",
            "Hospital or facility discharged from.",
            noun="facility",
            metavar="TEXT",
        ),
        FieldSpec(
            "discharged_on",
            "Discharged",
            Kind.date,
            "--discharged -d",
            "Discharge date, e.g. 2026-11-20 or -2d.",
            noun="discharge date",
            past=True,
            required=True,
        ),
        FieldSpec(
            "complexity",
            "Complexity",
            Kind.choice,
            "--complexity",
            "Decision-making complexity: moderate (visit within 14 days, the default) or high (7 days).",
            choices=tuple(c.value for c in Complexity),
            required=True,
        ),
        # not columns: the TCM code, and how each follow-up stands (services/transitions.judge)
        FieldSpec("code", "CPT code"),
        FieldSpec("contact_due", "Contact due", Kind.date),
        FieldSpec("contact_done", "Contact done", Kind.date),
        FieldSpec("contact_state", "Contact"),
        FieldSpec("contact_attempts", "Contact attempts"),
        FieldSpec("visit_due", "Visit due", Kind.date),
        FieldSpec("visit_done", "Visit done", Kind.date),
        FieldSpec("visit_state", "Visit"),
        FieldSpec("contact_task_id", "Contact task"),
        FieldSpec("visit_task_id", "Visit task"),
        FieldSpec("notes", "Notes", Kind.text, "--note -n", "Notes."),
    ),
)

# Record keys that are not columns of the record's own table (the record adds them).
DERIVED_KEYS = {
    "plan": frozenset({"patient_name", "review_due"}),
    "task": frozenset({"overdue", "patient_name", "repeat_text"}),
    "log entry": frozenset({"patient_name"}),
    "appointment": frozenset({"patient_name", "recurring", "occurrence", "moved", "reason"}),
    "transition": frozenset(
        {"patient_name", "code", "contact_done", "contact_state", "contact_attempts", "visit_done", "visit_state"}
    ),
    "contact": frozenset({"patient_name"}),
    "patient": frozenset({"payer", "member_id", "auth_expires"}),
    "coverage": frozenset({"patient_name", "current"}),
    "authorization": frozenset({"patient_name", "payer", "units_used", "units_left"}),  # table prior_authorization
}

# Columns no record shows: the search index's copy of a name, a series' first due date (DTSTART), ...
HIDDEN_COLUMNS = {
    "patient": frozenset({"name_key"}),
    "task": frozenset({"repeat_from"}),
    "transition": frozenset({"created_at", "updated_at"}),  # not in its record (yet)
    # a series' last end (found by the window queries), a cancellation's reason (the occurrence's)
    "appointment": frozenset({"series_ends_at", "status_reason", "created_at", "updated_at"}),
}
