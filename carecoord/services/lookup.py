"""Finding records from what a person typed: an id, or an unambiguous part of a name."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TypeVar

from carecoord.errors import AmbiguousError, NotFoundError, ValidationError

T = TypeVar("T")
CANDIDATES_SHOWN = 5
IN_LIST_SIZE = 500  # ids per SQL ``IN (...)``: well under SQLite's variable limit


def id_batches(ids: Iterable[int | None]) -> Iterator[list[int]]:
    """The distinct ids (None left out), in lists short enough for one ``IN (...)`` each."""
    distinct = list(dict.fromkeys(i for i in ids if i is not None))
    for start in range(0, len(distinct), IN_LIST_SIZE):
        yield distinct[start : start + IN_LIST_SIZE]


def search_key(text: str) -> str:
    """Casefolded, accent-free, punctuation-light text for matching ('Siobhán' ~ 'siobhan')."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.replace(",", " ").split())


def as_id(ref: str) -> int | None:
    """``12`` or ``#12`` as an id, else None."""
    digits = ref.strip().removeprefix("#")
    return int(digits) if digits.isascii() and digits.isdigit() and len(digits) < 19 else None


def require_ref(ref: str, noun: str) -> str:
    """The reference, stripped; an empty one is an error."""
    cleaned = ref.strip()
    if not cleaned:
        raise ValidationError(f"give a {noun}: an id or part of the name")
    return cleaned


def plural(noun: str) -> str:
    """``patient`` -> ``patients``, ``log entry`` -> ``log entries``, ``day`` -> ``days``."""
    return f"{noun[:-1]}ies" if noun.endswith("y") and noun[-2:-1] not in "aeiou" else f"{noun}s"


def pick_one(ref: str, noun: str, matches: Sequence[T], describe: Callable[[T], str], *, limit: int | None = None) -> T:
    """The single match, or an error naming the candidates (or saying there are none).

    ``limit`` is the most rows the query that found ``matches`` returns: when it returned that
    many, there may be more, and the message says so.
    """
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise NotFoundError(f"no {noun} matches '{ref}'")
    count = f"{len(matches)} or more" if limit is not None and len(matches) >= limit else str(len(matches))
    shown = ", ".join(describe(item) for item in matches[:CANDIDATES_SHOWN])
    more = f", and {len(matches) - CANDIDATES_SHOWN} more" if len(matches) > CANDIDATES_SHOWN else ""
    raise AmbiguousError(f"'{ref}' matches {count} {plural(noun)}: {shown}{more}; use the id")
