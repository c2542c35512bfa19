"""Value sets shared by command options and the models (plain Python, no SQLModel).

Codes follow HL7 FHIR R4 where FHIR has a value set, so exports map cleanly.
"""

from __future__ import annotations

from enum import StrEnum


class OutputFormat(StrEnum):
    """How a command prints records: a table (or a document) for people, JSON/CSV for scripts,
    Markdown to print or share."""

    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"


class RiskLevel(StrEnum):
    """A patient's risk tier, as the coordinator assesses it."""

    low = "low"
    moderate = "moderate"
    high = "high"


RISK_RANK = {RiskLevel.high.value: 0, RiskLevel.moderate.value: 1, RiskLevel.low.value: 2}
# Other words for a risk level, accepted wherever a risk is typed or imported; the code is stored.
RISK_SYNONYMS = {"medium": RiskLevel.moderate.value, "med": RiskLevel.moderate.value}


def risk_level(word: str) -> RiskLevel:
    """The risk level someone typed: a code in any case, or a synonym ('medium' is moderate).

    Raises ValueError naming the codes (a command-line parser turns it into a bad option value).
    """
    key = word.strip().casefold()
    try:
        return RiskLevel(RISK_SYNONYMS.get(key, key))
    except ValueError:
        codes = ", ".join(f"'{level.value}'" for level in RiskLevel)
        raise ValueError(f"'{word}' is not one of {codes} (medium means moderate)") from None


class PatientStatus(StrEnum):
    """Where a patient is in the program."""

    active = "active"
    on_hold = "on-hold"
    discharged = "discharged"


class ContactMethod(StrEnum):
    """How a contact prefers to be reached."""

    phone = "phone"
    text = "text"
    email = "email"
    mail = "mail"
    in_person = "in-person"
    portal = "portal"
    fax = "fax"


class CaseloadBy(StrEnum):
    """How ``report caseload --by`` splits the caseload."""

    coordinator = "coordinator"


class TeamGroup(StrEnum):
    """The two group roles of a team store (created by migration 0008; see dialects.py)."""

    coordinator = "carecoord_coordinator"
    supervisor = "carecoord_supervisor"


class PatientSort(StrEnum):
    """Sort keys for ``patient list``."""

    name = "name"
    id = "id"
    risk = "risk"
    dob = "dob"
    enrolled = "enrolled"
    updated = "updated"


class AuditAction(StrEnum):
    """What happened to a row."""

    create = "create"
    update = "update"
    delete = "delete"


class DisclosureKind(StrEnum):
    """What kind of export carried patients' information out of carecoord (the account of
    disclosures, issue 16): the file's kind, recorded with each disclosure."""

    fhir = "fhir"
    fhir_ndjson = "fhir-ndjson"
    summary_patient = "summary-patient"
    summary_provider = "summary-provider"
    calendar = "calendar"
    agenda = "agenda"
    patients_json = "patients-json"
    patients_csv = "patients-csv"
    patients_markdown = "patients-markdown"


class DisclosurePurpose(StrEnum):
    """Why patients' information was disclosed (``--purpose``): HIPAA's treatment, payment and health
    care operations (45 CFR 164.506), a disclosure the patient asked for (to the patient or to whom
    they named), or another purpose. Not given: unspecified (stored as NULL)."""

    treatment = "treatment"
    payment = "payment"
    operations = "operations"
    patient_request = "patient-request"
    other = "other"


class PlanStatus(StrEnum):
    """FHIR CarePlan.status."""

    draft = "draft"
    active = "active"
    on_hold = "on-hold"
    revoked = "revoked"
    completed = "completed"
    entered_in_error = "entered-in-error"


# Which plan status may follow which (FHIR allows more; these are the moves a coordinator makes).
PLAN_TRANSITIONS: dict[str, frozenset[str]] = {
    "draft": frozenset({"active", "on-hold", "revoked", "entered-in-error"}),
    "active": frozenset({"on-hold", "completed", "revoked", "entered-in-error"}),
    "on-hold": frozenset({"active", "completed", "revoked", "entered-in-error"}),
    "completed": frozenset({"active", "entered-in-error"}),
    "revoked": frozenset({"active", "entered-in-error"}),
    "entered-in-error": frozenset(),
}
# A plan in one of these takes no new goals or tasks until it is reopened.
PLAN_CLOSED = frozenset({"completed", "revoked", "entered-in-error"})


class GoalLifecycle(StrEnum):
    """FHIR Goal.lifecycleStatus."""

    proposed = "proposed"
    planned = "planned"
    accepted = "accepted"
    active = "active"
    on_hold = "on-hold"
    completed = "completed"
    cancelled = "cancelled"
    entered_in_error = "entered-in-error"
    rejected = "rejected"


GOAL_CLOSED = frozenset({"completed", "cancelled", "entered-in-error", "rejected"})


class GoalAchievement(StrEnum):
    """FHIR Goal.achievementStatus."""

    in_progress = "in-progress"
    improving = "improving"
    worsening = "worsening"
    no_change = "no-change"
    achieved = "achieved"
    sustaining = "sustaining"
    not_achieved = "not-achieved"
    no_progress = "no-progress"
    not_attainable = "not-attainable"


class TaskStatus(StrEnum):
    """The everyday subset of FHIR Task.status the CLI works with (requested = open)."""

    requested = "requested"
    in_progress = "in-progress"
    on_hold = "on-hold"
    completed = "completed"
    cancelled = "cancelled"


TASK_OPEN = frozenset({"requested", "in-progress", "on-hold"})
# How a status reads in a sentence or a narrow column.
TASK_STATUS_WORDS = {"requested": "open", "in-progress": "started", "on-hold": "on hold"}
TASK_TRANSITIONS: dict[str, frozenset[str]] = {
    "requested": frozenset({"in-progress", "on-hold", "completed", "cancelled"}),
    "in-progress": frozenset({"requested", "on-hold", "completed", "cancelled"}),
    "on-hold": frozenset({"requested", "in-progress", "completed", "cancelled"}),
    "completed": frozenset({"requested"}),
    "cancelled": frozenset({"requested"}),
}


class TaskPriority(StrEnum):
    """FHIR request priority."""

    routine = "routine"
    urgent = "urgent"
    asap = "asap"
    stat = "stat"


PRIORITY_RANK = {"stat": 0, "asap": 1, "urgent": 2, "routine": 3}


class AppointmentType(StrEnum):
    """What kind of appointment it is."""

    home_visit = "home-visit"
    office = "office"
    phone = "phone"
    telehealth = "telehealth"
    pcp = "pcp"
    specialist = "specialist"
    other = "other"


APPOINTMENT_TYPE_LABELS = {
    "home-visit": "Home visit",
    "office": "Office visit",
    "phone": "Phone call",
    "telehealth": "Telehealth",
    "pcp": "PCP visit",
    "specialist": "Specialist visit",
    "other": "Appointment",
}
# Types the coordinator attends unless told otherwise (--attending/--not-attending): only appointments
# the coordinator attends take the coordinator's time, so only they can clash with each other.
ATTENDED_APPOINTMENT_TYPES = frozenset({"home-visit", "phone", "telehealth"})


class AppointmentStatus(StrEnum):
    """FHIR Appointment.status."""

    proposed = "proposed"
    pending = "pending"
    booked = "booked"
    arrived = "arrived"
    fulfilled = "fulfilled"
    cancelled = "cancelled"
    noshow = "noshow"
    entered_in_error = "entered-in-error"
    checked_in = "checked-in"
    waitlist = "waitlist"


# Statuses whose time no longer blocks the coordinator's calendar.
APPOINTMENT_FREE = frozenset({"cancelled", "entered-in-error", "noshow"})


class NewAppointmentStatus(StrEnum):
    """The statuses a new appointment may have (``appt add --status``)."""

    proposed = "proposed"
    booked = "booked"


NEW_APPOINTMENT_STATUSES = frozenset(status.value for status in NewAppointmentStatus)

# How long an appointment lasts when neither --end nor --duration is given (minutes).
DEFAULT_APPOINTMENT_MINUTES = {"phone": 30, "telehealth": 30}
DEFAULT_MINUTES_OTHERWISE = 60


class Channel(StrEnum):
    """How a communication happened."""

    phone = "phone"
    visit = "visit"
    video = "video"
    message = "message"
    letter = "letter"
    email = "email"


class Direction(StrEnum):
    """Who started it."""

    outbound = "outbound"
    inbound = "inbound"


class Outcome(StrEnum):
    """How a contact attempt ended."""

    reached = "reached"
    no_answer = "no-answer"
    left_message = "left-message"
    wrong_number = "wrong-number"
    declined = "declined"


class Complexity(StrEnum):
    """Medical decision-making complexity of a transition of care."""

    moderate = "moderate"
    high = "high"


# --- program enrolment and consent (issue 15) ------------------------------------------------------


class Program(StrEnum):
    """A Medicare care-management or navigation program a patient may be enrolled in (with consent)."""

    ccm = "ccm"  # chronic care management
    complex_ccm = "complex-ccm"  # complex chronic care management
    pcm = "pcm"  # principal care management
    tcm = "tcm"  # transitional care management
    chi = "chi"  # community health integration
    pin = "pin"  # principal illness navigation
    apcm = "apcm"  # advanced primary care management


PROGRAM_NAMES = {
    "ccm": "Chronic care management",
    "complex-ccm": "Complex chronic care management",
    "pcm": "Principal care management",
    "tcm": "Transitional care management",
    "chi": "Community health integration",
    "pin": "Principal illness navigation",
    "apcm": "Advanced primary care management",
}
# Programs billed by the minutes of a calendar month: a log entry's minutes count toward one of them.
TIME_BASED_PROGRAMS = ("ccm", "complex-ccm", "pcm", "chi", "pin")


class Consent(StrEnum):
    """How the patient gave the consent Medicare requires before care management."""

    verbal = "verbal"
    written = "written"


# --- screenings (issue 13) ------------------------------------------------------------------------


class AnsweredBy(StrEnum):
    """Who answered a screening's questions (FHIR QuestionnaireResponse.source, in words)."""

    self_ = "self"
    coordinator = "coordinator"
    proxy = "proxy"


# Social-need domains, as the codes of the Gravity Project's SDOHCC ValueSet SDOH Category
# (http://hl7.org/fhir/us/sdoh-clinicalcare/ValueSet/SDOHCC-ValueSetSDOHCategory, code system
# http://hl7.org/fhir/us/sdoh-clinicalcare/CodeSystem/SDOHCC-CodeSystemTemporaryCodes, STU 2.x): the
# domains a screening can find positive (the AHC HRSN tool's and the Hunger Vital Sign's), and the
# codes referrals are matched on. Gravity has no "interpersonal safety" code: the AHC safety
# questions (HITS) are a partner-violence screen, so that domain is intimate-partner-violence.
# (SDOH_DOMAINS, the value set's codes, is defined with the resources below.)
# How a domain reads in a plan's needs and in reports.
SDOH_DOMAIN_LABELS = {
    "food-insecurity": "Food insecurity",
    "housing-instability": "Housing instability",
    "homelessness": "Homelessness",
    "inadequate-housing": "Inadequate housing",
    "transportation-insecurity": "Transportation insecurity",
    "utility-insecurity": "Utility insecurity",
    "intimate-partner-violence": "Interpersonal safety (intimate partner violence)",
    "depression": "Depression",
    "anxiety": "Anxiety",
    "fall-risk": "Fall risk",
}


# --- community resources and referrals (issue 14) -------------------------------------------------

# The social-need domains: the codes of the Gravity Project's SDOH category value set, spelled as the
# value set spells them ("SDOHCC ValueSet SDOH Category", SDOH Clinical Care IG STU 2.3.0,
# http://hl7.org/fhir/us/sdoh-clinicalcare/ValueSet/SDOHCC-ValueSetSDOHCategory, codes from the code
# system http://hl7.org/fhir/us/sdoh-clinicalcare/CodeSystem/SDOHCC-CodeSystemTemporaryCodes), in the
# value set's order. Left out: 'sdoh-category-unspecified' (not a need one can refer for).
SDOH_DOMAINS: tuple[str, ...] = (
    "food-insecurity",
    "housing-instability",
    "homelessness",
    "inadequate-housing",
    "transportation-insecurity",
    "financial-insecurity",
    "material-hardship",
    "educational-attainment",
    "employment-status",
    "veteran-status",
    "stress",
    "social-connection",
    "intimate-partner-violence",
    "elder-abuse",
    "personal-health-literacy",
    "health-insurance-coverage-status",
    "medical-cost-burden",
    "digital-literacy",
    "digital-access",
    "utility-insecurity",
    "incarceration-status",
    "language-access",
)
# Resources that are not for a social need: the clinical kinds a coordinator refers to.
CLINICAL_RESOURCE_KINDS: tuple[str, ...] = (
    "specialist",
    "home-health",
    "behavioral-health",
    "medical-equipment",
    "pharmacy",
    "other",
)
RESOURCE_CATEGORIES: tuple[str, ...] = SDOH_DOMAINS + CLINICAL_RESOURCE_KINDS
# Everyday words for a category, accepted wherever one is typed or imported; the code is stored.
RESOURCE_CATEGORY_SYNONYMS: dict[str, str] = {
    "food": "food-insecurity",
    "housing": "housing-instability",
    "homeless": "homelessness",
    "shelter": "homelessness",
    "transportation": "transportation-insecurity",
    "transport": "transportation-insecurity",
    "rides": "transportation-insecurity",
    "utilities": "utility-insecurity",
    "utility": "utility-insecurity",
    "financial": "financial-insecurity",
    "money": "financial-insecurity",
    "employment": "employment-status",
    "jobs": "employment-status",
    "education": "educational-attainment",
    "veterans": "veteran-status",
    "social": "social-connection",
    "loneliness": "social-connection",
    "ipv": "intimate-partner-violence",
    "domestic-violence": "intimate-partner-violence",
    "insurance": "health-insurance-coverage-status",
    "language": "language-access",
    "home health": "home-health",
    "behavioral health": "behavioral-health",
    "mental-health": "behavioral-health",
    "mental health": "behavioral-health",
    "dme": "medical-equipment",
}


def category_label(code: str) -> str:
    """``food-insecurity`` -> ``Food insecurity``: how a category reads in a sentence or a chart."""
    return code.replace("-", " ").capitalize()


class ResourceStatus(StrEnum):
    """Whether a resource is offered for new referrals; a retired one is kept for its referrals' history."""

    active = "active"
    retired = "retired"


class ReferralKind(StrEnum):
    """Who a referral goes to."""

    community = "community"
    specialist = "specialist"
    home_health = "home-health"
    behavioral_health = "behavioral-health"
    program = "program"
    other = "other"


class ReferralStatus(StrEnum):
    """Where a referral is: the Gravity closed-loop states (ServiceRequest + Task status), as a
    coordinator names them."""

    draft = "draft"
    sent = "sent"
    received = "received"
    accepted = "accepted"
    rejected = "rejected"
    scheduled = "scheduled"
    completed = "completed"
    closed = "closed"
    on_hold = "on-hold"
    cancelled = "cancelled"
    failed = "failed"


class ReferralOutcome(StrEnum):
    """What came of a referral, recorded when it completes or closes."""

    got_help = "got-help"
    partly_helped = "partly-helped"
    could_not_contact = "could-not-contact"
    not_eligible = "not-eligible"
    no_capacity = "no-capacity"
    patient_declined = "patient-declined"
    other = "other"


class ConsentMethod(StrEnum):
    """How the patient consented to share their information with the organization referred to."""

    verbal = "verbal"
    written = "written"


# --- insurance coverage and prior authorizations (issue 15) ---------------------------------------


class CoverageType(StrEnum):
    """What kind of insurance a coverage is (``coverage add --type``): the coordinator's words, from
    issue 15, not a FHIR value set (FHIR's Coverage.type example codes are v3 ActCode insurance
    types, such as PUBLICPOL); a FHIR export would map them."""

    medicare = "medicare"
    medicare_advantage = "medicare-advantage"
    medicaid = "medicaid"
    dual = "dual"  # Medicare and Medicaid both
    commercial = "commercial"
    marketplace = "marketplace"
    va = "va"
    tricare = "tricare"
    self_pay = "self-pay"
    other = "other"


class CoverageOrder(StrEnum):
    """Order of benefits: which payer is billed first. FHIR R4 Coverage.order is a positiveInt
    ("relative order of the coverage"; https://hl7.org/fhir/R4/coverage.html): primary 1, secondary 2,
    tertiary 3 in an export."""

    primary = "primary"
    secondary = "secondary"
    tertiary = "tertiary"


class CoverageStatus(StrEnum):
    """FHIR R4 Coverage.status, from the financial resource status codes (active, cancelled, draft,
    entered-in-error: https://hl7.org/fhir/R4/valueset-fm-status.html), less draft, which a
    coordinator does not record. An ended coverage stays active with a period end, as in FHIR."""

    active = "active"
    cancelled = "cancelled"
    entered_in_error = "entered-in-error"


class AuthorizationStatus(StrEnum):
    """Where a prior authorization stands (issue 15's codes; FHIR R4 has no Authorization resource:
    a prior authorization is a Claim with use 'preauthorization' and its ClaimResponse)."""

    requested = "requested"
    approved = "approved"
    denied = "denied"
    expired = "expired"
    cancelled = "cancelled"


# Which status may follow which: a denial may be appealed (requested again), an expired or cancelled
# authorization renewed or reinstated (approved again, new dates with 'auth edit').
AUTHORIZATION_TRANSITIONS: dict[str, frozenset[str]] = {
    "requested": frozenset({"approved", "denied", "cancelled"}),
    "approved": frozenset({"expired", "cancelled", "requested"}),
    "denied": frozenset({"requested", "approved", "cancelled"}),
    "expired": frozenset({"approved", "requested"}),
    "cancelled": frozenset({"requested", "approved"}),
}


class AuthorizationUnit(StrEnum):
    """What an authorization's units count."""

    visits = "visits"
    days = "days"
    hours = "hours"
    items = "items"


# --- printable summaries (issue 16) -----------------------------------------------------------------


class SummaryAudience(StrEnum):
    """Who a printed patient summary is for: the patient and family (a plain-language care plan, no
    internal ids, MRN, risk level or billing codes), or a provider taking the patient over (a handoff)."""

    patient = "patient"
    provider = "provider"


class SummaryFormat(StrEnum):
    """A printed summary as one self-contained HTML page (print it from a browser), or Markdown text."""

    html = "html"
    markdown = "markdown"
