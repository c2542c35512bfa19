"""Screening instruments as data: reading, checking and scoring FHIR Questionnaire-shaped JSON.

The shipped instruments live in ``carecoord/instruments/KEY.json``; a user's own (a licensed PRAPARE,
say) are loaded with ``screen instruments --add FILE`` and kept in the ``screening_instrument`` table
(services/screenings.py), so every coordinator on a team store can give and read them.

A file holds what a coordinator needs and nothing is computed from code: the items with their LOINC
codes and answer options (the code typed, its display, its LOINC answer code and score), the total
(which items add up, its LOINC code), severity bands, the positive domains and their rules, what
raises a safety flag, what instrument follows a positive one (PHQ-2 to PHQ-9), the rescreening
interval, the copyright notice and the sources it was checked against. Rules ("when") are one of:

- ``{"total_at_least": N}``: the total is N or more;
- ``{"any_of": [{"item": ID, "answers": [CODE, ...]} | {"item": ID, "score_at_least": N}, ...]}``;
- ``{"sum_more_than": {"items": [ID, ...], "value": N}}``: those items' scores add up to more than N.

``scoring.rescreen`` is ``{"every_days": N}``, with ``"sooner_days": M`` for a shorter interval while
the last result was positive (any of ``scoring.domains`` held).

No database and no printing here: the commands and services/screenings.py call these.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from carecoord.errors import ValidationError

KEY_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")
MULTI_SEPARATOR = "+"  # several answers to a choose-all-that-apply item: 1+3
SKIPPED = ""  # a skipped optional item's answer


@dataclass(frozen=True)
class Option:
    code: str
    display: str
    loinc: str | None
    score: int | None


@dataclass(frozen=True)
class Item:
    id: str
    loinc: str | None
    text: str
    required: bool
    repeats: bool
    options: tuple[Option, ...]

    def option(self, code: str) -> Option | None:
        return next((o for o in self.options if o.code == code), None)


@dataclass(frozen=True)
class Band:
    low: int
    high: int
    code: str
    display: str


@dataclass(frozen=True)
class Domain:
    code: str
    social_need: bool
    when: Mapping[str, Any]


@dataclass(frozen=True)
class FollowUp:
    instrument: str
    when: Mapping[str, Any]
    carry: Mapping[str, str]


@dataclass(frozen=True)
class Rescreen:
    """How often an instrument is given again: ``every_days``, or ``sooner_days`` while the last
    result was positive (PHQ-9: every 28 days while 10 or more)."""

    every_days: int
    sooner_days: int | None = None


@dataclass(frozen=True)
class Instrument:
    """One instrument, checked."""

    key: str
    version: str
    title: str
    name: str  # the short name people say: PHQ-9
    loinc: str | None
    preamble: str
    copyright: str
    source: Mapping[str, Any]
    items: tuple[Item, ...]
    total_items: tuple[str, ...] | None  # None: no total (HVS, AHC HRSN)
    total_loinc: str | None
    bands: tuple[Band, ...]
    domains: tuple[Domain, ...]
    safety: tuple[Mapping[str, Any], ...]
    follow_up: FollowUp | None
    rescreen: Rescreen | None
    satisfies: tuple[str, ...]
    result: Mapping[str, Any] | None
    subscores: tuple[Mapping[str, Any], ...]
    exclusive: tuple[Mapping[str, str], ...]
    change: Mapping[str, Any] | None
    builtin: bool = True
    document: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def item(self, item_id: str) -> Item:
        return next(i for i in self.items if i.id == item_id)

    @property
    def max_total(self) -> int | None:
        if self.total_items is None:
            return None
        return sum(max((o.score or 0) for o in self.item(i).options) for i in self.total_items)


# --- reading and checking a file ------------------------------------------------------------------


class _Checker:
    """Reads a JSON document, naming the field at fault in every error."""

    def __init__(self, origin: str) -> None:
        self.origin = origin

    def fail(self, where: str, problem: str) -> ValidationError:
        return ValidationError(f"{self.origin}: {where}: {problem}")

    def get(self, obj: Mapping[str, Any], key: str, where: str, kind: type | tuple[type, ...], *,
            required: bool = True, default: Any = None) -> Any:  # fmt: skip
        if key not in obj or obj[key] is None:
            if required:
                raise self.fail(f"{where}{key}", "missing")
            return default
        value = obj[key]
        if (kind is int and isinstance(value, bool)) or not isinstance(value, kind):
            names = {str: "text", int: "a whole number", bool: "true or false", list: "a list", dict: "an object"}
            wanted = " or ".join(names.get(k, k.__name__) for k in (kind if isinstance(kind, tuple) else (kind,)))
            raise self.fail(f"{where}{key}", f"must be {wanted}")
        if isinstance(value, str) and not value.strip():
            raise self.fail(f"{where}{key}", "must not be empty")
        return value


def parse(document: Any, *, origin: str, builtin: bool) -> Instrument:
    """An instrument from its JSON document, every field checked; a ValidationError names the field."""
    check = _Checker(origin)
    if not isinstance(document, dict):
        raise check.fail("the file", "must hold one JSON object (a Questionnaire)")
    if document.get("resourceType") != "Questionnaire":
        raise check.fail("resourceType", "must be 'Questionnaire'")
    key = check.get(document, "id", "", str)
    if not set(key) <= KEY_CHARACTERS or len(key) > 40:
        raise check.fail("id", f"'{key}' must be lower-case letters, digits and hyphens (at most 40)")
    items = _items(check, check.get(document, "item", "", list))
    ids = [item.id for item in items]
    scoring = check.get(document, "scoring", "", dict)
    total = scoring.get("total")
    if total is not None and not isinstance(total, dict):
        raise check.fail("scoring.total", "must be an object or null")
    total_items = None
    if total is not None:
        total_items = tuple(_item_refs(check, check.get(total, "items", "scoring.total.", list), ids,
                                       "scoring.total.items"))  # fmt: skip
        for ref in total_items:
            if any(o.score is None for o in next(i for i in items if i.id == ref).options):
                raise check.fail(f"scoring.total.items: item {ref}", "every answer of a scored item needs a score")
    bands = _bands(check, scoring.get("bands") or [], items, total_items)
    domains = tuple(
        Domain(
            check.get(d, "code", f"scoring.domains[{n}].", str),
            bool(check.get(d, "social_need", f"scoring.domains[{n}].", bool)),
            _rule(check, check.get(d, "when", f"scoring.domains[{n}].", dict), items, total_items,
                  f"scoring.domains[{n}].when"),
        )
        for n, d in enumerate(_objects(check, scoring.get("domains") or [], "scoring.domains"))
    )  # fmt: skip
    domain_codes = {d.code for d in domains}
    safety = []
    for n, rule in enumerate(_objects(check, scoring.get("safety") or [], "scoring.safety")):
        if "domain" in rule:
            if rule["domain"] not in domain_codes:
                raise check.fail(f"scoring.safety[{n}].domain", f"'{rule['domain']}' is not one of scoring.domains")
        else:
            _condition(check, rule, items, f"scoring.safety[{n}]")
        safety.append(rule)
    follow = scoring.get("follow_up")
    follow_up = None
    if follow is not None:
        where = "scoring.follow_up."
        follow_up = FollowUp(
            check.get(follow, "instrument", where, str),
            _rule(check, check.get(follow, "when", where, dict), items, total_items, f"{where}when"),
            {str(k): str(v) for k, v in check.get(follow, "carry", where, dict, required=False, default={}).items()},
        )
    rescreen = None
    if (again := scoring.get("rescreen")) is not None:
        where = "scoring.rescreen."
        every = check.get(again, "every_days", where, int)
        sooner = check.get(again, "sooner_days", where, int, required=False)
        if every < 1 or (sooner is not None and not 1 <= sooner <= every):
            raise check.fail(f"{where}every_days", "intervals are whole days, at least 1 (sooner_days <= every_days)")
        if sooner is not None and not domains:
            raise check.fail(f"{where}sooner_days", "a shorter interval while positive needs scoring.domains")
        rescreen = Rescreen(every, sooner)
    source = check.get(document, "source", "", dict)
    check.get(source, "publication", "source.", str)
    return Instrument(
        key=key,
        version=str(check.get(document, "version", "", (str, int))),
        title=check.get(document, "title", "", str),
        name=check.get(document, "name", "", str, required=False, default=key.upper()),
        loinc=check.get(document, "code", "", str, required=False),
        preamble=check.get(document, "preamble", "", str, required=False, default=""),
        copyright=check.get(document, "copyright", "", str),
        source=source,
        items=items,
        total_items=total_items,
        total_loinc=total.get("loinc") if total else None,
        bands=bands,
        domains=domains,
        safety=tuple(safety),
        follow_up=follow_up,
        rescreen=rescreen,
        satisfies=tuple(str(k) for k in scoring.get("satisfies") or ()),
        result=scoring.get("result"),
        subscores=tuple(scoring.get("subscores") or ()),
        exclusive=tuple(scoring.get("exclusive") or ()),
        change=scoring.get("change"),
        builtin=builtin,
        document=document,
    )


def _objects(check: _Checker, value: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise check.fail(where, "must be a list of objects")
    return value


def _items(check: _Checker, raw: list[Any]) -> tuple[Item, ...]:
    if not raw:
        raise check.fail("item", "must list at least one question")
    items: list[Item] = []
    for n, entry in enumerate(raw):
        where = f"item[{n}]."
        if not isinstance(entry, dict):
            raise check.fail(f"item[{n}]", "must be an object")
        link = str(check.get(entry, "linkId", where, (str, int)))
        if any(i.id == link for i in items):
            raise check.fail(f"{where}linkId", f"'{link}' is used twice")
        options: list[Option] = []
        for m, raw_option in enumerate(check.get(entry, "answerOption", where, list)):
            at = f"{where}answerOption[{m}]."
            if not isinstance(raw_option, dict):
                raise check.fail(f"{where}answerOption[{m}]", "must be an object")
            code = str(check.get(raw_option, "code", at, (str, int)))
            if MULTI_SEPARATOR in code or "," in code or code.strip() != code:
                raise check.fail(f"{at}code", f"'{code}' may not hold spaces, commas or '{MULTI_SEPARATOR}'")
            if any(o.code == code for o in options):
                raise check.fail(f"{at}code", f"'{code}' is used twice in item {link}")
            score = check.get(raw_option, "score", at, int, required=False)
            options.append(Option(code, check.get(raw_option, "display", at, str),
                                  check.get(raw_option, "loinc", at, str, required=False), score))  # fmt: skip
        if not options:
            raise check.fail(f"{where}answerOption", "must list at least one answer")
        items.append(
            Item(link, check.get(entry, "code", where, str, required=False), check.get(entry, "text", where, str),
                 bool(check.get(entry, "required", where, bool, required=False, default=True)),
                 bool(check.get(entry, "repeats", where, bool, required=False, default=False)), tuple(options))
        )  # fmt: skip
    return tuple(items)


def _item_refs(check: _Checker, refs: list[Any], ids: Sequence[str], where: str) -> list[str]:
    found = [str(ref) for ref in refs]
    for ref in found:
        if ref not in ids:
            raise check.fail(where, f"names item '{ref}', which is not in item (linkId)")
    return found


def _bands(check: _Checker, raw: Any, items: Sequence[Item], total_items: Sequence[str] | None) -> tuple[Band, ...]:
    bands = tuple(
        Band(check.get(b, "min", f"scoring.bands[{n}].", int), check.get(b, "max", f"scoring.bands[{n}].", int),
             check.get(b, "code", f"scoring.bands[{n}].", str), check.get(b, "display", f"scoring.bands[{n}].", str))
        for n, b in enumerate(_objects(check, raw, "scoring.bands"))
    )  # fmt: skip
    if not bands:
        return bands
    if total_items is None:
        raise check.fail("scoring.bands", "bands need a scoring.total")
    top = sum(max((o.score or 0) for o in next(i for i in items if i.id == ref).options) for ref in total_items)
    expected = 0
    for n, band in enumerate(bands):
        if band.low != expected or band.high < band.low:
            raise check.fail(f"scoring.bands[{n}].min", f"bands must run without gaps from 0 (expected {expected})")
        expected = band.high + 1
    if expected - 1 != top:
        raise check.fail(f"scoring.bands[{len(bands) - 1}].max", f"the last band must end at the highest total, {top}")
    return bands


def _condition(check: _Checker, cond: Mapping[str, Any], items: Sequence[Item], where: str) -> None:
    ids = [i.id for i in items]
    ref = str(check.get(cond, "item", f"{where}.", (str, int)))
    if ref not in ids:
        raise check.fail(f"{where}.item", f"names item '{ref}', which is not in item (linkId)")
    target = next(i for i in items if i.id == ref)
    if "answers" in cond:
        for code in check.get(cond, "answers", f"{where}.", list):
            if target.option(str(code)) is None:
                raise check.fail(f"{where}.answers", f"'{code}' is not an answer code of item {ref}")
    else:
        check.get(cond, "score_at_least", f"{where}.", int)


def _rule(check: _Checker, rule: Mapping[str, Any], items: Sequence[Item], total_items: Sequence[str] | None,
          where: str) -> Mapping[str, Any]:  # fmt: skip
    if len(rule) != 1:
        raise check.fail(where, "must hold exactly one of total_at_least, any_of, sum_more_than")
    if "total_at_least" in rule:
        if total_items is None:
            raise check.fail(f"{where}.total_at_least", "needs a scoring.total")
        check.get(rule, "total_at_least", f"{where}.", int)
    elif "any_of" in rule:
        for n, cond in enumerate(_objects(check, rule["any_of"], f"{where}.any_of")):
            _condition(check, cond, items, f"{where}.any_of[{n}]")
    elif "sum_more_than" in rule:
        body = check.get(rule, "sum_more_than", f"{where}.", dict)
        _item_refs(check, check.get(body, "items", f"{where}.sum_more_than.", list), [i.id for i in items],
                   f"{where}.sum_more_than.items")  # fmt: skip
        check.get(body, "value", f"{where}.sum_more_than.", int)
    else:
        raise check.fail(where, f"'{next(iter(rule))}' is not one of total_at_least, any_of, sum_more_than")
    return rule


def read_file_text(text: str, origin: str) -> Instrument:
    """A user's instrument file, checked (not yet stored)."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValidationError(f"{origin}: not JSON: {error.msg} at line {error.lineno}, column {error.colno}") from None
    return parse(document, origin=origin, builtin=False)


@cache
def builtins() -> dict[str, Instrument]:
    """The instruments shipped with carecoord, by key."""
    found: dict[str, Instrument] = {}
    for entry in sorted(resources.files("carecoord.instruments").iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            instrument = parse(json.loads(entry.read_text(encoding="utf-8")), origin=entry.name, builtin=True)
            found[instrument.key] = instrument
    return found


# --- scoring ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """One item answered: the codes chosen (several for a choose-all item; none when skipped)."""

    item: Item
    codes: tuple[str, ...]

    @property
    def code(self) -> str:
        return MULTI_SEPARATOR.join(self.codes)

    @property
    def options(self) -> tuple[Option, ...]:
        return tuple(o for c in self.codes if (o := self.item.option(c)) is not None)

    @property
    def score(self) -> int | None:
        scores = [o.score for o in self.options if o.score is not None]
        return sum(scores) if scores else None


@dataclass(frozen=True)
class Result:
    """What a set of answers means."""

    score: int | None
    band: Band | None
    band_display: str | None
    domains: tuple[Domain, ...]
    safety: bool
    follow_up: FollowUp | None
    subscores: dict[str, int]

    @property
    def positive(self) -> bool:
        return bool(self.domains)

    @property
    def domain_codes(self) -> tuple[str, ...]:
        return tuple(d.code for d in self.domains)


def check_answer(item: Item, given: str, position: str) -> Answer:
    """The answer typed for ``item`` ('' skips an optional item; '1+3' for a choose-all item)."""
    text = given.strip()
    if not text:
        if item.required:
            raise ValidationError(f"{position} (item {item.id}) needs an answer: it cannot be skipped")
        return Answer(item, ())
    codes = tuple(part.strip() for part in text.split(MULTI_SEPARATOR))
    if len(codes) > 1 and not item.repeats:
        raise ValidationError(f"{position} (item {item.id}) takes one answer, not '{text}'")
    allowed = ", ".join(o.code for o in item.options)
    for code in codes:
        if item.option(code) is None:
            raise ValidationError(f"{position} (item {item.id}): '{code}' is not an answer code ({allowed})")
    if len(set(codes)) != len(codes):
        raise ValidationError(f"{position} (item {item.id}): '{text}' names an answer twice")
    return Answer(item, codes)


def answers_in_order(instrument: Instrument, given: Sequence[str]) -> list[Answer]:
    """``--answers 1,0,2``: one answer code per item, in order (an empty one skips an optional item;
    optional items at the end may be left off)."""
    needed = max((n for n, item in enumerate(instrument.items, 1) if item.required), default=0)
    if not needed <= len(given) <= len(instrument.items):
        optional = len(instrument.items) - needed
        expected = (
            "" if not optional else " (the last one optional)" if optional == 1 else f" (the last {optional} optional)"
        )
        answers = "1 answer was given" if len(given) == 1 else f"{len(given)} answers were given"
        raise ValidationError(f"{instrument.key} has {len(instrument.items)} questions{expected}; {answers}")
    given = [*given, *[SKIPPED] * (len(instrument.items) - len(given))]
    return [
        check_answer(item, code, f"answer {n}")
        for n, (item, code) in enumerate(zip(instrument.items, given, strict=True), 1)
    ]


def answers_by_id(instrument: Instrument, given: Mapping[str, Any]) -> list[Answer]:
    """``--answers-file``: a JSON object of item id to answer code; optional items may be left out."""
    known = {item.id for item in instrument.items}
    unknown = [key for key in given if str(key) not in known]
    if unknown:
        raise ValidationError(f"{instrument.key} has no item '{unknown[0]}' (items: {', '.join(sorted(known))})")
    answers = []
    for item in instrument.items:
        value = given.get(item.id, "")
        if isinstance(value, list):
            value = MULTI_SEPARATOR.join(str(v) for v in value)
        if value is None:
            value = ""
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise ValidationError(f"item {item.id}: give the answer code as text or a number")
        answers.append(check_answer(item, str(value), f"item {item.id}"))
    return answers


def _holds(rule: Mapping[str, Any], answers: Mapping[str, Answer], total: int | None) -> bool:
    if "total_at_least" in rule:
        return total is not None and total >= int(rule["total_at_least"])
    if "any_of" in rule:
        return any(meets(cond, answers) for cond in rule["any_of"])
    body = rule["sum_more_than"]
    scores = [answers[str(ref)].score for ref in body["items"] if str(ref) in answers]
    if any(score is None for score in scores) or len(scores) != len(body["items"]):
        return False  # a skipped question: the sum is not known
    return sum(s for s in scores if s is not None) > int(body["value"])


def meets(cond: Mapping[str, Any], answers: Mapping[str, Answer]) -> bool:
    answer = answers.get(str(cond["item"]))
    if answer is None or not answer.codes:
        return False
    if "answers" in cond:
        return bool(set(answer.codes) & {str(c) for c in cond["answers"]})
    return answer.score is not None and answer.score >= int(cond["score_at_least"])


def score(instrument: Instrument, answers: Sequence[Answer]) -> Result:
    """The total, band, positive domains, safety flag and follow-up for a complete set of answers."""
    by_id = {a.item.id: a for a in answers}
    for rule in instrument.exclusive:  # 'None of the above' with a problem named
        answer = by_id.get(str(rule["item"]))
        if answer is not None and str(rule["answer"]) in answer.codes and len(answer.codes) > 1:
            only = answer.item.option(str(rule["answer"]))
            raise ValidationError(f"item {answer.item.id}: '{only.display if only else rule['answer']}' "
                                  "cannot be chosen with other answers")  # fmt: skip
    total = None
    if instrument.total_items is not None:
        scores = [by_id[ref].score for ref in instrument.total_items if ref in by_id]
        total = sum(s or 0 for s in scores)
    band = next((b for b in instrument.bands if total is not None and b.low <= total <= b.high), None)
    domains = tuple(d for d in instrument.domains if _holds(d.when, by_id, total))
    codes = {d.code for d in domains}
    safety = any((rule["domain"] in codes) if "domain" in rule else meets(rule, by_id) for rule in instrument.safety)
    follow = instrument.follow_up if instrument.follow_up and _holds(instrument.follow_up.when, by_id, total) else None
    band_display = band.display if band else None
    if band is None and instrument.result:
        band_display = instrument.result["positive" if domains else "negative"]["display"]
    subscores = {
        str(sub["code"]): sum(by_id[str(ref)].score or 0 for ref in sub["items"] if str(ref) in by_id)
        for sub in instrument.subscores
    }
    return Result(total, band, band_display, domains, safety, follow, subscores)


def band_code(result: Result) -> str | None:
    """The stored band: the band's code, or an instrument's result word (HVS: at risk / no risk)."""
    if result.band is not None:
        return result.band.code
    return None if result.band_display is None else result.band_display.lower().replace(" ", "-")
