"""``carecoord referral``: referrals to community resources and clinical services, with the loop closed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import typer

from carecoord.commands._common import (
    CoordinatorOption,
    FormatOption,
    MineOption,
    date_help,
    new_app,
    store,
    text_option,
)
from carecoord.output import Column, confirm_change, render_list, render_record
from carecoord.vocab import (
    ConsentMethod,
    OutputFormat,
    ReferralKind,
    ReferralOutcome,
    ReferralStatus,
    TaskPriority,
)

app = new_app(
    "Referrals to community resources and clinical services, from draft to 'did the patient get help'.\n\n"
    "Example: carecoord referral add jane --resource 'food pantry' --consent verbal"
)

ReferralArg = Annotated[str, typer.Argument(help="The referral's id (see 'referral list').")]
NEEDS = "an SDOH domain code such as food-insecurity, housing-instability, transportation-insecurity ('food' works too)"
NeedOpt = Annotated[str | None, typer.Option("--need", "-n", metavar="DOMAIN", help=f"The social need: {NEEDS}.")]
KindOpt = Annotated[
    ReferralKind | None,
    typer.Option("--kind", "-k", help="Who it goes to (default: from the resource's category, else community or "
                 "other).", case_sensitive=False),
]  # fmt: skip
PriorityOpt = Annotated[
    TaskPriority | None, typer.Option("--priority", help="How soon: routine (default), urgent, asap, stat.")
]
FollowUpOpt = Annotated[
    str | None,
    typer.Option("--follow-up", metavar="DAYS",
                 help="Business days to the first follow-up task (default 3d); 1w is 5 business days."),
]  # fmt: skip
ResourceOpt = Annotated[
    str | None, typer.Option("--resource", "-r", help="A resource from the directory: its id or part of its name.")
]
ToOpt = Annotated[
    str | None,
    typer.Option("--to", metavar="NAME", help="A recipient not in the directory, e.g. 'Dr. Patel, cardiology'."),
]
ConsentByOpt = Annotated[
    str | None,
    typer.Option("--consent-by", metavar="NAME",
                 help="Who consented, when not the patient (a guardian or representative)."),
]  # fmt: skip
REFERRAL_COLUMNS = (
    Column("id", "ID", no_wrap=True),
    Column("patient_name", "Patient", min_width=12),
    Column("recipient", "To", min_width=12),
    Column("need", "Need"),
    Column("status", "Status", no_wrap=True,
           show=lambda r: r["status"] + (f" ({r['outcome']})" if r["outcome"] else "")),
    Column("changed_at", "Last change", no_wrap=True,
           show=lambda r: f"{r['changed_at']:%Y-%m-%d}" + (" STALLED" if r["stalled"] else "")),
    Column("consent_method", "Consent", show=lambda r: r["consent_method"] or "none"),
)  # fmt: skip
HISTORY_COLUMNS = (
    Column("happened_on", "Date", no_wrap=True),
    Column("action", "What", show=lambda e: _event_words(e)),
    Column("note", "Note", first_line=True),
    Column("recorded_by", "By"),
)
REFERRAL_FIELDS = (
    Column("patient_name", "Patient"),
    Column("recipient", "To"),
    Column("resource_id", "Resource", show=lambda r: f"#{r['resource_id']}" if r["resource_id"] else None),
    Column("kind", "Kind"),
    Column("need", "Need"),
    Column("screening_id", "Found by", show=lambda r: f"screening #{r['screening_id']}" if r["screening_id"] else None),
    Column("reason", "Reason"),
    Column("priority", "Priority"),
    Column("status", "Status"),
    Column("outcome", "Outcome"),
    Column("status_reason", "Status note"),
    Column("consent_method", "Consent", show=lambda r: _consent_words(r)),
    Column("sent_on", "Sent"),
    Column("closed_on", "Closed"),
    Column("changed_at", "Last change",
           show=lambda r: f"{r['changed_at']:%Y-%m-%d %H:%M} ({_ago(r['days_since_change'])}"
           + ("; stalled" if r["stalled"] else "") + ")"),
    Column("followup_task_id", "Follow-up", show=lambda r: r.get("follow_up_text")),
    Column("notes", "Notes"),
)  # fmt: skip


def _ago(days: int) -> str:
    """How long ago a referral last changed, in days: 'today', '1 day ago', '21 days ago'."""
    return "today" if days == 0 else "1 day ago" if days == 1 else f"{days} days ago"


def _event_words(event: Mapping[str, Any]) -> str:
    if event["action"] == "status":
        outcome = f", outcome {event['outcome']}" if event["outcome"] else ""
        return f"{event['from_status']} -> {event['to_status']}{outcome}"
    return {"created": "created (draft)", "consent": "consent recorded", "edited": "edited"}.get(
        str(event["action"]), str(event["action"])
    )


def _consent_words(record: Mapping[str, Any]) -> str:
    if not record["consent_method"]:
        return "none recorded (needed before it is sent: 'carecoord referral consent ID verbal')"
    return (f"{record['consent_method']}, given by {record['consent_by']} on {record['consent_on']} "
            f"(recorded by {record['consent_recorded_by']})")  # fmt: skip


def _consent(method: ConsentMethod | None, by: str | None, on: str | None = None) -> Any:
    from carecoord.commands._common import optional_date
    from carecoord.errors import UsageError
    from carecoord.services.referrals import Consent

    if method is None:
        if by is not None:
            raise UsageError("--consent-by goes with --consent verbal|written")
        return None
    return Consent(method.value, by, optional_date(on, past=True))


def _follow_up_line(session: Any, referral: Any) -> str | None:
    from carecoord.models import Task

    if referral.followup_task_id is None:
        return None
    task = session.get(Task, referral.followup_task_id)
    if task is None:
        return None
    return f"task #{task.id} {task.title}, due {task.due_on} ({task.status})"


def _effects(record: Mapping[str, Any]) -> str:
    follow = record.get("follow_up_text")
    return f" Follow-up: {follow}." if follow else ""


@app.command("add")
def add(
    patient: Annotated[str, typer.Argument(help="Patient id, MRN, or an unambiguous part of the name.")],
    resource: ResourceOpt = None,
    to: ToOpt = None,
    kind: KindOpt = None,
    need: NeedOpt = None,
    reason: Annotated[str | None, text_option("--reason", help="Why, in a sentence the recipient can read.")] = None,
    priority: PriorityOpt = None,
    follow_up: FollowUpOpt = None,
    consent: Annotated[
        ConsentMethod | None,
        typer.Option(
            "--consent",
            help="The patient consented to share their information with the recipient: "
            "verbal or written (needed before it is sent).",
            case_sensitive=False,
        ),
    ] = None,
    consent_by: ConsentByOpt = None,
    notes: Annotated[str | None, text_option("--notes", help="Free-text notes.")] = None,
    screening: Annotated[
        int | None,
        typer.Option(
            "--screening",
            metavar="ID",
            help="The screening that found the need (see 'screen list'): the need is checked against it, and "
            "taken from it when the screening found one need or the resource is for one it found.",
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Refer a patient to a resource (--resource) or anyone else (--to). It starts as a draft with a
    follow-up task (check that it was received, due after --follow-up business days); send it with
    'referral status ID sent' once consent is recorded.

    Example: carecoord referral add jane --resource 'food pantry' --consent verbal --reason 'Out of food twice'
    """
    from carecoord.services import patients, referrals, resources

    new_follow_up = referrals.parse_follow_up(follow_up) if follow_up is not None else None
    with store(write=True) as session:
        owner = patients.resolve(session, patient)
        target = resources.resolve(session, resource, active_only=True) if resource is not None else None
        new = referrals.NewReferral(
            resource=target, to=to, kind=kind.value if kind else None, need=need, reason=reason,
            priority=priority.value if priority else TaskPriority.routine.value,
            follow_up_days=new_follow_up or referrals.DEFAULT_FOLLOW_UP_DAYS,
            consent=_consent(consent, consent_by), notes=notes, screening_id=screening,
        )  # fmt: skip
        referral = referrals.add_referral(session, owner, new)
        record = _record(session, referral, owner.name)
    consent_note = "" if referral.consent_method else " No consent recorded yet: it stays a draft until there is."
    confirm_change(f"Added referral {referrals.describe(referral)} for {patients.describe(owner)}."
                   f"{_effects(record)}{consent_note}", record, fmt)  # fmt: skip


def _record(session: Any, referral: Any, patient_name: str | None) -> dict[str, Any]:
    from carecoord.records import referral_record
    from carecoord.services.referrals import stalled_days

    record = referral_record(referral, patient_name, stalled_after=stalled_days())
    record["follow_up_text"] = _follow_up_line(session, referral)
    return record


@app.command("list")
def list_(
    patient: Annotated[str | None, typer.Option("--patient", "-p", help="Only this patient's referrals.")] = None,
    status: Annotated[
        list[ReferralStatus] | None, typer.Option("--status", "-s", help="Only in this status (repeatable).")
    ] = None,
    open_: Annotated[bool, typer.Option("--open", help="Only open ones (not closed or cancelled).")] = False,
    stalled: Annotated[
        bool,
        typer.Option(
            "--stalled",
            help="Only open ones with no change for 14 days (CARECOORD_STALLED_DAYS sets "
            "another number), longest stalled first.",
        ),
    ] = False,
    resource: Annotated[str | None, typer.Option("--resource", "-r", help="Only those to this resource.")] = None,
    need: NeedOpt = None,
    mine: MineOption = False,
    coordinator: CoordinatorOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """List referrals, newest first (stalled ones: longest stalled first).

    Example: carecoord referral list --open --need food-insecurity
    """
    from carecoord.commands._common import whose
    from carecoord.output import rows_shown
    from carecoord.records import REFERRAL_KEYS, referral_record
    from carecoord.services import patients, referrals, resources

    with store(write=False) as session:
        wanted = referrals.ReferralFilter(
            patient_id=patients.resolve(session, patient).id if patient else None,
            statuses=frozenset(s.value for s in status) if status else None, open_only=open_, stalled=stalled,
            resource_id=resources.resolve(session, resource).id if resource else None,
            need=referrals.need_code(need), coordinator=whose(session, mine, coordinator), limit=rows_shown(fmt),
        )  # fmt: skip
        days = referrals.stalled_days()
        records = [referral_record(r, p.name, stalled_after=days) for r, p in referrals.list_referrals(session, wanted)]
        total = referrals.count_referrals(session, wanted) if wanted.limit and len(records) >= wanted.limit else None
    title = f"{'Stalled referrals' if stalled else 'Referrals'} ({total or len(records)})"
    render_list(records, REFERRAL_COLUMNS, fmt, keys=REFERRAL_KEYS, title=title, total=total,
                empty="No stalled referrals." if stalled else "No referrals.")  # fmt: skip


@app.command("show")
def show(referral: ReferralArg, fmt: FormatOption = OutputFormat.table) -> None:
    """Show a referral with its whole history: every move, consent and edit, who recorded it and when.

    Example: carecoord referral show 3
    """
    from carecoord.models import Patient
    from carecoord.records import REFERRAL_KEYS, referral_event_record
    from carecoord.services import referrals

    with store(write=False) as session:
        found = referrals.resolve(session, referral)
        owner = session.get(Patient, found.patient_id)
        record = _record(session, found, owner.name if owner else None)
        record["history"] = [referral_event_record(e) for e in referrals.history(session, found)]
    flat = {key: record[key] for key in REFERRAL_KEYS}
    render_record(record, REFERRAL_FIELDS, fmt, keys=REFERRAL_KEYS, flat=flat,
                  title=f"Referral #{found.id}", sections=(("History", "history", HISTORY_COLUMNS),))  # fmt: skip


@app.command("status")
def status(
    referral: ReferralArg,
    new_status: Annotated[
        ReferralStatus,
        typer.Argument(
            metavar="STATUS",
            help="sent, received, accepted, rejected, scheduled, completed, closed, "
            "on-hold, cancelled (give --note why) or failed (no response).",
            case_sensitive=False,
        ),
    ],
    note: Annotated[str | None, typer.Option("--note", help="What happened, e.g. 'intake call booked'.")] = None,
    outcome: Annotated[
        ReferralOutcome | None,
        typer.Option(
            "--outcome",
            help="What came of it (needed to close): got-help, partly-helped, "
            "could-not-contact, not-eligible, no-capacity, patient-declined, other.",
            case_sensitive=False,
        ),
    ] = None,
    on: Annotated[
        str | None, typer.Option("--date", help=date_help("When it happened (default today).", past=True))
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Move a referral on; a move that makes no sense (completed back to sent) is refused. Each move is
    kept in its history and moves the follow-up task on: received -> check it was accepted; accepted
    -> confirm the first appointment; completed -> ask the patient within 7 days whether they got
    help; closed or cancelled -> its open follow-up is closed.

    Example: carecoord referral status 3 closed --outcome got-help --note 'Picking up weekly'
    """
    from carecoord.commands._common import optional_date
    from carecoord.models import Patient
    from carecoord.services import referrals

    when = optional_date(on, past=True)
    with store(write=True) as session:
        found = referrals.resolve(session, referral)
        previous = found.status
        move = referrals.Move(new_status.value, note, outcome.value if outcome else None, when)
        referrals.change_status(session, found, move)
        owner = session.get(Patient, found.patient_id)
        record = _record(session, found, owner.name if owner else None)
    done = "" if found.followup_task_id else " Its follow-up tasks are closed."
    confirm_change(f"Referral #{found.id} to {found.recipient}: {previous} -> {found.status}"
                   f"{f' ({found.outcome})' if found.outcome and found.status in ('completed', 'closed') else ''}."
                   f"{_effects(record)}{done}", record, fmt)  # fmt: skip


@app.command("consent")
def consent(
    referral: ReferralArg,
    method: Annotated[ConsentMethod, typer.Argument(help="verbal or written.", case_sensitive=False)],
    by: ConsentByOpt = None,
    on: Annotated[
        str | None, typer.Option("--date", help=date_help("When consent was given (default today).", past=True))
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Record the patient's consent to share their information with the recipient: how, who gave
    it and when (you are recorded as the one who took it).

    Example: carecoord referral consent 3 written --date yesterday
    """
    from carecoord.models import Patient
    from carecoord.services import referrals

    with store(write=True) as session:
        found = referrals.resolve(session, referral)
        referrals.record_consent(session, found, _consent(method, by, on))
        owner = session.get(Patient, found.patient_id)
        record = _record(session, found, owner.name if owner else None)
    confirm_change(f"Recorded {found.consent_method} consent from {found.consent_by} on {found.consent_on} for "
                   f"referral #{found.id} to {found.recipient}.", record, fmt)  # fmt: skip


@app.command("edit")
def edit(
    referral: ReferralArg,
    resource: ResourceOpt = None,
    to: ToOpt = None,
    kind: KindOpt = None,
    need: Annotated[
        str | None, typer.Option("--need", "-n", metavar="DOMAIN", help=f"The social need: {NEEDS} ('' clears).")
    ] = None,
    reason: Annotated[str | None, text_option("--reason", help="Why ('' clears).")] = None,
    priority: PriorityOpt = None,
    follow_up: FollowUpOpt = None,
    consent: Annotated[
        ConsentMethod | None,
        typer.Option("--consent", help="Record the patient's consent: verbal or written.", case_sensitive=False),
    ] = None,
    consent_by: ConsentByOpt = None,
    notes: Annotated[str | None, text_option("--notes", help="Free-text notes ('' clears).")] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Correct a referral (recipient, need, reason, priority, notes) or record consent; each change is
    kept in its history.

    Example: carecoord referral edit 3 --need housing-instability --priority urgent --consent written
    """
    from carecoord.commands._common import given
    from carecoord.errors import UsageError
    from carecoord.models import Patient
    from carecoord.services import referrals, resources

    fields = given(to=to, kind=kind, need=need, reason=reason, priority=priority, notes=notes)
    if follow_up is not None:
        fields["follow_up_days"] = referrals.parse_follow_up(follow_up)
    if consent_by is not None and consent is None:
        raise UsageError("--consent-by goes with --consent verbal|written")
    if not fields and resource is None and consent is None:
        raise UsageError("nothing to change: give at least one option (see 'carecoord referral edit --help')")
    with store(write=True) as session:
        found = referrals.resolve(session, referral)
        if fields or resource is not None:
            target = resources.resolve(session, resource, active_only=True) if resource is not None else None
            referrals.update_referral(session, found, fields, resource=target)
        if consent is not None:
            referrals.record_consent(session, found, _consent(consent, consent_by))
        owner = session.get(Patient, found.patient_id)
        record = _record(session, found, owner.name if owner else None)
    confirm_change(f"Updated referral {referrals.describe(found)}.", record, fmt)
