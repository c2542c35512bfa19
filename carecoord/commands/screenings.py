"""``carecoord screen``: standard screening instruments given to patients, their scores and flags,
history and rescreening."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer

from carecoord import phones
from carecoord.commands._common import FormatOption, YesOption, counted, date_help, new_app, store, text_option
from carecoord.output import Chart, Column, render_list
from carecoord.vocab import AnsweredBy, OutputFormat

if TYPE_CHECKING:
    from sqlmodel import Session

    from carecoord.services.instruments import Answer, Instrument
    from carecoord.services.screenings import Recorded

app = new_app(
    "Screenings: PHQ-9, GAD-7, AHC HRSN and other standard instruments, scores, safety flags and rescreening.\n\n"
    "Example: carecoord screen add 'Jane Doe' phq9"
)

PatientArg = Annotated[str, typer.Argument(help="Patient id, MRN, or an unambiguous part of the name.")]
KeyArg = Annotated[
    str,
    typer.Argument(
        metavar="KEY",
        help="Instrument key: phq2, phq9, gad2, gad7, hvs, ahc-hrsn, steadi, or one loaded (see 'screen instruments').",
    ),
]
ScreeningArg = Annotated[str, typer.Argument(metavar="ID", help="The screening's id (see 'carecoord screen list').")]

SCREENING_COLUMNS = (
    Column("id", "ID", no_wrap=True),
    Column("taken_on", "Date", no_wrap=True),
    Column("patient_name", "Patient", min_width=12),
    Column("instrument", "Instrument", no_wrap=True),
    Column("score", "Score", no_wrap=True),
    Column("band_display", "Band"),
    Column("positive_domains", "Positive", min_width=18, show=lambda r: ", ".join(r["positive_domains"]) or "-"),
    Column("safety", "Safety", no_wrap=True,
           show=lambda r: ("OPEN" if r["safety_open"] else "followed up") if r["safety_flag"] else ""),
)  # fmt: skip
ITEM_COLUMNS = (
    Column("id", "#", no_wrap=True),
    Column("question", "Question", min_width=20),
    Column("answer_text", "Answer", min_width=10),
    Column("answer", "Code", no_wrap=True),
    Column("score", "Score", no_wrap=True),
)
INSTRUMENT_COLUMNS = (
    Column("key", "Key", no_wrap=True),
    Column("title", "Name", min_width=20),
    Column("items", "Items", no_wrap=True),
    Column("loinc", "LOINC", no_wrap=True, show=lambda r: r["loinc"] or "(none)"),
    Column("rescreen_days", "Rescreen", no_wrap=True,
           show=lambda r: f"{r['rescreen_days']} d" if r["rescreen_days"] else "-"),
    Column("shipped", "Source", no_wrap=True, show=lambda r: "shipped" if r["shipped"] else "loaded"),
)  # fmt: skip
QUESTION_COLUMNS = (
    Column("id", "#", no_wrap=True),
    Column("loinc", "LOINC", no_wrap=True),
    Column("question", "Question", min_width=24),
    Column("answers", "Answers (code = text, score)", min_width=24, show=lambda r: "; ".join(
        f"{a['code']} = {a['display']}" + (f" ({a['score']})" if a["score"] is not None else "")
        for a in r["answers"]) + (" [choose all that apply, e.g. 1+3]" if r["choose_all"] else "")
        + ("" if r["required"] else " [may be skipped]")),
)  # fmt: skip
HISTORY_COLUMNS = (
    Column("id", "ID", no_wrap=True),
    Column("taken_on", "Date", no_wrap=True),
    Column("score", "Score", no_wrap=True),
    Column("band_display", "Band"),
    Column("change", "Change", no_wrap=True, show=lambda r: "" if r["change"] is None else f"{r['change']:+d}"),
    Column("notes", "", show=lambda r: ", ".join(w for w, on in (("response", r["response"]),
                                                                 ("remission", r["remission"]),
                                                                 ("SAFETY FLAG", r["safety_flag"])) if on)),
)  # fmt: skip
DUE_COLUMNS = (
    Column("patient_id", "ID", no_wrap=True),
    Column("patient_name", "Patient", min_width=12),
    Column("instrument", "Instrument", no_wrap=True),
    Column("last_on", "Last", no_wrap=True, show=lambda r: f"{r['last_on']} {r['last_instrument']}"
           if r["last_on"] else "never"),
    Column("due_on", "Due", no_wrap=True, show=lambda r: r["due_on"] or "now"),
    Column("why", "Why"),
)  # fmt: skip
CADENCE_COLUMNS = (
    Column("instrument", "Instrument", no_wrap=True),
    Column("every_days", "Every", no_wrap=True,
           show=lambda r: f"{r['every_days']} days" if r["every_days"] else "never"),
    Column("sooner_days", "While positive", no_wrap=True,
           show=lambda r: f"{r['sooner_days']} days" if r["sooner_days"] else "-"),
    Column("changed", "Set by", no_wrap=True, show=lambda r: "team" if r["changed"] else "default"),
)  # fmt: skip


# --- instruments -----------------------------------------------------------------------------------


@app.command("instruments")
def instruments_(
    show: Annotated[
        str | None,
        typer.Option(
            "--show", metavar="KEY", help="Print one instrument's questions and answer codes, e.g. --show phq9."
        ),
    ] = None,
    add: Annotated[
        str | None,
        typer.Option(
            "--add",
            metavar="FILE",
            help="Load your own instrument (same JSON format as the shipped ones), e.g. a licensed PRAPARE.",
        ),
    ] = None,
    remove: Annotated[
        str | None,
        typer.Option("--remove", metavar="KEY", help="Remove an instrument you loaded (one no screening used)."),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """The screening instruments: key, name, number of questions, LOINC panel code, rescreening interval.

    Shipped: phq2, phq9, gad2, gad7, hvs, ahc-hrsn, steadi. Instruments loaded with --add are kept in the
    store, so everyone on a team store can give them.

    Example: carecoord screen instruments --show ahc-hrsn
    """
    from carecoord.errors import UsageError
    from carecoord.screening_records import INSTRUMENT_KEYS, instrument_record, question_records
    from carecoord.services import screenings

    if sum(option is not None for option in (show, add, remove)) > 1:
        raise UsageError("give one of --show, --add or --remove")
    if add is not None:
        _add_instrument(add, fmt)
        return
    if remove is not None:
        with store(write=True) as session:
            row = screenings.remove_instrument(session, remove)
        print(f"Removed instrument {row.key} ({row.title}).")
        return
    with store(write=False) as session:
        if show is not None:
            found = screenings.instrument(session, show)
            _show_instrument(found, question_records(found), fmt)
            return
        known = screenings.all_instruments(session)
        every = screenings.cadences(session, known)
        records = [instrument_record(i, every[i.key].every_days) for i in known]
    render_list(records, INSTRUMENT_COLUMNS, fmt, keys=INSTRUMENT_KEYS, title=f"Screening instruments ({len(records)})")


def _show_instrument(found: Instrument, questions: list[dict[str, Any]], fmt: OutputFormat) -> None:
    from carecoord.output import to_json

    if fmt is OutputFormat.json:
        print(to_json({"key": found.key, "version": found.version, "title": found.title, "loinc": found.loinc,
                       "total_loinc": found.total_loinc, "copyright": found.copyright, "source": found.source,
                       "questions": questions}))  # fmt: skip
        return
    rows = [{**q, "answer_codes": ";".join(a["code"] for a in q["answers"])} for q in questions]
    notes = [found.preamble] if found.preamble and fmt is not OutputFormat.csv else []
    if fmt is not OutputFormat.csv:
        bands = "; ".join(f"{b.low}-{b.high} {b.display}" for b in found.bands)
        notes += [f"Scoring: {bands}" if bands else "", f"Copyright: {found.copyright}",
                  f"Source: {found.source.get('publication', '')}"]  # fmt: skip
    render_list(rows, QUESTION_COLUMNS, fmt, keys=("id", "loinc", "question", "required", "choose_all", "answer_codes"),
                title=f"{found.title} ({found.key}, LOINC {found.loinc or 'none'})",
                notes=[n for n in notes if n])  # fmt: skip


def _add_instrument(path: str, fmt: OutputFormat) -> None:
    from pathlib import Path

    from carecoord.errors import ValidationError
    from carecoord.output import confirm_change
    from carecoord.services import screenings

    try:
        text = Path(path).expanduser().read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ValidationError(f"cannot read {path}: {getattr(error, 'strerror', None) or error}") from None
    with store(write=True) as session:
        row = screenings.add_instrument(session, text, Path(path).name)
        record = {"key": row.key, "version": row.version, "title": row.title}
    confirm_change(f"Loaded instrument {row.key} ({row.title}, version {row.version}): give it with "
                   f"'carecoord screen add PATIENT {row.key}'.", record, fmt)  # fmt: skip


# --- giving one ------------------------------------------------------------------------------------


@app.command("add")
def add(
    patient: PatientArg,
    key: KeyArg,
    answers: Annotated[
        str | None,
        typer.Option(
            "--answers",
            metavar="CODES",
            help="The answer codes in question "
            "order, comma-separated (an empty one skips an optional question; 1+3 for choose-all), "
            "e.g. --answers 1,0,2,0,1,0,0,1,0.",
        ),
    ] = None,
    answers_file: Annotated[
        str | None,
        typer.Option(
            "--answers-file",
            metavar="FILE",
            help="A JSON object of question id to answer code (a list for choose-all), as 'screen instruments "
            '--show KEY\' numbers them, e.g. a file holding: "1": "2", "2": ["1", "7"] in braces.',
        ),
    ] = None,
    date: Annotated[
        str | None, typer.Option("--date", help=date_help("When it was given (default today).", past=True))
    ] = None,
    by: Annotated[
        AnsweredBy,
        typer.Option(
            "--by",
            help="Who answered: self, coordinator (reading the questions) or proxy (a family member).",
            case_sensitive=False,
        ),
    ] = AnsweredBy.self_,
    note: Annotated[str | None, text_option("--note", help="A note on this screening.")] = None,
    plan: Annotated[
        str | None,
        typer.Option(
            "--plan",
            metavar="PLAN",
            help="Add each positive social-need domain to this care plan's needs (plan id or part of its title).",
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Give a screening instrument: on a terminal it asks each question in turn (b goes back, s skips an
    optional one, Ctrl-C saves nothing); from a script give --answers or --answers-file.

    A PHQ-2 (GAD-2) of 3 or more offers on a terminal to go on to the PHQ-9 (GAD-7) with the two answers
    carried over. An answer above 0 to PHQ-9 question 9, or a positive AHC safety domain, prints a warning
    with the 988 Suicide & Crisis Lifeline and adds a stat task "Safety follow-up" due today.

    Example: carecoord screen add 'Jane Doe' gad7 --answers 1,2,1,0,0,1,0 --by self
    """
    from carecoord.commands._common import optional_date
    from carecoord.errors import UsageError
    from carecoord.services import patients, plans, screenings

    if answers is not None and answers_file is not None:
        raise UsageError("give --answers or --answers-file, not both")
    taken_on = optional_date(date, past=True)
    with store(write=False) as session:
        owner = patients.resolve(session, patient)
        given = screenings.instrument(session, key)
        plan_id = plans.resolve(session, plan, owner).id if plan else None
        follow_up = screenings.instrument(session, given.follow_up.instrument) if given.follow_up else None
        patient_id = owner.id
    interactive = answers is None and answers_file is None
    if interactive and not sys.stdin.isatty():
        raise UsageError("not on a terminal: give the answers with --answers or --answers-file "
                         f"(see 'carecoord screen instruments --show {given.key}')")  # fmt: skip
    chosen = _ask(given, {}, "nothing was saved") if interactive else _scripted(given, answers, answers_file)
    options = {"taken_on": taken_on, "answered_by": by.value, "note": note, "plan_id": plan_id}
    done = _save(patient_id, given, chosen, options, fmt)
    if interactive and done.result.follow_up is not None and follow_up is not None:
        from carecoord.errors import Interrupted

        carried = {target: answer.code for source, target in done.result.follow_up.carry.items()
                   for answer in chosen if answer.item.id == source}  # fmt: skip
        question = f"{given.name} is {done.result.score}: go on to the {follow_up.name} now, with these answers"
        kept = f"the {given.name} #{done.screening.id} is saved; the {follow_up.name} was not given"
        try:
            going_on = typer.confirm(f"{question} carried over?", default=True)
        except typer.Abort:
            raise Interrupted(f"stopped: {kept}") from None
        if going_on:
            _save(patient_id, follow_up, _ask(follow_up, carried, kept), options, fmt)


def _scripted(given: Instrument, answers: str | None, answers_file: str | None) -> list[Answer]:
    import json
    from pathlib import Path

    from carecoord.errors import ValidationError
    from carecoord.services import instruments

    if answers is not None:
        return instruments.answers_in_order(given, answers.split(","))
    assert answers_file is not None
    try:
        document = json.loads(Path(answers_file).expanduser().read_text(encoding="utf-8"))
    except OSError as error:
        raise ValidationError(f"cannot read {answers_file}: {error.strerror or error}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValidationError(f"{answers_file}: not JSON ({error})") from None
    if not isinstance(document, dict):
        raise ValidationError(f"{answers_file}: give one JSON object of question id to answer code")
    return instruments.answers_by_id(given, {str(k): v for k, v in document.items()})


def _ask(given: Instrument, carried: Mapping[str, str], outcome: str) -> list[Answer]:
    """Ask each question at the terminal; ``carried`` answers (from a PHQ-2) are offered as defaults.
    Ctrl-C or the end of input stops with ``outcome`` (what became of the data) and exit code 130."""
    from carecoord.errors import Interrupted

    try:
        return _questions(given, carried)
    except KeyboardInterrupt:
        raise Interrupted(f"interrupted: {outcome}") from None
    except EOFError:
        raise Interrupted(f"input ended before the last question: {outcome}") from None


def _questions(given: Instrument, carried: Mapping[str, str]) -> list[Answer]:
    from carecoord.errors import ValidationError
    from carecoord.services import instruments

    items = given.items
    replies: list[str | None] = [carried.get(item.id) for item in items]
    print(f"{given.title}: {len(items)} questions. {given.preamble}".rstrip())
    print(
        "Type an answer's code and Enter; b = back, s = skip (optional questions only); Ctrl-C stops and saves nothing."
    )
    n = 0
    while n < len(items):
        item = items[n]
        print(f"\n{n + 1}/{len(items)}. {item.text}")
        for option in item.options:
            print(f"   {option.code}  {option.display}")
        default = replies[n]
        hints = (["choose all that apply: 1 3"] if item.repeats else []) + ([] if item.required else ["s = skip"])
        hints += [f"Enter keeps {default}"] if default not in (None, "") else []
        reply = input(f"Answer{' (' + '; '.join(hints) + ')' if hints else ''}: ").strip()
        if reply.lower() == "b":
            if n == 0:
                print("This is the first question.")
            else:
                n -= 1
            continue
        if reply.lower() == "s":
            if item.required:
                print("This question needs an answer.")
                continue
            reply = instruments.SKIPPED
        elif not reply and default not in (None, ""):
            reply = default or ""
        elif not reply:
            print("Type one of the codes above." if item.required else "Type a code, or s to skip.")
            continue
        if item.repeats:
            reply = instruments.MULTI_SEPARATOR.join(reply.replace(",", " ").replace("+", " ").split())
        try:
            instruments.check_answer(item, reply, "that answer")
        except ValidationError as error:
            print(error.message)
            continue
        replies[n] = reply
        n += 1
    return [
        instruments.check_answer(item, reply or "", f"question {item.id}")
        for item, reply in zip(items, replies, strict=True)
    ]


def _save(patient_id: int | None, given: Instrument, chosen: Sequence[Answer], options: Mapping[str, Any],
          fmt: OutputFormat) -> Recorded:  # fmt: skip
    from carecoord.errors import NotFoundError
    from carecoord.models import CarePlan, Patient
    from carecoord.output import confirm_change
    from carecoord.screening_records import screening_record
    from carecoord.services import patients, screenings

    with store(write=True) as session:
        owner = session.get(Patient, patient_id)
        plan = session.get(CarePlan, options["plan_id"]) if options["plan_id"] else None
        if owner is None:
            raise NotFoundError(f"patient #{patient_id} was removed while the questions were asked; nothing was saved")
        done = screenings.record(session, owner, given, chosen, taken_on=options["taken_on"],
                                 answered_by=options["answered_by"], note=options["note"], plan=plan)  # fmt: skip
        record = screening_record(done.screening, owner, given, done.result.safety)
        reasons = screenings.safety_reasons(given, chosen, done.result)
        name = patients.describe(owner)
        suggested = _resources_for(session, done.screening)
    result = done.result
    band = f" ({result.band_display})" if result.band_display else ""
    score = (
        f": score {result.score}{band}" if result.score is not None else (f": {result.band_display}" if band else "")
    )
    positive = ", ".join(screenings.labels(result.domain_codes)) or "nothing"
    message = f"Recorded {given.name} #{done.screening.id} for {name} on {done.screening.taken_on}{score}"
    message += f"; positive: {positive}."
    if done.needs_added:
        message += f" Added to plan #{options['plan_id']}'s needs: {'; '.join(done.needs_added)}."
    confirm_change(message, record, fmt)
    if suggested and fmt is OutputFormat.table:
        listed = "; ".join(f"#{r['id']} {r['name']} ({r['category']})" for r in suggested)
        print(f"Resources for these needs: {listed}. Refer with: carecoord referral add {owner.id} "
              f"--resource ID --screening {done.screening.id}")  # fmt: skip
    if result.safety and done.safety_task is not None:
        _warn(name, reasons, done.safety_task.id, fmt)
    return done


def _warn(name: str, reasons: Sequence[str], task_id: int | None, fmt: OutputFormat) -> None:
    """The safety warning: on screen for people, on stderr when stdout is for a script."""
    from carecoord.services.screenings import CRISIS_LINE, SAFETY_TASK_TITLE

    bar = "!" * 72
    lines = [bar, f"!! SAFETY FLAG: {name}", *(f"!! {reason}" for reason in reasons),
             f"!! Follow up TODAY: stat task #{task_id} '{SAFETY_TASK_TITLE}' is due today.",
             f"!! {CRISIS_LINE}.", bar]  # fmt: skip
    print("\n".join(lines), file=sys.stderr if fmt in (OutputFormat.json, OutputFormat.csv) else sys.stdout)


# --- reading them back -----------------------------------------------------------------------------


def _known(session: Session) -> dict[str, Instrument]:
    from carecoord.services import screenings

    return {i.key: i for i in screenings.all_instruments(session)}


@app.command("list")
def list_(
    patient: Annotated[str | None, typer.Option("--patient", "-p", help="Only this patient's.")] = None,
    instrument: Annotated[
        str | None, typer.Option("--instrument", "-i", metavar="KEY", help="Only this instrument's, e.g. phq9.")
    ] = None,
    positive: Annotated[bool, typer.Option("--positive", help="Only positive screenings.")] = False,
    since: Annotated[str | None, typer.Option("--since", help=date_help("Given on or after.", past=True))] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Screenings, newest first: instrument, score, band, positive domains and safety flags.

    Example: carecoord screen list --instrument phq9 --positive --since -90d
    """
    from carecoord.commands._common import optional_date
    from carecoord.output import rows_shown
    from carecoord.screening_records import SCREENING_KEYS, screening_record
    from carecoord.services import patients, screenings

    with store(write=False) as session:
        known = _known(session)
        wanted = screenings.ScreeningFilter(
            patient_id=patients.resolve(session, patient).id if patient else None,
            instrument=screenings.instrument(session, instrument).key if instrument else None,
            positive=positive, since=optional_date(since, past=True), limit=rows_shown(fmt),
        )  # fmt: skip
        found = screenings.list_screenings(session, wanted)
        total = screenings.count_screenings(session, wanted) if wanted.limit and len(found) >= wanted.limit else None
        records = [screening_record(s, p, known.get(s.instrument), is_open) for s, p, is_open in found]
    render_list(records, SCREENING_COLUMNS, fmt, keys=SCREENING_KEYS, title=f"Screenings ({total or len(records)})",
                empty="No screenings match.", total=total)  # fmt: skip


@app.command("show")
def show(screening: ScreeningArg, fmt: FormatOption = OutputFormat.table) -> None:
    """One screening: every question, the answer given and its score, the total, band and flags.

    Example: carecoord screen show 12
    """
    from carecoord.models import Patient, Task
    from carecoord.output import render_record
    from carecoord.screening_records import SCREENING_KEYS, item_records, screening_record
    from carecoord.services import screenings

    with store(write=False) as session:
        found = screenings.resolve(session, screening)
        owner = session.get(Patient, found.patient_id)
        task = session.get(Task, found.safety_task_id) if found.safety_task_id else None
        given = _known(session).get(found.instrument)
        record = screening_record(found, owner, given, screenings.safety_open(found, task.status if task else None))
        record["items"] = item_records(screenings.answers_of(session, found), given)
        record["resources"] = _resources_for(session, found)
    fields = [Column(key, label) for key, label in (
        ("title", "Instrument"), ("loinc", "LOINC"), ("patient_name", "Patient"), ("taken_on", "Date"),
        ("answered_by", "Answered by"), ("score", "Score"), ("band_display", "Band"))]  # fmt: skip
    fields += [
        Column("positive_domains", "Positive", show=lambda r: ", ".join(r["positive_domains"]) or "nothing"),
        Column("safety", "Safety flag", show=lambda r: (f"OPEN (task #{r['safety_task_id']})" if r["safety_open"]
                                                       else "followed up") if r["safety_flag"] else None),
        Column("plan_id", "Plan"), Column("note", "Note"),
    ]  # fmt: skip
    render_record(record, fields, fmt, keys=SCREENING_KEYS, title=f"Screening #{record['id']}",
                  sections=(("Questions and answers", "items", ITEM_COLUMNS),
                            ("Resources for the needs it found", "resources", RESOURCE_COLUMNS)))  # fmt: skip
    if record["resources"] and fmt is OutputFormat.table:
        print(f"Refer with: carecoord referral add {record['patient_id']} --resource ID --screening {record['id']}")


RESOURCE_COLUMNS = (
    Column("id", "ID", no_wrap=True),
    Column("name", "Resource", min_width=14),
    Column("category", "Need", no_wrap=True),
    Column("phone", "Phone", no_wrap=True, show=phones.shown()),
)


def _resources_for(session: Any, screening: Any) -> list[dict[str, Any]]:
    """The directory's active resources for the social needs ``screening`` found (issue 14, item 7)."""
    from carecoord.services import resources, screenings

    found = resources.for_needs(session, screenings.positive_social_needs(session, screening.id))
    return [{"id": r.id, "name": r.name, "category": r.category, "phone": r.phone} for r in found]


@app.command("history")
def history(patient: PatientArg, key: KeyArg, fmt: FormatOption = OutputFormat.table) -> None:
    """A patient's scores on one instrument over time, with the change since the previous one and a
    chart; for the PHQ-9, response (a 50% drop from the first) and remission (under 5).

    Example: carecoord screen history 'Jane Doe' phq9
    """
    from carecoord.screening_records import HISTORY_KEYS, history_record
    from carecoord.services import patients, screenings

    with store(write=False) as session:
        owner = patients.resolve(session, patient)
        given = screenings.instrument(session, key)
        records = [history_record(point, given) for point in screenings.history(session, owner, given)]
        name = patients.describe(owner)
    scored = [(f"{r['taken_on']}", r["score"]) for r in records if r["score"] is not None]
    render_list(records, HISTORY_COLUMNS, fmt, keys=HISTORY_KEYS, title=f"{given.title}: {name}",
                empty=f"No {given.key} screenings for {name}.",
                chart=Chart(f"{given.key} score over time", scored) if scored else None)  # fmt: skip


@app.command("delete")
def delete(screening: ScreeningArg, yes: YesOption = False) -> None:
    """Delete a screening entered in error, with its answers (the audit trail keeps what it was); an open
    safety follow-up task it raised is cancelled.

    Example: carecoord screen delete 12 --yes
    """
    from carecoord.commands._common import confirm_or_refuse
    from carecoord.services import screenings

    with store(write=False) as session:
        found = screenings.resolve(session, screening)
        what = f"screening #{found.id} ({found.instrument} on {found.taken_on})"
    confirm_or_refuse(f"Delete {what}?", yes)
    with store(write=True) as session:
        cancelled = screenings.delete(session, screenings.resolve(session, screening))
    extra = f" Cancelled its safety follow-up task #{cancelled.id}." if cancelled else ""
    print(f"Deleted {what}.{extra}")


# --- rescreening -----------------------------------------------------------------------------------


@app.command("cadence")
def cadence(
    key: Annotated[str | None, typer.Argument(metavar="KEY", help="Instrument key; none lists them all.")] = None,
    interval: Annotated[
        str | None,
        typer.Argument(
            metavar="INTERVAL",
            help="How often: 28d, 4w, 6m (30 days "
            "each), 1y (365 days); 'off' to stop rescreening it; 'default' for its own interval.",
        ),
    ] = None,
    sooner: Annotated[
        str | None,
        typer.Option(
            "--while-positive",
            metavar="INTERVAL",
            help="A shorter interval while the last result is positive, e.g. 4w.",
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """How often each instrument is given again (the whole team's). Defaults: PHQ-9 and GAD-7 every 28
    days while the last score is 10 or more, otherwise yearly; AHC HRSN and STEADI yearly.

    Example: carecoord screen cadence ahc-hrsn 6m
    """
    from carecoord.errors import UsageError
    from carecoord.output import confirm_change
    from carecoord.screening_records import CADENCE_KEYS, cadence_record
    from carecoord.services import screenings

    if interval is None:
        if sooner is not None:
            raise UsageError("--while-positive needs an INTERVAL too")
        with store(write=False) as session:
            every = screenings.cadences(session)
            records = [cadence_record(c) for k, c in every.items() if key is None or k == key.strip().casefold()]
            if key is not None:
                screenings.instrument(session, key)
        render_list(records, CADENCE_COLUMNS, fmt, keys=CADENCE_KEYS, title="Rescreening intervals")
        return
    assert key is not None
    word = interval.strip().lower()
    with store(write=True) as session:
        given = screenings.instrument(session, key)
        if word == "default":
            if sooner is not None:
                raise UsageError("--while-positive does not go with 'default'")
            result = screenings.reset_cadence(session, given)
        else:
            every_days = None if word == "off" else screenings.parse_interval(interval)
            sooner_days = screenings.parse_interval(sooner) if sooner else None
            result = screenings.set_cadence(session, given, every_days, sooner_days)
    if result.every_days is None:
        said = "is not rescreened"
    else:
        said = f"is given every {counted(result.every_days, 'day')}"
        if result.sooner_days:
            said += f", every {counted(result.sooner_days, 'day')} while positive"
    confirm_change(f"{given.key} {said}{'' if result.changed else ' (its default)'}.", cadence_record(result), fmt)


@app.command("due")
def due(
    instrument: Annotated[
        str | None, typer.Option("--instrument", "-i", metavar="KEY", help="Only this instrument, e.g. phq9.")
    ] = None,
    mine: Annotated[bool, typer.Option("--mine", help="Only your patients.")] = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Active patients due for rescreening today or overdue, or never screened, by instrument (most
    overdue first).

    Example: carecoord screen due --instrument phq9
    """
    from carecoord.commands._common import whose
    from carecoord.dates import today
    from carecoord.screening_records import DUE_KEYS, due_record
    from carecoord.services import screenings

    with store(write=False) as session:
        key = screenings.instrument(session, instrument).key if instrument else None
        found = screenings.due(session, instrument_key=key, coordinator=whose(session, mine, None))
    now = today()
    records = [due_record(item, now) for item in found]
    never = sum(1 for r in records if r["due_on"] is None)
    render_list(records, DUE_COLUMNS, fmt, keys=DUE_KEYS,
                title=f"Screenings due ({len(records)}, {never} never screened)", empty="Nobody is due.")  # fmt: skip
