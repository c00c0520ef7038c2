"""AWS CLI shorthand syntax: `S3Object={Bucket=b,Name=k}` and friends, as plain values.

Grammar (aws CLI v2, `awscli/shorthand.py`)::

    parameter     = keyval *("," keyval)            ; keys unique at this level only
    keyval        = key ("=" / "@=") values         ; "@=" loads file:// / fileb:// values
    key           = *(ALPHA / DIGIT / "-" / "_" / "." / "#" / "/" / ":")
    values        = csv-value / explicit-list / hash-literal / ""   ; "" at end of input
    csv-value     = first-value *("," second-value) ; one item gives a scalar, more a list
    explicit-list = "[" [item *("," item)] "]"
    hash-literal  = "{" [key ("=" / "@=") item *("," key ("=" / "@=") item)] "}"
    item          = explicit-list / hash-literal / first-value

Values are strings (bytes only from `@=fileb://`); turning them into numbers or booleans
against the API model is the caller's job. Whitespace is skipped around `=`, `,` and
brackets, but not before the first key, so leading whitespace is a syntax error.

The behaviour below mirrors the aws parser, quirks included, because scripts written for
`aws` must give the same values and the same error text here:

* A bare word is a run of word characters; `\\,` inside it is a literal comma and trailing
  whitespace is trimmed. A first value may contain `=` (`Key=a=b` is `"a=b"`) but ends at
  `]` or `}`; a csv continuation ends at `=`, because meeting `=` there is how the parser
  notices that `Key=a,b,Other=c` has moved on to the next key: it backs up to the last comma.
* Characters above U+FFFF are not word characters (aws's character class stops there);
  they work inside quotes.
* In quotes, `\\"` (or `\\'`) is the quote and `\\\\` a backslash; other backslashes stay.
* A failing `@=` file load is not a syntax error: `ParamFileError` propagates unchanged
  (aws lets it reach its general error handler, exit 255, with no "Error parsing" prefix).

Standard library only (plus the stdlib-only `paramfile`): this runs on every CLI start.
"""

from __future__ import annotations

from rekcli.cli.paramfile import resolve_param_file

__all__ = ["ShorthandParseError", "parse_shorthand", "should_parse_as_json"]

# Nesting of lists and maps deeper than this is refused with a ShorthandParseError rather
# than exhausting Python's stack (aws itself dies with a RecursionError, far deeper).
MAX_DEPTH = 100

_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.#/:")
_SKIPPED_WHITESPACE = frozenset(" \t\n\r\x0b\x0c")  # string.whitespace, without the import
_ESCAPED_COMMA = "\\,"
_MAX_WORD_CHAR = 0xFFFF


def _starts_word(char: str) -> bool:
    """Can a bare word begin with `char`? Not with space, quotes, `,`, `=`, `[` or `{`."""
    code = ord(char)
    if code >= 0x7C:
        return code <= _MAX_WORD_CHAR
    return code > 0x20 and char not in "\"',=[{"


def _continues_first_word(char: str) -> bool:
    """Inside a first value: whitespace and `=`, `[`, `{` are fine; quotes, `,`, `]`, `}` end it."""
    if char.isspace():
        return True
    code = ord(char)
    return 0x20 < code <= _MAX_WORD_CHAR and char not in "\"',]}"


def _continues_second_word(char: str) -> bool:
    """Inside a csv continuation value: like a first value, but `=` ends it and `]`, `}` don't."""
    if char.isspace():
        return True
    code = ord(char)
    return 0x20 < code <= _MAX_WORD_CHAR and char not in "\"',="


class ShorthandParseError(Exception):
    """The text is not valid shorthand. str() is the aws message, without the
    `Error parsing parameter '--x': ` prefix that the caller adds."""

    def __init__(self, message: str, *, index: int | None = None):
        super().__init__(message)
        self.message = message
        self.index = index


def should_parse_as_json(value) -> bool:
    """aws's choice between JSON and shorthand: JSON when the stripped text starts with
    `{` or `[`. For a list of values only the first one is looked at."""
    if isinstance(value, list):
        if not value:
            return False
        value = value[0]
    return isinstance(value, str) and value.strip().startswith(("{", "["))


def parse_shorthand(text: str) -> dict:
    """Parse one shorthand parameter value into a dict of str / list / dict values.

    Raises `ShorthandParseError` for bad syntax, and lets `ParamFileError` from an `@=`
    file load through unchanged.
    """
    if not isinstance(text, str):
        raise TypeError(f"shorthand must be str, not {type(text).__name__}")
    return _Parser(text).parse()


# Input longer than this is shown as a window around the error (a file:// value can be
# megabytes; aws would echo it whole).
_MAX_SHOWN = 200
_WINDOW = 60


def _point_at(text: str, index: int) -> str:
    """The input with a caret line under `index`, split at the line holding `index`."""
    if len(text) > _MAX_SHOWN:
        start, end = max(0, index - _WINDOW), min(len(text), index + _WINDOW)
        before, after = ("..." if start else ""), ("..." if end < len(text) else "")
        text, index = before + text[start:end] + after, index - start + len(before)
    line_start = text.rfind("\n", 0, index) + 1
    line_end = text.find("\n", index)
    if line_end == -1:
        line_end = len(text)
    return f"{text[:line_end]}\n{' ' * (index - line_start)}^{text[line_end:]}"


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.pos = 0
        self.depth = 0
        # Set by a key written with "@=", for the values that follow it.
        self.load_files = False

    # -- grammar -------------------------------------------------------------------------

    def parse(self) -> dict:
        result = {}
        key, value = self._keyval()
        result[key] = value
        end_of_previous = self.pos
        while self.pos < len(self.text):
            self._expect(",", skip_whitespace=True)
            key, value = self._keyval()
            if key in result:
                raise ShorthandParseError(
                    f'Second instance of key "{key}" encountered for input:\n'
                    f"{_point_at(self.text, end_of_previous + 1)}\n"
                    'This is often because there is a preceding "," instead of a space.',
                    index=end_of_previous + 1,
                )
            result[key] = value
            end_of_previous = self.pos
        return result

    def _keyval(self):
        key = self._key()
        self._assignment()
        return key, self._values()

    def _assignment(self) -> None:
        """`=` or `@=` after a key (whitespace allowed around either character)."""
        self.load_files = False
        self._skip_whitespace()
        if self._peek() == "@":
            self.pos += 1
            self._skip_whitespace()
            self.load_files = True
        self._expect("=", skip_whitespace=True)

    def _key(self) -> str:
        start = self.pos
        text = self.text
        while self.pos < len(text) and text[self.pos] in _KEY_CHARS:
            self.pos += 1
        return text[start:self.pos]

    def _values(self):
        if self.pos >= len(self.text):
            return ""
        char = self.text[self.pos]
        if char == "[":
            return self._explicit_list()
        if char == "{":
            return self._hash_literal()
        return self._csv_value()

    def _csv_value(self):
        first = self._first_value()
        self._skip_whitespace()
        if self._peek() != ",":
            return first
        self._expect(",", skip_whitespace=True)
        items = [first]
        while True:
            try:
                item = self._second_value()
                self._skip_whitespace()
                if self.pos >= len(self.text):
                    items.append(item)
                    break
                self._expect(",", skip_whitespace=True)
                items.append(item)
            except ShorthandParseError:
                # `Key=a,b,Other=c`: the word after the last comma was a key. Back up to
                # that comma and let the caller read the next key/value pair from there.
                if self.pos >= len(self.text):
                    raise
                self.pos = self.text.rfind(",", 0, self.pos + 1)
                break
        return first if len(items) == 1 else items

    def _explicit_list(self) -> list:
        self._enter_nesting()
        self._expect("[", skip_whitespace=True)
        items = []
        while self._peek() != "]":
            items.append(self._item())
            self._skip_whitespace()
            if self._peek() != "]":
                self._expect(",")
                self._skip_whitespace()
        self._expect("]")
        self.depth -= 1
        return items

    def _hash_literal(self) -> dict:
        self._enter_nesting()
        self._expect("{", skip_whitespace=True)
        members = {}
        while self._peek() != "}":
            key = self._key()
            self._assignment()
            value = self._item()
            self._skip_whitespace()
            if self._peek() != "}":
                self._expect(",")
                self._skip_whitespace()
            members[key] = value  # a repeated key inside braces silently wins, as in aws
        self._expect("}")
        self.depth -= 1
        return members

    def _item(self):
        char = self._peek()
        if char == "[":
            return self._explicit_list()
        if char == "{":
            return self._hash_literal()
        return self._first_value()

    def _first_value(self):
        char = self._peek()
        if char in ("'", '"'):
            return self._quoted(char)
        word = self._word(_continues_first_word)
        # An empty first value is allowed (`Key=,Other=x`) and never loads a file.
        return "" if word is None else self._load(word)

    def _second_value(self):
        char = self._peek()
        if char in ("'", '"'):
            return self._quoted(char)
        word = self._word(_continues_second_word)
        if word is None:
            self._fail("<second>", "<none>")
        return self._load(word)

    # -- tokens --------------------------------------------------------------------------

    def _word(self, continues) -> str | None:
        """A bare word from the cursor, `\\,` unescaped and trailing whitespace trimmed;
        None (cursor unmoved) when no word starts here."""
        text = self.text
        end = len(text)
        pos = self.pos
        if text.startswith(_ESCAPED_COMMA, pos):
            pos += 2
        elif pos < end and _starts_word(text[pos]):
            pos += 1
        else:
            return None
        while pos < end:
            if text.startswith(_ESCAPED_COMMA, pos):
                pos += 2
            elif continues(text[pos]):
                pos += 1
            else:
                break
        word = text[self.pos:pos]
        self.pos = pos
        return word.replace(_ESCAPED_COMMA, ",").rstrip()

    def _quoted(self, quote: str):
        """A quoted string; the cursor is on the opening quote."""
        text = self.text
        start = self.pos
        pos = start + 1
        close = -1
        while pos < len(text):
            char = text[pos]
            if char == "\\" and pos + 1 < len(text) and text[pos + 1] in ("\\", quote):
                pos += 2
            elif char == quote:
                close = pos
                break
            else:
                pos += 1
        if close == -1:
            # Every quote after the opening one was escaped. aws's pattern then settles for
            # the last of them as the closing quote (its backslash stays in the value).
            close = text.rfind(quote, start + 1)
            if close == -1:
                name = "singled quoted" if quote == "'" else "double quoted"  # aws's spelling
                self._fail(f"<{name}>", "<none>")
        body = text[start + 1:close]
        self.pos = close + 1
        body = body.replace("\\" + quote, quote).replace("\\\\", "\\")
        return self._load(body)

    def _load(self, value: str):
        return resolve_param_file(value) if self.load_files else value

    # -- helpers -------------------------------------------------------------------------

    def _peek(self) -> str | None:
        return self.text[self.pos] if self.pos < len(self.text) else None

    def _skip_whitespace(self) -> None:
        text = self.text
        while self.pos < len(text) and text[self.pos] in _SKIPPED_WHITESPACE:
            self.pos += 1

    def _expect(self, char: str, *, skip_whitespace: bool = False) -> None:
        if skip_whitespace:
            self._skip_whitespace()
        if self.pos >= len(self.text):
            self._fail(char, "EOF")
        if self.text[self.pos] != char:
            self._fail(char, self.text[self.pos])
        self.pos += 1
        if skip_whitespace:
            self._skip_whitespace()

    def _enter_nesting(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ShorthandParseError(
                f"Lists and maps nested more than {MAX_DEPTH} deep are not supported "
                f"for input:\n {_point_at(self.text, self.pos)}",
                index=self.pos,
            )

    def _fail(self, expected: str, received: str):
        raise ShorthandParseError(
            f"Expected: '{expected}', received: '{received}' for input:\n"
            f" {_point_at(self.text, self.pos)}",
            index=self.pos,
        )
