"""The renderers of a help page (rekcli/cli/help_document.py):

  layout        lines of (text, style) runs at a width: what the pager styles (help_pager.py)
  render_text   plain text, 80 columns: help piped or redirected (stable, so tests read it)
  render_roff   man(7) source: man/rekcli.1 and man/rekcli-<command>.1, written by
                tools/generate_docs.py

Standard library only: `rekcli --help` goes through here on every call.
"""

from __future__ import annotations

import textwrap

from rekcli.cli.help_document import PROG, SECTION_INDENT, STEP, TEXT_WIDTH, Bullets, Code, Entry, Page, Para


# ---- plain (and styled) text -------------------------------------------------------------

def layout(page: Page, width: int = TEXT_WIDTH) -> list[list[tuple[str, str]]]:
    """The page as lines of (text, style) runs; styles: heading, term, label, code, ''."""
    lines: list[list[tuple[str, str]]] = [[("NAME", "heading")]]
    _wrap(f"{page.title} - {page.summary}", SECTION_INDENT, width, lines)
    for section in page.sections:
        lines.append([])
        lines.append([(section.title, "heading")])
        _layout_blocks(section.body, SECTION_INDENT, width, lines)
    return lines


def _layout_blocks(blocks, indent: int, width: int, lines) -> None:
    for i, block in enumerate(blocks):
        if i:
            lines.append([])
        if isinstance(block, Para):
            _wrap(block.text, indent, width, lines, "label" if block.label else "")
        elif isinstance(block, Code):
            for line in block.text.split("\n"):
                lines.append([(" " * (indent + STEP) + line, "code")] if line else [])
        elif isinstance(block, Bullets):
            for item in block.items:
                wrapped = textwrap.wrap(item, max(20, width - indent - 2), break_long_words=False,
                                        break_on_hyphens=False) or [""]
                lines.append([(" " * indent + "- " + wrapped[0], "")])
                lines.extend([(" " * (indent + 2) + rest, "")] for rest in wrapped[1:])
        elif isinstance(block, Entry):
            runs = [(" " * indent, "")]
            if block.name:
                runs.append((block.name, "term"))
            if block.detail:
                runs.append(((" " if block.name else "") + block.detail, ""))
            lines.append(runs)
            _layout_blocks(block.body, indent + STEP, width, lines)


def _wrap(text: str, indent: int, width: int, lines, style: str = "") -> None:
    for line in textwrap.wrap(text, max(20, width - indent), break_long_words=False,
                              break_on_hyphens=False):
        lines.append([(" " * indent + line, style)])


def render_text(page: Page, width: int = TEXT_WIDTH) -> str:
    return "".join("".join(text for text, _ in runs) + "\n" for runs in layout(page, width))


# ---- roff (man pages) --------------------------------------------------------------------

def render_roff(page: Page) -> str:
    from rekcli import __version__

    out = [f'.TH "{page.man_name.upper()}" "1" "" "{PROG} {__version__}" "{PROG} manual"',
           ".nh", ".ad l",   # no hyphenation (option names would break), ragged right
           ".SH NAME", f"{_roff_text(page.man_name)} \\- {_roff_text(page.summary)}"]
    for section in page.sections:
        out.append(f'.SH "{section.title}"')
        _roff_blocks(section.body, out)
    return "\n".join(out) + "\n"


def _roff_blocks(blocks, out: list[str]) -> None:
    for block in blocks:
        if isinstance(block, Para):
            text = _roff_text(block.text)
            out += [".PP", f"\\fB{text}\\fR" if block.label else _roff_line(text)]
        elif isinstance(block, Code):
            out += [".PP", ".RS 4", ".nf"]
            out += [_roff_line(_roff_text(line)) for line in block.text.split("\n")]
            out += [".fi", ".RE"]
        elif isinstance(block, Bullets):
            for item in block.items:
                out += [".IP \\(bu 2", _roff_line(_roff_text(item))]
        elif isinstance(block, Entry):
            term = f"\\fB{_roff_text(block.name)}\\fR" if block.name else ""
            detail = _roff_text(block.detail)
            out += [".PP", _roff_line(f"{term} {detail}".strip())]
            if block.body:
                out.append(".RS 4")
                _roff_blocks(block.body, out)
                out.append(".RE")


def _roff_text(text: str) -> str:
    """Escape for roff: backslashes, and hyphens as \\- so options copy as ASCII hyphens."""
    return text.replace("\\", "\\e").replace("-", "\\-")


def _roff_line(line: str) -> str:
    """A text line must not start with a control character (. or ')."""
    return "\\&" + line if line.startswith((".", "'")) else line
