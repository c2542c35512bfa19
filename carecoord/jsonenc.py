"""JSON text from plain trees at C speed: the encoder ``json.dumps`` would build, built once.

``JSONEncoder.encode`` makes a new C encoder on every call, in Python: a listing of 15,000
records, or an export of a million FHIR resources, spends a third of its JSON time there. Records
and resources are trees (no cycles), so the check for circular references is left out too.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any


def encoder(
    *, item_separator: str, key_separator: str, default: Callable[[Any], Any] | None = None
) -> Callable[[Any], str]:
    """A function writing one value as JSON (UTF-8 kept), with the separators given."""
    from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]

    if c_make_encoder is None:  # pragma: no cover - CPython always has it
        fallback = json.JSONEncoder(default=default, ensure_ascii=False, check_circular=False,
                                    separators=(item_separator, key_separator))  # fmt: skip
        return fallback.encode
    chunks = c_make_encoder(None, default, encode_basestring, None, key_separator, item_separator, False, False, True)
    return lambda value: "".join(chunks(value, 0))
