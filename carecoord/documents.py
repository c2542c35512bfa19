"""Printable documents as Markdown, built from plain records (no database, no Rich).

The same text is printed with ``--format markdown`` for sharing and rendered by Rich in the
terminal, so what a coordinator sees is what they send.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from carecoord.output import display
from carecoord.phones import display as display_phone
from carecoord.vocab import APPOINTMENT_TYPE_LABELS

# '#' is special only where it opens a heading or closes one, so only a leading or trailing one is
# escaped ("Referral #3" stays as typed).
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~]|^#|#$)")
_CHECKBOX = {"completed": "[x]", "cancelled": "[-]"}


def md(value: Any) -> str:
    """User text made literal in Markdown: special characters escaped, one line."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(display(value).split()))


def _joined(*parts: str) -> str:
    return " · ".join(part for part in parts if part)


def _task_line(task: Mapping[str, Any]) -> str:
    box = _CHECKBOX.get(task["status"], "[ ]")
    due = f"due {task['due_on']}" + (f" {task['due_time']}" if task["due_time"] else "") if task["due_on"] else ""
    details = _joined(
        due,
        task["priority"] if task["priority"] != "routine" else "",
        task["status"] if task["status"] not in ("requested", "completed") else "",
        md(task["repeat_text"]) if task["repeat_text"] else "",
        "**overdue**" if task["overdue"] else "",
    )
    return f"- {box} #{task['id']} {md(task['title'])}" + (f" ({details})" if details else "")


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(md(cell) for cell in row) + " |" for row in rows]
    return lines


def plan_markdown(plan: Mapping[str, Any]) -> str:
    """A care plan as a Markdown document (from :func:`carecoord.records.plan_document_record`)."""
    patient = plan["patient"]
    lines = [f"# Care plan #{plan['id']}: {md(plan['title'])}", ""]
    lines.append(
        "**Patient:** "
        + _joined(
            f"{md(patient['name'])} (#{patient['id']})",
            f"MRN {md(patient['mrn'])}" if patient["mrn"] else "",
            f"DOB {patient['birth_date']}" if patient["birth_date"] else "",
            f"risk {patient['risk']}" if patient["risk"] else "",
            md(display_phone(patient["phone"])) if patient["phone"] else "",
        )
        + "  "
    )
    period = f"{plan['start_on'] or '?'} to {plan['end_on'] or 'ongoing'}"
    review = ""
    if plan["next_review"]:
        days = plan["review_every_days"]
        every = (", every day" if days == 1 else f", every {days} days") if days else ""
        due = " **(due)**" if plan["review_due"] else ""
        review = f"**Next review:** {plan['next_review']}{every}{due}"
    lines += [_joined(f"**Status:** {plan['status']}", f"**Period:** {period}", review), ""]

    lines += ["## Problems and needs", ""]
    lines += [f"{n}. {md(need)}" for n, need in enumerate(plan["needs"], 1)] or ["None recorded."]
    lines.append("")

    lines += ["## Goals", ""]
    if not plan["goals"]:
        lines += ["None yet.", ""]
    for n, goal in enumerate(plan["goals"], 1):
        lines.append(f"### {n}. {md(goal['description'])} (goal #{goal['id']})")
        lines.append("")
        status = _joined(
            goal["lifecycle_status"],
            goal["achievement_status"] or "",
            f"target {goal['target_on']}" if goal["target_on"] else "",
        )
        lines.append(f"*{status}*" + (f"  \nMeasure: {md(goal['measure'])}" if goal["measure"] else ""))
        lines.append("")
        lines += [_task_line(task) for task in goal["tasks"]] or ["No tasks."]
        lines.append("")

    if plan["other_tasks"]:
        lines += ["## Other tasks", ""] + [_task_line(task) for task in plan["other_tasks"]] + [""]

    lines += ["## Care team and family", ""]
    if plan["care_team"]:
        rows = [
            (
                c["name"],
                c["role"],
                c["organization"],
                display_phone(c["phone"]),
                c["preferred_method"],
                c["consent_to_share"],
            )
            for c in plan["care_team"]
        ]
        lines += _table(("Name", "Role", "Organization", "Phone", "Prefers", "Consent"), rows)
    else:
        lines.append("None recorded.")
    lines.append("")

    if plan["reviews"]:
        lines += ["## Reviews", ""]
        for review in plan["reviews"]:
            after = f" Next review {review['next_review']}." if review["next_review"] else ""
            lines.append(f"- {review['reviewed_on']}: {md(review['note'] or 'reviewed')}.{after}")
        lines.append("")
    if plan["notes"]:
        lines += ["## Notes", "", md(plan["notes"]), ""]
    return "\n".join(lines).rstrip() + "\n"


def _appointment_line(item: Mapping[str, Any]) -> str:
    place = ", ".join(md(part) for part in (item["location"], f"with {item['with']}" if item["with"] else None) if part)
    flags = "" if item["status"] == "booked" else f" **[{item['status']}]**"
    moved = " (moved)" if item["moved"] else ""
    label = APPOINTMENT_TYPE_LABELS.get(item["type"], item["type"])
    times = f"{item['start']:%H:%M}-{item['end']:%H:%M}"
    return f"- {times} {label}: {md(item['patient_name'])}" + (f", {place}" if place else "") + moved + flags


def _dated(what: str, when: Any, overdue: bool) -> str:
    return f"{what} {when}" + (" **overdue**" if overdue else "")


def _attempts(t: Mapping[str, Any]) -> str:
    return f"{t['contact_attempts']} attempts documented, not reached yet; keep trying"


def _deadline_line(t: Mapping[str, Any], day: date) -> str:
    what = "interactive contact" if t["deadline"] == "contact" else "face-to-face visit"
    due = t[f"{t['deadline']}_due"]
    if t[f"{t['deadline']}_state"] == "attempted":
        return (f"- {what.capitalize()} after discharge from {md(t['facility'])} · {md(t['patient_name'])} · "
                f"due {due}: {_attempts(t)}")  # fmt: skip
    return (f"- {what.capitalize()} after discharge from {md(t['facility'])} · {md(t['patient_name'])} · "
            + _dated("due", due, due < day))  # fmt: skip


def _deadlines_on_tasks(day: Mapping[str, Any]) -> tuple[dict[int, str], list[Mapping[str, Any]]]:
    """A deadline whose follow-up task is listed the same day is said on the task's line (each
    deadline shows once), the others on their own: (what to add to a task's line by its id, the
    deadlines left to list)."""
    listed = {t["id"] for t in day["tasks"]}
    on_task: dict[int, str] = {}
    alone = []
    for t in day["transition_deadlines"]:
        task_id = t[f"{t['deadline']}_task_id"]
        if task_id in listed and t[f"{t['deadline']}_state"] == "attempted":
            on_task[task_id] = _attempts(t)
        else:
            alone.append(t)
    return on_task, alone


def _contact_due_line(c: Mapping[str, Any]) -> str:
    last = f"last reached {c['last_reached']:%Y-%m-%d}" if c["last_reached"] else "never reached"
    phone = f" · {md(display_phone(c['phone']))}" if c["phone"] else ""
    return f"- #{c['patient_id']} {md(c['patient_name'])} · {last}" + phone


def _safety_line(flag: Mapping[str, Any]) -> str:
    task = f"task #{flag['safety_task_id']}" if flag["safety_task_id"] else "its task was deleted"
    return (f"- **#{flag['patient_id']} {md(flag['patient_name'])}** · {md(flag['instrument'])} on "
            f"{flag['taken_on']} (screening #{flag['id']}) · follow up today ({task})"
            + (f" · {md(display_phone(flag['phone']))}" if flag["phone"] else ""))  # fmt: skip


def _screening_due_line(item: Mapping[str, Any], day: date) -> str:
    last = f"last {item['last_on']} ({md(item['last_instrument'])})" if item["last_on"] else "never screened"
    overdue = item["due_on"] is None or item["due_on"] < day
    return f"- #{item['patient_id']} {md(item['patient_name'])} · {md(item['instrument'])} · {last}" + (
        " **overdue**" if overdue and item["due_on"] else ""
    )


def _stalled_line(referral: Mapping[str, Any]) -> str:
    """A stalled referral on the agenda (issue 14)."""
    return (f"- Referral #{referral['id']} to {md(referral['recipient'])} · {md(referral['patient_name'])} · "
            f"{referral['status']}, no change for {_days(referral['days_since_change'])}")  # fmt: skip


def _days(n: int) -> str:
    """``1 day``, ``21 days``."""
    return "1 day" if n == 1 else f"{n} days"


def _authorization_line(a: Mapping[str, Any]) -> str:
    """An authorization that needs a look (issue 15): what, whose, why."""
    payer = f" ({md(a['payer'])})" if a["payer"] else ""
    units = (f" · {a['units_used']} of {a['units_approved']} {md(a['unit'] or 'units')} used"
             if a["units_approved"] is not None else "")  # fmt: skip
    why = ", ".join(md(reason) for reason in a["reasons"])
    return f"- Authorization #{a['id']} {md(a['service'])}{payer} · {md(a['patient_name'])} · **{why}**{units}"


def _coverage_line(c: Mapping[str, Any]) -> str:
    """A coverage ending soon (issue 15)."""
    member = f", member {md(c['member_id'])}" if c["member_id"] else ""
    return (f"- Coverage #{c['id']} {md(c['payer'] or 'payer not recorded')} ({c['order']}{member}) · "
            f"{md(c['patient_name'])} · ends {c['end_on']}")  # fmt: skip


def agenda_markdown(agenda: Mapping[str, Any]) -> str:
    """The agenda as Markdown: one section per day (from :func:`carecoord.records.agenda_record`)."""
    first, last = agenda["from"], agenda["to"]
    span = f"{first:%A %d %B %Y}" if first == last else f"{first:%a %d %b} to {last:%a %d %b %Y}"
    lines = [f"# Agenda: {span}", ""]
    for day in agenda["days"]:
        lines += [f"## {day['date']:%A %d %B %Y}", ""]
        on_task, deadlines = _deadlines_on_tasks(day)
        sections = [
            ("Safety flags open", [_safety_line(f) for f in day.get("safety_flags", [])]),
            ("Appointments", [_appointment_line(a) for a in day["appointments"]]),
            ("Tasks", [_task_line(t) + (f" · {md(t['patient_name'])}" if t["patient_name"] else "")
                       + (f": {on_task[t['id']]}" if t["id"] in on_task else "")
                       for t in day["tasks"]]),
            ("Plan reviews", [f"- Plan #{p['id']} {md(p['title'])} · {md(p['patient_name'])} · "
                              + _dated("review due", p["next_review"], p["next_review"] < day["date"])
                              for p in day["reviews"]]),
            ("Goal targets", [f"- Goal #{g['id']} {md(g['description'])} · {md(g['patient_name'])} · "
                              + _dated("target", g["target_on"], g["target_on"] < day["date"])
                              for g in day["goals"]]),
            ("Transition-of-care deadlines", [_deadline_line(t, day["date"]) for t in deadlines]),
            ("Due for contact", [_contact_due_line(c) for c in day["contacts_due"]]),
            ("Screenings due", [_screening_due_line(s, day["date"]) for s in day.get("screenings_due", [])]),
            ("Stalled referrals", [_stalled_line(r) for r in day.get("stalled_referrals", ())]),
            ("Authorizations", [_authorization_line(a) for a in day.get("authorizations", [])]),
            ("Coverage ending", [_coverage_line(c) for c in day.get("coverage_ending", [])]),
        ]  # fmt: skip
        for heading, items in sections:
            if items:
                lines += [f"### {heading}", "", *items, ""]
        for kind, count in day.get("more_overdue", {}).items():
            if kind in ("authorizations", "coverage_ending"):  # issue 15: they need a look, not overdue
                what = "authorizations to look at" if kind == "authorizations" else "coverages ending"
                lines += [f"... and {count} more {what}: see 'carecoord report authorizations'.", ""]
                continue
            lines += [f"... and {count} more overdue {kind.replace('_', ' ')}: see 'carecoord report overdue'.", ""]
        if not any(items for _, items in sections):
            lines += ["Nothing scheduled.", ""]
    return "\n".join(lines).rstrip() + "\n"
