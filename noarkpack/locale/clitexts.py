"""The command line's own frame in both languages: usage, usage errors, and help translated when shown.

typer makes a few of its texts (``Options``, ``Arguments``, ``required``) through the standard library's
``gettext``, bound at its import as ``_``: :func:`install` points that name at noarkpack's catalogue.  The click
typer carries writes the rest as English literals (``Usage:``, ``Missing argument 'X'.``, ``Try '…' for help.``):
:class:`LocalizedGroup` shows usage errors itself, their English messages matched against :data:`_MESSAGES` and
translated (a message it does not know stays as click wrote it).

Help texts are written in English and marked with ``N_`` where the commands are declared; the classes
:class:`LocalizedGroup` and :class:`LocalizedCommand` translate them when help is shown (typer builds the click
commands before the language is known).  :func:`take_lang` finds ``--lang`` anywhere on the command line; the
CLI's root group (cli.py: the face prints and exits, this module does not) sets the language with it.
"""

from __future__ import annotations

import re

import typer.core

from . import N_, tr, translations
from . import current as current_language

#: typer's own gettext texts (typer/core.py), word for word
TYPER_TEXTS = [N_("Options"), N_("Arguments"), N_("Commands"), N_("required"), N_("default: {default}"),
               N_("env var: {var}"), N_("(dynamic)"), N_("Aborted!"), N_("Missing command."),
               N_("No such command {name!r}."), N_("Show this message and exit.")]

_KINDS = {"integer": N_("integer"), "int": N_("integer"), "float": N_("decimal number"), "boolean": N_("boolean"),
          "File": N_("File"), "Directory": N_("Directory"), "Path": N_("Path")}

#: click's English usage-error messages (as typer's click writes them) and their msgids
_MESSAGES: list[tuple[re.Pattern, str]] = [(re.compile(p), m) for p, m in [
    (r"^Missing argument '(?P<name>[^']*)'\.$", N_("Missing argument '{name}'.")),
    (r"^Missing option '(?P<name>[^']*)'\.$", N_("Missing option '{name}'.")),
    (r"^Missing parameter '(?P<name>[^']*)'\.$", N_("Missing parameter '{name}'.")),
    (r"^No such option: (?P<name>\S+) \(Possible options: (?P<options>.*)\)$",
     N_("No such option: {name} (possible options: {options})")),
    (r"^No such option: (?P<name>\S+)$", N_("No such option: {name}")),
    (r"^Invalid value for (?P<param>'[^']*'(?: / '[^']*')*): (?P<message>.*)$",
     N_("Invalid value for {param}: {message}")),
    (r"^Invalid value: (?P<message>.*)$", N_("Invalid value: {message}")),
    (r"^(?P<value>'.*') is not a valid (?P<kind>integer|int|float|boolean)\.$", N_("{value} is not a valid {kind}.")),
    (r"^(?P<value>\S+) is not in the range (?P<range>.*)\.$", N_("{value} is not in the range {range}.")),
    (r"^(?P<value>'.*') is not one of (?P<choices>.*)\.$", N_("{value} is not one of {choices}.")),
    (r"^(?P<value>'.*') is not (?P<choice>'.*')\.$", N_("{value} is not {choice}.")),
    (r"^(?P<kind>File|Directory|Path) (?P<path>'.*') does not exist\.$", N_("{kind} {path} does not exist.")),
    (r"^(?P<kind>File|Directory|Path) (?P<path>'.*') is a file\.$", N_("{kind} {path} is a file.")),
    (r"^(?P<kind>File|Directory|Path) (?P<path>'.*') is a directory\.$", N_("{kind} {path} is a directory.")),
    (r"^Got unexpected extra arguments? \((?P<args>.*)\)$", N_("Got unexpected extra argument(s) ({args})")),
    (r"^No such command '(?P<name>.*)'\.$", N_("No such command '{name}'.")),
    (r"^Missing command\.$", N_("Missing command.")),
    (r"^Option '(?P<name>.*)' does not take a value\.$", N_("Option '{name}' does not take a value.")),
    (r"^Option '(?P<name>.*)' requires an argument\.$", N_("Option '{name}' requires an argument.")),
    (r"^Option '(?P<name>.*)' requires (?P<nargs>\d+) arguments\.$", N_("Option '{name}' requires {nargs} arguments.")),
]]


def translate_message(message: str) -> str:
    """One of click's English messages in the run's language (unknown ones unchanged)."""
    for pattern, msgid in _MESSAGES:
        m = pattern.match(message)
        if m:
            params = m.groupdict()
            if "message" in params:
                params["message"] = translate_message(params["message"])
            if "kind" in params:
                params["kind"] = tr(_KINDS[params["kind"]])
            return tr(msgid, **params)
    return message


def _gettext(message: str) -> str:
    return translations(current_language()).gettext(message)


def install() -> None:
    """Make typer's gettext texts go through noarkpack's catalogue (idempotent)."""
    typer.core._ = _gettext


def _translate_help(obj) -> None:
    """Put ``obj.help`` (a command's or a parameter's) into the current language; the msgid is kept aside."""
    msgid = getattr(obj, "_np_msgid", None)
    if msgid is None:
        msgid = obj._np_msgid = getattr(obj, "help", None) or ""
    if msgid:
        obj.help = _gettext(msgid)


class _Localized:
    def format_help(self, ctx, formatter) -> None:
        _translate_help(self)
        for p in self.get_params(ctx):
            _translate_help(p)
        super().format_help(ctx, formatter)

    def format_usage(self, ctx, formatter) -> None:
        pieces = self.collect_usage_pieces(ctx)
        formatter.write_usage(ctx.command_path, " ".join(pieces), prefix=tr("Usage:") + " ")

    def get_short_help_str(self, limit: int = 45) -> str:
        _translate_help(self)
        return super().get_short_help_str(limit)


class LocalizedCommand(_Localized, typer.core.TyperCommand):
    """A command whose help is shown in the run's language."""


def take_lang(args: list[str]) -> tuple[str | None, list[str]]:
    """``--lang X`` / ``--lang=X`` from anywhere before ``--``: (the language or None, the other args)."""
    lang, rest, i = None, [], 0
    while i < len(args):
        a = args[i]
        if a == "--":
            rest += args[i:]
            break
        if a == "--lang" and i + 1 < len(args):
            lang, i = args[i + 1], i + 2
            continue
        if a.startswith("--lang="):
            lang, i = a.split("=", 1)[1], i + 1
            continue
        rest.append(a)
        i += 1
    return lang, rest


class LocalizedGroup(_Localized, typer.core.TyperGroup):
    """A group whose help is shown in the run's language (the CLI's root group, in cli.py, also sets the
    language of the run and shows usage errors in it)."""
