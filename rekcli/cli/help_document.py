"""The document tree of a help page: sections of paragraphs, literal blocks, bullet lists
and entries (a term with an indented body). rekcli/cli/help.py builds pages of it,
rekcli/cli/help_render.py renders them as text or roff, rekcli/cli/help_pager.py prints
them on a terminal.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PROG = "rekcli"
TEXT_WIDTH = 80
SECTION_INDENT = 7   # where section bodies start, as in man's output
STEP = 3             # extra indent of an entry's body and of literal blocks


@dataclass
class Para:
    text: str
    label: bool = False        # a small heading inside a section ("JSON Syntax:")


@dataclass
class Code:
    text: str                  # shown as is: never wrapped


@dataclass
class Bullets:
    items: list[str]


@dataclass
class Entry:
    name: str                  # "--collection-id", "Bytes", "" for a list's element
    detail: str                # "(string) [required]", "-> (blob)"
    body: list = field(default_factory=list)


@dataclass
class Section:
    title: str
    body: list


@dataclass
class Page:
    title: str                 # "rekcli compare-faces": how it is typed
    man_name: str              # "rekcli-compare-faces": the man page's name
    summary: str
    sections: list[Section]
