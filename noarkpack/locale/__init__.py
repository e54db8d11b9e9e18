"""Bokmål and English: the one place every text a person reads is translated.

Every message is written once, in English, as a gettext msgid with **named** placeholders, and translated
through the catalogues in this package (``{nb,en}/LC_MESSAGES/noarkpack.po``, compiled to ``.mo`` when the
package is built: see ``hatch_build.py`` and docs/translating.md)::

    from noarkpack.locale import tr
    raise SourceError(tr("{count} rows have no pasient_id", count=n), file=path, hint=tr("map pasient_id"))

``tr`` returns a :class:`Text`: the translated, formatted string, which also carries ``key`` (the untranslated
msgid) and ``params``.  A finding keeps the key (``"key"`` in the JSON reports), so a script matches on it in
either language.  ``N_`` only marks a msgid for the catalogues (a table of labels translated later).

The language is, in this order: :func:`language` (a context, e.g. one web request), :func:`set_language`
(the process: the CLI's ``--lang``), ``NOARKPACK_LANG``, the locale (``LC_ALL``, ``LC_MESSAGES``, ``LANG``: the
first one set decides), else bokmål.  The standard's own terms (arkivdel, registrering, skjerming, …) are the
same in both languages.
"""

from __future__ import annotations

import contextlib
import contextvars
import gettext
import os
import string
from functools import lru_cache
from pathlib import Path
from typing import Iterator

__all__ = ["LANGUAGES", "DEFAULT", "Text", "tr", "N_", "current", "set_language", "language", "resolve",
           "placeholders", "translations", "LanguageError"]

LANGUAGES = ("nb", "en")
DEFAULT = "nb"
DOMAIN = "noarkpack"
LOCALE_DIR = Path(__file__).parent

_context: contextvars.ContextVar[str | None] = contextvars.ContextVar("noarkpack_lang", default=None)
_process: list[str | None] = [None]

# Locale names that mean one of our languages: Norwegian in any written form reads bokmål best of the two.
_ALIASES = {"nb": "nb", "no": "nb", "nn": "nb", "en": "en"}


class LanguageError(ValueError):
    """A language noarkpack has no catalogue for (the CLI turns it into a usage error)."""


def _normalise(value: str | None) -> str | None:
    """``nb_NO.UTF-8`` → ``nb``; ``en`` → ``en``; ``C``, ``POSIX``, empty or unknown → None."""
    if not value:
        return None
    code = value.split(".")[0].split("@")[0].replace("-", "_").split("_")[0].lower()
    return _ALIASES.get(code)


def check(lang: str) -> str:
    """``lang`` as one of LANGUAGES, or :class:`LanguageError` saying which there are."""
    norm = _normalise(lang)
    if norm is None or lang.lower() not in (*LANGUAGES, *_ALIASES):
        raise LanguageError(f"unknown language {lang!r}: choose nb or en / ukjent språk {lang!r}: velg nb eller en")
    return norm


def resolve(environ: dict | None = None, *, strict: bool = False) -> str:
    """The language the environment asks for: ``NOARKPACK_LANG``, else the locale, else bokmål.  An unknown
    ``NOARKPACK_LANG`` is a :class:`LanguageError` when ``strict`` (the CLI says so at its start), else passed
    over (a library call never fails for it)."""
    env = os.environ if environ is None else environ
    own = env.get("NOARKPACK_LANG")
    if own:
        try:
            return check(own)
        except LanguageError:
            if strict:
                raise
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(var)
        if value:  # the first one set decides (POSIX), even when it is C or a language we do not have
            return _normalise(value) or DEFAULT
    return DEFAULT


def current() -> str:
    """The language texts are made in now."""
    return _context.get() or _process[0] or resolve()


def set_language(lang: str | None) -> None:
    """Set the process's language (None: back to the environment's).  Also sets ``NOARKPACK_LANG``, so that
    worker processes (parallel validation, conversion) speak it too."""
    if lang is None:
        _process[0] = None
        return
    _process[0] = check(lang)
    os.environ["NOARKPACK_LANG"] = _process[0]


@contextlib.contextmanager
def language(lang: str) -> Iterator[str]:
    """Texts made inside the block are in ``lang`` (this thread or task only: one web request)."""
    token = _context.set(check(lang))
    try:
        yield _context.get()
    finally:
        _context.reset(token)


@lru_cache(maxsize=None)
def translations(lang: str) -> gettext.NullTranslations:
    """The compiled catalogue of ``lang``; without one (a source checkout never built) the msgids themselves."""
    try:
        return gettext.translation(DOMAIN, localedir=str(LOCALE_DIR), languages=[lang])
    except OSError:
        return gettext.NullTranslations()


class Text(str):
    """A translated text that remembers its untranslated ``key`` (the msgid) and its ``params``."""

    key: str
    params: dict

    def __reduce__(self):
        return (_remake, (str(self), self.key, self.params))


def _remake(text: str, key: str, params: dict) -> Text:
    t = Text(text)
    t.key, t.params = key, params
    return t


def tr(msgid: str, /, **params: object) -> Text:
    """``msgid`` in the current language, its ``{name}`` placeholders filled from ``params``."""
    lang = current()
    translated = translations(lang).gettext(msgid)
    text = Text(translated.format(**params) if params else translated)
    text.key, text.params = msgid, params
    return text


def tr_in(lang: str, msgid: str, /, **params: object) -> Text:
    """``tr`` in a given language (a test, a report asked for in another language)."""
    with language(lang):
        return tr(msgid, **params)


def N_(msgid: str, /) -> str:
    """Mark ``msgid`` for the catalogues; translate it later with ``tr(label)``."""
    return msgid


def placeholders(text: str) -> set[str]:
    """The named placeholders of a msgid or translation (``""`` for a positional one: never allowed)."""
    names = set()
    for _lit, field, _spec, _conv in string.Formatter().parse(text):
        if field is not None:
            names.add(field.split(".")[0].split("[")[0])
    return names
