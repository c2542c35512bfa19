"""``add`` and ``edit`` options generated from a record's declaration (``carecoord.fields``).

A command declares ``fields: FieldValues = FIELDS`` where the options go; ``field_options``
replaces it with one option per settable field and calls the command with the options given,
gathered by key (dates parsed; on edit an empty value clears a field).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Collection, Mapping, Sequence
from types import MappingProxyType
from typing import Annotated, Any, TypeVar

import typer

from carecoord.commands._common import clearable_date, date_help, optional_date, text_option
from carecoord.fields import FieldSpec, Kind, RecordSpec
from carecoord.output import Column

Command = TypeVar("Command", bound=Callable[..., None])
FieldValues = Mapping[str, Any]
FIELDS: FieldValues = MappingProxyType({})  # the default of the placeholder parameter
FIELDS_PARAMETER = "fields"
_NOT_CLEARABLE = (Kind.name, Kind.flag)


def _option(spec: FieldSpec, *, edit: bool) -> inspect.Parameter:
    assert spec.option is not None
    help_text = spec.help
    if edit and spec.kind not in _NOT_CLEARABLE and not spec.required:  # "Free-text notes ('' clears)."
        help_text = f"{help_text.removesuffix('.')} ('' clears)" + ("." if help_text.endswith(".") else "")
    names = spec.option_names
    if spec.kind is Kind.flag:
        option = typer.Option(*names, help=help_text)
    elif spec.kind is Kind.text:  # '-' reads a long note from standard input
        option = text_option(*names, help=help_text, metavar=spec.word)
    elif spec.kind in (Kind.date, Kind.moment) and spec.relative:
        with_time = spec.kind is Kind.moment
        option = typer.Option(*names, help=date_help(help_text, past=spec.past, time=with_time), metavar=spec.word)
    else:
        option = typer.Option(*names, help=help_text, metavar=spec.word)
    value_type: Any = bool | None if spec.kind is Kind.flag else str | None
    annotation = Annotated[value_type, option]
    # named by the attribute: a record key may be a Python keyword ('with')
    return inspect.Parameter(spec.source, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=annotation)


def _value(spec: FieldSpec, value: Any, *, edit: bool) -> Any:
    if spec.kind is Kind.date:
        return clearable_date(value, past=spec.past) if edit else optional_date(value, past=spec.past)
    if not isinstance(value, str) or not value.strip():  # a flag; or '' to clear on edit
        return value
    if spec.kind is Kind.moment:
        from carecoord.dates import parse_datetime

        return parse_datetime(value, past=spec.past)
    if spec.kind is Kind.days:
        from carecoord.dates import parse_days

        return parse_days(value)
    if spec.kind is Kind.minutes:
        from carecoord.dates import parse_minutes

        return parse_minutes(value)
    return value


RAW_PHONE = "raw_phone"


def _raw_phone_option(phones: Sequence[FieldSpec]) -> inspect.Parameter:
    """``--raw-phone``: keep the phone number(s) given as typed rather than refuse one that cannot be read."""
    names = " and ".join(spec.option.split()[0] for spec in phones if spec.option)
    option = typer.Option(
        "--raw-phone",
        help=f"Keep {names} exactly as typed, unchecked (e.g. 'ask for Rosa, 555-0102'); "
        "without it a number that cannot be read is refused.",
    )
    annotation = Annotated[bool, option]
    return inspect.Parameter(RAW_PHONE, inspect.Parameter.KEYWORD_ONLY, default=False, annotation=annotation)


def field_options(record: RecordSpec, *, edit: bool, skip: Collection[str] = ()) -> Callable[[Command], Command]:
    """Give a command one option per settable field of ``record`` (but ``skip``), in place of its
    ``fields`` parameter, which then receives the options given. A record with a phone number gets
    ``--raw-phone`` too (the number given is then passed on as ``phones.AsTyped``)."""
    specs = [spec for spec in record.editable if spec.key not in skip]
    phones = [spec for spec in specs if spec.kind is Kind.phone]

    def decorate(command: Command) -> Command:
        signature = inspect.signature(command, eval_str=True)
        parameters = []
        for parameter in signature.parameters.values():
            if parameter.name == FIELDS_PARAMETER:
                parameters += [_option(spec, edit=edit) for spec in specs]
                parameters += [_raw_phone_option(phones)] if phones else []
            else:
                parameters.append(parameter.replace(kind=inspect.Parameter.KEYWORD_ONLY))

        @functools.wraps(command)
        def with_fields(**options: Any) -> None:
            raw = bool(options.pop(RAW_PHONE, False))
            given = {spec.key: _value(spec, value, edit=edit) for spec in specs
                     if (value := options.pop(spec.source)) is not None}  # fmt: skip
            if raw:
                from carecoord.errors import UsageError
                from carecoord.phones import AsTyped

                typed = [spec for spec in phones if spec.key in given]
                if not typed:
                    names = " or ".join(spec.option.split()[0] for spec in phones if spec.option)
                    raise UsageError(f"--raw-phone keeps the number given with {names} as typed: give one")
                given = {**given, **{spec.key: AsTyped(given[spec.key]) for spec in typed}}
            command(**options, **{FIELDS_PARAMETER: given})

        with_fields.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
        with_fields.__annotations__ = {p.name: p.annotation for p in parameters}
        return with_fields  # type: ignore[return-value]

    return decorate


def shown_columns(record: RecordSpec) -> tuple[Column, ...]:
    """The rows ``show`` prints for ``record``: every shown field, labelled as declared, phone
    numbers in the national format people read (stored as E.164)."""
    from carecoord import phones

    return tuple(
        Column(spec.key, spec.label, show=phones.shown(spec.key) if spec.kind is Kind.phone else None)
        for spec in record.shown
    )
