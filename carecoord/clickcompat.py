"""Every name carecoord takes from Typer's private copy of Click (``typer._click``), in one place.

Since 0.26 Typer ships its own copy of Click as ``typer._click``; it is not a public API and may
change in any release. Nothing else in carecoord imports it: it imports these names from here.
``pyproject.toml`` bounds Typer to the releases this module was checked against, and
tests/test_clickcompat.py fails when one of these names is gone. Typer imports all of these
modules itself on start-up, so importing them here costs nothing.
"""

from __future__ import annotations

from typer._click._textwrap import TextWrapper
from typer._click.core import Context, Parameter
from typer._click.exceptions import (
    ClickException,
    MissingParameter,
    NoArgsIsHelpError,
    NoSuchOption,
    UsageError,
)
from typer._click.formatting import HelpFormatter
from typer._click.shell_completion import CompletionItem, get_completion_class

__all__ = [
    "ClickException",
    "CompletionItem",
    "Context",
    "HelpFormatter",
    "MissingParameter",
    "NoArgsIsHelpError",
    "NoSuchOption",
    "Parameter",
    "TextWrapper",
    "UsageError",
    "get_completion_class",
]


def keep_hyphenated_words_whole() -> None:
    """Help is wrapped between words, never at a hyphen inside one: an example's '--review-every'
    split as '--review-' and 'every' fails when copied. (Click's wrapper, a ``textwrap.TextWrapper``,
    splits on hyphens; its simple word pattern does not.)"""
    TextWrapper.wordsep_re = TextWrapper.wordsep_simple_re
