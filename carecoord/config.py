"""The coordinator's own settings: who they are, for the summaries they print (name, phone,
organization, email).

A small TOML file in the user's config folder (``platformdirs.user_config_dir("carecoord")``), or
wherever ``CARECOORD_CONFIG`` points (tests point it at a temporary file). It is read with the
standard library's ``tomllib`` and written by hand (four keys of plain strings), atomically and
0600, in a folder created 0700. A phone number is stored as E.164, as patients' are
(:mod:`carecoord.phones`); an email address must look like one. No database, no Typer.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

from carecoord.errors import StorageError, ValidationError

CONFIG_ENV_VAR = "CARECOORD_CONFIG"
FILE_NAME = "config.toml"
# What can be set, in the order they are shown, with what each is for.
KEYS: dict[str, str] = {
    "name": "your name, as patients and providers read it",
    "phone": "the number patients and providers call you on",
    "organization": "the practice or agency you work for",
    "email": "your work email address",
}


def path() -> Path:
    """Where the settings live: ``CARECOORD_CONFIG``, else config.toml in the user's config folder."""
    chosen = os.environ.get(CONFIG_ENV_VAR, "").strip()
    if chosen:
        return Path(chosen).expanduser().absolute()
    from platformdirs import user_config_dir

    return Path(user_config_dir("carecoord")) / FILE_NAME


def load() -> dict[str, str | None]:
    """Every setting (None when not set). A file that is not TOML is an error naming it; keys
    carecoord does not know are ignored (a newer version's, kept when this one writes)."""
    stored = _read(path())
    return {key: value if isinstance(value := stored.get(key), str) and value else None for key in KEYS}


def _read(file: Path) -> dict[str, object]:
    import tomllib

    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as error:
        raise StorageError(
            f"cannot read your settings in {file}: {getattr(error, 'strerror', None) or error}"
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise StorageError(
            f"cannot read your settings in {file}: {error}; fix the file or delete it and run 'carecoord config set'"
        ) from None


def check_key(key: str) -> str:
    """A key carecoord knows (any case), or a ValidationError listing them."""
    cleaned = key.strip().lower()
    if cleaned not in KEYS:
        raise ValidationError(f"unknown setting '{key}': use one of {', '.join(KEYS)}")
    return cleaned


def clean(key: str, value: str) -> str:
    """``value`` as stored for ``key``: one line, a phone number as E.164, an email address that
    looks like one; a ValidationError says why not."""
    from carecoord.services import text

    if key == "phone":
        from carecoord.phones import normalise

        return normalise(text.required_line(value, "phone number"), raw=False)
    if key == "email":
        return text.email(text.required_line(value, "email address")) or ""
    return text.required_line(value, key)


def set_value(key: str, value: str) -> dict[str, str | None]:
    """Store one setting (checked first: a bad value writes nothing); returns all of them."""
    key = check_key(key)
    stored = clean(key, value)
    return _write({**_read(path()), key: stored})


def unset(key: str) -> tuple[bool, dict[str, str | None]]:
    """Remove one setting; returns whether it was set, and all of them."""
    key = check_key(key)
    current = _read(path())
    if key not in current:
        return False, load()
    del current[key]
    return True, _write(current)


def _write(values: Mapping[str, object]) -> dict[str, str | None]:
    from carecoord.files import write_atomically

    file = path()
    try:
        file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as error:
        raise StorageError(f"cannot create the folder {file.parent}: {error.strerror or error}") from None
    write_atomically(file, to_toml(values).encode("utf-8"))
    return load()


def to_toml(values: Mapping[str, object]) -> str:
    """The settings as TOML: a comment, then ``key = "value"`` lines (strings only; a JSON string
    is a valid TOML basic string for one line of text without control characters: the same escapes)."""
    lines = ["# carecoord settings: change them with 'carecoord config set KEY VALUE'."]
    ordered = [key for key in KEYS if key in values] + sorted(key for key in values if key not in KEYS)
    for key in ordered:
        value = values[key]
        if isinstance(value, str) and key.replace("_", "").replace("-", "").isalnum():
            lines.append(f"{key} = {json.dumps(value, ensure_ascii=False)}")
    return "\n".join(lines) + "\n"


def missing_for_summaries(values: Mapping[str, str | None]) -> list[str]:
    """The settings a printed summary needs to say who to call, and that are not set."""
    return [key for key in ("name", "phone") if not values.get(key)]
