"""Preferred languages: the words a coordinator types (``Spanish``) and their BCP-47 tags.

Patient.communication.language is bound (preferred) to the "Common Languages" value set, whose codes
are BCP-47 tags in the system ``urn:ietf:bcp:47`` (https://hl7.org/fhir/R4/valueset-languages.html;
BCP-47: https://www.rfc-editor.org/info/bcp47). The tags below are language subtags from the IANA
Language Subtag Registry (https://www.iana.org/assignments/language-subtag-registry): two-letter
ISO 639-1 codes where there is one, the ISO 639-3 codes otherwise (``cmn`` Mandarin, ``yue``
Cantonese, ``hmn`` Hmong, ``ase`` American Sign Language). A language not listed is exported with
its words only (CodeableConcept.text), as typed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from carecoord.fhir.elements import codes, coding, concept

BCP47 = "urn:ietf:bcp:47"

# The language's usual English name -> its tag. The first name for a tag is the one an import writes.
LANGUAGE_TAGS: dict[str, str] = {
    "English": "en",
    "Spanish": "es",
    "Chinese": "zh",
    "Mandarin": "cmn",
    "Cantonese": "yue",
    "Vietnamese": "vi",
    "Tagalog": "tl",
    "Korean": "ko",
    "Russian": "ru",
    "Arabic": "ar",
    "French": "fr",
    "Haitian Creole": "ht",
    "Portuguese": "pt",
    "Bengali": "bn",
    "Polish": "pl",
    "Italian": "it",
    "German": "de",
    "Japanese": "ja",
    "Hindi": "hi",
    "Urdu": "ur",
    "Punjabi": "pa",
    "Gujarati": "gu",
    "Persian": "fa",
    "Farsi": "fa",
    "Greek": "el",
    "Hebrew": "he",
    "Ukrainian": "uk",
    "Somali": "so",
    "Amharic": "am",
    "Nepali": "ne",
    "Hmong": "hmn",
    "Khmer": "km",
    "Lao": "lo",
    "Thai": "th",
    "Turkish": "tr",
    "Armenian": "hy",
    "Swahili": "sw",
    "Yoruba": "yo",
    "Navajo": "nv",
    "American Sign Language": "ase",
}
_BY_WORD = {name.casefold(): tag for name, tag in LANGUAGE_TAGS.items()}
_BY_TAG: dict[str, str] = {}
for _name, _tag in LANGUAGE_TAGS.items():
    _BY_TAG.setdefault(_tag, _name)


def language_concept(stored: str) -> dict[str, Any]:
    """The CodeableConcept for a stored language: its BCP-47 tag when the words name one, and the
    words as typed."""
    tag = _BY_WORD.get(" ".join(stored.split()).casefold())
    return concept(stored, coding(BCP47, tag, _BY_TAG[tag]) if tag else None)


def language_words(language: Any) -> str | None:
    """The words to store for a CodeableConcept of a language.

    A tag carecoord knows gives its name (``en-US`` gives English), unless the text is another name
    for the same tag (``Farsi`` stays Farsi); otherwise the text, the display or the code as given.
    """
    if not isinstance(language, Mapping):
        return None
    text = language.get("text") if isinstance(language.get("text"), str) else None
    tags = codes(language, BCP47)
    for full in tags:
        primary = full.split("-")[0].lower()
        known = _BY_TAG.get(full.lower()) or _BY_TAG.get(primary)
        if known is None:
            continue
        if text and _BY_WORD.get(" ".join(text.split()).casefold()) in (full.lower(), primary):
            return " ".join(text.split())
        return known
    if text and text.strip():
        return " ".join(text.split())
    for found in language.get("coding") or ():
        for key in ("display", "code"):
            if isinstance(found.get(key), str) and found[key].strip():
                return str(found[key]).strip()
    return None
