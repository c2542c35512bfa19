"""Clinical and billing rules as data: Medicare care-management time thresholds and the
transitional-care deadlines. Reports and services read them from here; nothing else hard-codes them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TimeBasedCode:
    """A monthly care-management program: a base CPT code at ``base_minutes`` of time, then an
    add-on code for each further full ``addon_minutes`` (up to ``max_addons`` if Medicare caps it)."""

    key: str
    name: str
    base_code: str
    base_minutes: int
    addon_code: str
    addon_minutes: int
    max_addons: int | None = None

    def level(self, minutes: int) -> tuple[int, int]:
        """(base units 0/1, add-on units) reached with ``minutes`` in the month."""
        if minutes < self.base_minutes:
            return 0, 0
        addons = (minutes - self.base_minutes) // self.addon_minutes
        if self.max_addons is not None:
            addons = min(addons, self.max_addons)
        return 1, addons

    def describe(self, minutes: int) -> str | None:
        """``99490 + 99439 x2``, or None when the base code is not reached."""
        base, addons = self.level(minutes)
        if not base:
            return None
        return self.base_code + (f" + {self.addon_code} x{addons}" if addons else "")

    def minutes_to_next(self, minutes: int) -> int | None:
        """Minutes still needed for the next unit; None when the cap is reached."""
        base, addons = self.level(minutes)
        if not base:
            return self.base_minutes - minutes
        if self.max_addons is not None and addons >= self.max_addons:
            return None
        return self.base_minutes + (addons + 1) * self.addon_minutes - minutes


# Per patient per calendar month (CMS physician fee schedule; DESIGN.md, Clinical rules).
CCM = TimeBasedCode("ccm", "Chronic care management (clinical staff)", "99490", 20, "99439", 20, max_addons=2)
COMPLEX_CCM = TimeBasedCode("complex_ccm", "Complex chronic care management", "99487", 60, "99489", 30)
PHYSICIAN_CCM = TimeBasedCode("physician_ccm", "Chronic care management (physician)", "99491", 30, "99437", 30)
PCM = TimeBasedCode("pcm", "Principal care management (clinical staff)", "99426", 30, "99427", 30)
PROGRAMS = (CCM, COMPLEX_CCM, PHYSICIAN_CCM, PCM)
# The enrolment programs (vocab.Program) whose minutes the four views above count: a log entry's
# minutes go to one program only; entries naming none count here too, as they always have.
CARE_MANAGEMENT_PROGRAMS = frozenset({"ccm", "complex-ccm", "pcm"})

# --- navigation services (issue 15) ---------------------------------------------------------------
# Community health integration: G0019 "60 minutes per calendar month" of CHI services by certified
# or trained auxiliary personnel (e.g. a community health worker), G0022 "each additional 30 minutes
# per calendar month". Source: CY 2024 PFS final rule (88 FR 78818, November 16, 2023), and the CMS
# MLN booklet "Health Equity Services in the 2024 Physician Fee Schedule Final Rule" (MLN9201074).
# No monthly cap on G0022 units was found in those sources (carecoord sets none; payers' MUEs were
# not checked).
CHI = TimeBasedCode("chi", "Community health integration", "G0019", 60, "G0022", 30)
# Principal illness navigation: G0023 "60 minutes per calendar month", G0024 "each additional 30
# minutes per calendar month"; the peer-support variant (a certified peer specialist, behavioral
# health) G0140 and G0146 on the same thresholds. Same sources as CHI; no cap found either. Which
# of the two applies depends on who furnished the service, which the log does not record: the
# report shows both, as it shows CCM by clinical staff and by the physician.
PIN = TimeBasedCode("pin", "Principal illness navigation", "G0023", 60, "G0024", 30)
PIN_PEER = TimeBasedCode("pin_peer", "Principal illness navigation, peer support", "G0140", 60, "G0146", 30)
NAVIGATION_PROGRAMS = {"chi": (CHI,), "pin": (PIN, PIN_PEER)}

# Advanced primary care management: monthly, no time threshold, by the patient's complexity.
# Source: CY 2025 PFS final rule (89 FR 97710, December 9, 2024): G0556 for a patient with one
# chronic condition or fewer; G0557 with two or more chronic conditions; G0558 with two or more
# chronic conditions who is a Qualified Medicare Beneficiary. APCM bundles CCM, PCM and TCM (and
# some communication services): the practitioner billing APCM does not bill those for the patient
# in the same month (same rule; AAFP "Using Advanced Primary Care Management Services Codes").
# The facts come from the enrolment (program enroll ... apcm --conditions N --qmb/--no-qmb), as the
# billing practitioner assesses them: carecoord keeps no problem list or Medicare Savings Program status.
# The CY 2026 PFS final rule (CMS-1832-F, October 31, 2025) kept CHI, PIN and APCM as above (it let
# marriage and family therapists and mental health counselors bill CHI and PIN, and added APCM
# behavioral-health add-ons G0568-G0570, billed with the APCM base code by the same practitioner in
# the same month; carecoord does not track those add-ons).
APCM_CODES = {"low": "G0556", "multiple": "G0557", "qmb": "G0558"}
APCM_MULTIPLE_CONDITIONS = 2
APCM_BUNDLES = frozenset({"ccm", "complex-ccm", "pcm", "tcm"})


def apcm_level(chronic_conditions: int | None, qmb: bool | None) -> tuple[str | None, str | None]:
    """The APCM code for a month and, when the recorded facts do not settle it, why not."""
    if chronic_conditions is None:
        return None, "APCM level unknown: record the number of chronic conditions (program enroll ... --conditions N)"
    if chronic_conditions < APCM_MULTIPLE_CONDITIONS:
        return APCM_CODES["low"], None
    if qmb is None:
        return None, "APCM G0557 or G0558: QMB status not recorded (--qmb or --no-qmb)"
    return (APCM_CODES["qmb"] if qmb else APCM_CODES["multiple"]), None


# Transitional care management after a hospital or facility discharge.
# Source: CMS MLN booklet "Transitional Care Management Services" (MLN908628): an interactive contact
# within 2 business days following the discharge; a face-to-face visit within 7 calendar days
# (99496, high complexity) or 14 (99495, moderate). Business days are Monday to Friday except
# holidays (CMS, "Frequently Asked Questions about Billing Medicare for Transitional Care Management
# Services"), counted in carecoord.dates.add_business_days with the `holidays` package.
TCM_CONTACT_BUSINESS_DAYS = 2
TCM_VISIT_DAYS = {"moderate": 14, "high": 7}
TCM_CODES = {"moderate": "99495", "high": "99496"}
# The TCM service period: "begins on the date of discharge and continues for the next 29 days"
# (MLN908628; CMS TCM FAQ), so the discharge day plus 29: a contact or visit after it does not count.
TCM_PERIOD_DAYS = 30
# CMS TCM FAQ: "If two or more separate attempts are made in a timely manner and documented but are
# unsuccessful, and other TCM criteria are met, the service may be reported", and attempts should go
# on until they succeed. So two or more separate log entries in the contact window (the discharge day
# to the contact due date) that did not reach anyone make the contact deadline 'attempted': neither
# met nor missed; its follow-up task stays open. An attempt is a phone, video or in-person entry
# (INTERACTIVE_CHANNELS below) whose outcome is one of these: an answered call ('declined', a wrong
# number) did not attempt the patient and reach no one, so it is not counted (carecoord's reading).
TCM_ATTEMPTS_NEEDED = 2
TCM_ATTEMPT_OUTCOMES = frozenset({"no-answer", "left-message"})
# Which logged contacts count: an interactive contact (reached, by phone, visit or video)
# and a face-to-face visit.
INTERACTIVE_CHANNELS = frozenset({"phone", "visit", "video"})
FACE_TO_FACE_CHANNELS = frozenset({"visit"})
FACE_TO_FACE_APPOINTMENTS = frozenset({"home-visit", "office", "pcp", "specialist"})
# Any fulfilled appointment is an interactive contact (phone and telehealth included).

# Patients with no successful contact for this many days are "due for contact" on the agenda.
CONTACT_DUE_DAYS = 30

# Care-management minutes in one log entry: more than this is almost always a typo (600 for 60) and
# would go straight into billing, so it needs --force; entries over LONG_ENTRY_MINUTES are pointed
# out in the month's minutes report for a check before billing.
ENTRY_MINUTES_LIMIT = 240
LONG_ENTRY_MINUTES = 120
