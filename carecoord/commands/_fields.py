"""``add`` and ``edit`` options generated from a record's declaration (``carecoord.fields``).

A command declares ``fields: FieldValues = FIELDS`` where the options go; ``field_options``
replaces it with one option per settable field and calls the command with the options given,
gathered by key (dates parsed; on edit an empty value clears a field).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Collection, Mapping
from types import MappingProxyType
from typing import Annotated, Any, TypeVar

import typer

from carecoord.commands._common import clearable_date, date_help, optional_date, text_option
from carecoord.fields import FieldSpec, Kind, RecordSpec

Command = TypeVar("Command", bound=Callable[..., None])
FieldValues = Mapping[str, Any]
FIELDS: FieldValues = MappingProxyType({})  # the default of the placeholder parameter
FIELDS_PARAMETER = "fields"
_NOT_CLEARABLE = (Kind.name, Kind.flag)


def _option(spec: FieldSpec, *, edit: bool) -> inspect.Parameter:
    assert spec.option is not None
    help_text = f"{spec.help} ('' clears)" if edit and spec.kind not in _NOT_CLEARABLE else spec.help
    names = spec.option.split()
    if spec.kind is Kind.flag:
        option = typer.Option(*names, help=help_text)
    elif spec.kind is Kind.text:  # '-' reads a long note from standard input
        option = text_option(*names, help=help_text, metavar=spec.word)
    elif spec.kind is Kind.date and spec.relative:
        option = typer.Option(*names, help=date_help(help_text, past=spec.past), metavar=spec.word)
    else:
        option = typer.Option(*names, help=help_text, metavar=spec.word)
    value_type: Any = bool | None if spec.kind is Kind.flag else str | None
    annotation = Annotated[value_type, option]
    return inspect.Parameter(spec.key, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=annotation)


def _value(spec: FieldSpec, value: Any, *, edit: bool) -> Any:
    if spec.kind is Kind.date:
        return clearable_date(value, past=spec.past) if edit else optional_date(value, past=spec.past)
    return value


def field_options(record: RecordSpec, *, edit: bool, skip: Collection[str] = ()) -> Callable[[Command], Command]:
    """Give a command one option per settable field of ``record`` (but ``skip``), in place of its
    ``fields`` parameter, which then receives the options given."""
    specs = [spec for spec in record.editable if spec.key not in skip]

    def decorate(command: Command) -> Command:
        signature = inspect.signature(command, eval_str=True)
        parameters = []
        for parameter in signature.parameters.values():
            if parameter.name == FIELDS_PARAMETER:
                parameters += [_option(spec, edit=edit) for spec in specs]
            else:
                parameters.append(parameter.replace(kind=inspect.Parameter.KEYWORD_ONLY))

        @functools.wraps(command)
        def with_fields(**options: Any) -> None:
            given = {spec.key: _value(spec, value, edit=edit) for spec in specs
                     if (value := options.pop(spec.key)) is not None}  # fmt: skip
            command(**options, **{FIELDS_PARAMETER: given})

        with_fields.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
        with_fields.__annotations__ = {p.name: p.annotation for p in parameters}
        return with_fields  # type: ignore[return-value]

    return decorate
