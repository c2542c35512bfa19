"""Fast text tables for people: aligned columns that fit the terminal (80 columns when piped),
long cells wrapped, a bold header only on a colour terminal.

Rich draws beautiful tables, but a caseload-sized listing took it 200 ms; this takes a few.
"""

from __future__ import annotations

import os
import shutil
import sys
import textwrap
import unicodedata
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from carecoord.output import Column

GAP = "  "
PIPED_WIDTH = 80
MIN_WRAP_WIDTH = 8
ELLIPSIS = "\u2026"


def width() -> int:
    """The terminal's width; 80 when the output is not a terminal (unless COLUMNS says otherwise)."""
    if os.environ.get("COLUMNS", "").isdigit():
        return max(40, int(os.environ["COLUMNS"]))
    if sys.stdout.isatty():
        return max(40, shutil.get_terminal_size((PIPED_WIDTH, 24)).columns)
    return PIPED_WIDTH


def colour() -> bool:
    """Bold headers only on a terminal, and never with NO_COLOR."""
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def cells(text: str) -> int:
    """Columns ``text`` takes in a terminal (wide East Asian characters take two, marks none)."""
    if text.isascii():
        return len(text)
    total = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        total += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return total


def _pad(text: str, size: int) -> str:
    return text + " " * max(0, size - cells(text))


def _wrap(text: str, size: int) -> list[str]:
    lines: list[str] = []
    for paragraph in text.split("\n") or [""]:
        wrapped = textwrap.wrap(paragraph, size, break_long_words=True, break_on_hyphens=False) if paragraph else [""]
        lines.extend(wrapped or [""])
    return lines


def _first_line(text: str) -> str:
    """A note's first line, ending in an ellipsis when more lines follow."""
    head, _, rest = text.partition("\n")
    return head.rstrip() + ELLIPSIS if rest.strip() else head


def _cut(text: str, size: int) -> list[str]:
    """``text`` as one line of at most ``size`` cells, its end replaced by an ellipsis if cut."""
    if cells(text) <= size:
        return [text]
    kept, used = [], 0
    for ch in text:
        used += cells(ch)
        if used > size - 1:
            break
        kept.append(ch)
    return ["".join(kept).rstrip() + ELLIPSIS]


def _title(title: str | None) -> list[str]:
    """A table's title and the blank line under it; a long title wraps between words."""
    if not title:
        return []
    return [*textwrap.wrap(title, width() - 1, break_long_words=False, break_on_hyphens=False), ""]


def _fit(natural: list[int], minimum: list[int], wrappable: list[bool], room: int) -> list[int]:
    """Shrink the widest wrappable columns until the row fits in ``room``."""
    widths = list(natural)
    while sum(widths) > room:
        candidates = [i for i, ok in enumerate(wrappable) if ok and widths[i] > minimum[i]]
        if not candidates:
            break
        widest = max(candidates, key=lambda i: widths[i])
        widths[widest] -= 1
    return widths


def render(
    rows: Sequence[Mapping[str, Any]], columns: Sequence[Column], display: Any, *, title: str | None = None
) -> str:
    """The table as text (``display`` turns a value into what a person reads; a column's ``show``
    picks the value from the whole row)."""
    texts = [[display(c.show(row) if c.show else row.get(c.key)) for c in columns] for row in rows]
    for i in [i for i, c in enumerate(columns) if c.first_line]:
        for row_texts in texts:
            row_texts[i] = _first_line(row_texts[i])
    headers = [c.header for c in columns]
    natural = [
        max([cells(h)] + [max((cells(line) for line in r[i].split("\n")), default=0) for r in texts])
        for i, h in enumerate(headers)
    ]
    natural = [min(n, c.max_width) if c.max_width else n for n, c in zip(natural, columns, strict=True)]
    minimum = [max(c.min_width or 0, min(n, MIN_WRAP_WIDTH)) for n, c in zip(natural, columns, strict=True)]
    wrappable = [not c.no_wrap for c in columns]
    widths = _fit(natural, minimum, wrappable, width() - len(GAP) * (len(columns) - 1) - 1)
    bold, plain = ("\x1b[1m", "\x1b[0m") if colour() else ("", "")
    out = _title(title)
    heads = [_wrap(h, w) for h, w in zip(headers, widths, strict=True)]  # a long header wraps between words
    for line in range(max(len(h) for h in heads)):
        parts = [_pad(h[line] if line < len(h) else "", w) for h, w in zip(heads, widths, strict=True)]
        out.append(bold + GAP.join(parts).rstrip() + plain)
    out.append("-" * min(width() - 1, sum(widths) + len(GAP) * (len(columns) - 1)))
    for row in texts:
        wrapped = [_cut(text, w) if columns[i].first_line else _wrap(text, w) if wrappable[i] else
                   [text.replace("\n", " ")] for i, (text, w) in enumerate(zip(row, widths, strict=True))]  # fmt: skip
        for line in range(max(len(w) for w in wrapped)):
            parts = [_pad(w[line] if line < len(w) else "", size) for w, size in zip(wrapped, widths, strict=True)]
            out.append(GAP.join(parts).rstrip())
    return "\n".join(out)


def key_values(pairs: Sequence[tuple[str, str]], *, title: str | None = None) -> str:
    """A record as 'Field  value' lines, values wrapped under themselves."""
    if not pairs:
        return title or ""
    label = max(cells(k) for k, _ in pairs)
    room = max(20, width() - label - len(GAP) - 1)
    bold, plain = ("\x1b[1m", "\x1b[0m") if colour() else ("", "")
    out = _title(title)
    for key, value in pairs:
        lines = _wrap(value, room)
        out.append(f"{bold}{_pad(key, label)}{plain}{GAP}{lines[0]}".rstrip())
        out += [f"{' ' * label}{GAP}{line}".rstrip() for line in lines[1:]]
    return "\n".join(out)
