"""Shorthand syntax: the values and the error texts of `aws` (reference §3.3, §3.4)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rekcli.cli.paramfile import ParamFileError
from rekcli.cli.shorthand import (
    MAX_DEPTH,
    ShorthandParseError,
    parse_shorthand,
    should_parse_as_json,
)


def parse_error(text: str) -> str:
    with pytest.raises(ShorthandParseError) as caught:
        parse_shorthand(text)
    return str(caught.value)


# -- observed examples (§3.4) ---------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("S3Object={Bucket=my-bucket,Name=photos/a.jpg}",
     {"S3Object": {"Bucket": "my-bucket", "Name": "photos/a.jpg"}}),
    ("Name=a\\,b", {"Name": "a,b"}),
    ('Name="a,b"', {"Name": "a,b"}),
    ("Name=a b c", {"Name": "a b c"}),
    ("Key=[a,b],Other={X=1,Y=[2,3]}", {"Key": ["a", "b"], "Other": {"X": "1", "Y": ["2", "3"]}}),
    ("Key=a=b", {"Key": "a=b"}),
    ("Key=", {"Key": ""}),
    ("Key=[]", {"Key": []}),
    ("Key={}", {"Key": {}}),
    ("Key=a,b,c", {"Key": ["a", "b", "c"]}),
    ("Key=a,b,Other=d", {"Key": ["a", "b"], "Other": "d"}),
])
def test_observed_examples(text, expected):
    assert parse_shorthand(text) == expected


# -- keys -----------------------------------------------------------------------------------

def test_key_characters():
    assert parse_shorthand("my-key_1.x#y/z:w=v,K2=w") == {"my-key_1.x#y/z:w": "v", "K2": "w"}


def test_key_order_is_kept():
    assert list(parse_shorthand("Z=1,A=2,M=3")) == ["Z", "A", "M"]


def test_other_characters_end_a_key():
    assert parse_error("Tag+Name=x") == (
        "Expected: '=', received: '+' for input:\n Tag+Name=x\n   ^"
    )


def test_empty_key_is_accepted_like_aws():
    assert parse_shorthand("=v") == {"": "v"}
    assert parse_shorthand("a=1,=v") == {"a": "1", "": "v"}


# -- whitespace -----------------------------------------------------------------------------

def test_whitespace_around_separators_is_skipped():
    assert parse_shorthand("a = b , c = d") == {"a": "b", "c": "d"}
    assert parse_shorthand("a=[ x , y ],b={ k = v , j = [ ] }") == {
        "a": ["x", "y"], "b": {"k": "v", "j": []}}
    assert parse_shorthand("a=1,\n  b=2") == {"a": "1", "b": "2"}


def test_leading_whitespace_is_an_error():
    assert parse_error(" a=b") == "Expected: '=', received: 'a' for input:\n  a=b\n ^"


def test_trailing_whitespace_of_a_bare_word_is_trimmed_but_inner_kept():
    assert parse_shorthand("Name=a  b \t") == {"Name": "a  b"}
    assert parse_shorthand("Name=  x") == {"Name": "x"}


def test_quoted_value_keeps_its_whitespace():
    assert parse_shorthand('Name="  padded  "') == {"Name": "  padded  "}


def test_a_space_instead_of_a_comma_stays_in_the_value():
    # The first value may contain spaces and "=", so this is one value, not two keys.
    assert parse_shorthand("Bucket=b Name=k") == {"Bucket": "b Name=k"}


# -- bare words -----------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("k=a\\,b\\,c", {"k": "a,b,c"}),
    ("k=\\,lead", {"k": ",lead"}),
    ("k=back\\slash", {"k": "back\\slash"}),
    ("k=a\\\\,b", {"k": "a\\,b"}),            # only "\," is an escape in a bare word
    ("k=x=y=z", {"k": "x=y=z"}),
    ("k=a[b", {"k": "a[b"}),
    ("k=a{b,j=c", {"k": "a{b", "j": "c"}),
    ("k=}", {"k": "}"}),
    ("k=arn:aws:rekognition:us-east-1:1:collection/c", {"k": "arn:aws:rekognition:us-east-1:1:collection/c"}),
    ("k=caf\u00e9 \u4e2d\u6587", {"k": "caf\u00e9 \u4e2d\u6587"}),
    ("k=file://not/loaded", {"k": "file://not/loaded"}),
    ("k=a\nb", {"k": "a\nb"}),
    ("k=,j=x", {"k": "", "j": "x"}),
])
def test_bare_words(text, expected):
    assert parse_shorthand(text) == expected


def test_closing_bracket_ends_a_first_value():
    assert parse_error("k=x[y]z") == "Expected: ',', received: ']' for input:\n k=x[y]z\n     ^"


def test_quote_inside_a_bare_word_ends_it():
    assert parse_error("Name=it's") == (
        "Expected: ',', received: ''' for input:\n Name=it's\n       ^"
    )


def test_characters_beyond_the_basic_plane_need_quotes():
    # aws's word character class stops at U+FFFF.
    assert parse_error("k=\U0001f600") == (
        "Expected: ',', received: '\U0001f600' for input:\n k=\U0001f600\n  ^"
    )
    assert parse_shorthand('k="\U0001f600"') == {"k": "\U0001f600"}


# -- quoted strings -------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ('k="a,b=c{d}[e]"', "a,b=c{d}[e]"),
    ("k='a,b'", "a,b"),
    ('k="say \\"hi\\""', 'say "hi"'),
    ("k='it\\'s'", "it's"),
    ('k="a\\\\b"', "a\\b"),
    ('k="a\\nb"', "a\\nb"),                    # no other escapes: the backslash stays
    ('k="it\'s"', "it's"),
    ("k='say \"hi\"'", 'say "hi"'),
    ('k=""', ""),
    ("k=''", ""),
    ('k="line1\nline2"', "line1\nline2"),
    ('k="trailing\\\\"', "trailing\\"),
])
def test_quoted_values(text, expected):
    assert parse_shorthand(text) == {"k": expected}


def test_quoted_value_in_lists_and_maps():
    assert parse_shorthand('k=["a,b",\'c]d\'],m={x="1}2"}') == {
        "k": ["a,b", "c]d"], "m": {"x": "1}2"}}


def test_quote_with_only_escaped_quotes_after_it_closes_at_the_last_one():
    # aws's pattern backtracks: `'x\'` is the string `x\`.
    assert parse_shorthand("k='x\\'") == {"k": "x\\"}
    assert parse_shorthand('k="a\\"b\\"') == {"k": 'a"b\\'}


@pytest.mark.parametrize("text, name, index", [
    ("k='abc", "singled quoted", 2),      # sic: aws's spelling
    ('k="abc', "double quoted", 2),
    ('k=[a,"b]', "double quoted", 5),
])
def test_unterminated_quote(text, name, index):
    assert parse_error(text) == (
        f"Expected: '<{name}>', received: '<none>' for input:\n {text}\n{' ' * index}^"
    )


def test_text_after_a_closing_quote_is_an_error():
    assert parse_error("title='hello' x") == (
        "Expected: ',', received: 'x' for input:\n title='hello' x\n              ^"
    )


# -- lists, maps, nesting -------------------------------------------------------------------

def test_nesting():
    assert parse_shorthand("a={b={c=[d,{e=f,g=[]}],h=[[x],[]]}}") == {
        "a": {"b": {"c": ["d", {"e": "f", "g": []}], "h": [["x"], []]}}}


def test_explicit_list_forms():
    assert parse_shorthand("k=[a]") == {"k": ["a"]}
    assert parse_shorthand("k=[a,]") == {"k": ["a"]}
    assert parse_shorthand("k=[,]") == {"k": [""]}
    assert parse_shorthand("k=[[]]") == {"k": [[]]}
    assert parse_shorthand("k=[a=b]") == {"k": ["a=b"]}


def test_list_of_maps():
    assert parse_shorthand("Filters=[{Name=a,Values=[1,2]},{Name=b,Values=[]}]") == {
        "Filters": [{"Name": "a", "Values": ["1", "2"]}, {"Name": "b", "Values": []}]}


def test_repeated_key_inside_braces_silently_wins():
    assert parse_shorthand("a={b=1,b=2}") == {"a": {"b": "2"}}


def test_csv_list_continuations_may_contain_closing_brackets():
    assert parse_shorthand("k=a,b]") == {"k": ["a", "b]"]}


def test_too_deep_nesting_is_a_parse_error_not_a_crash():
    assert parse_shorthand("k=" + "[" * MAX_DEPTH + "]" * MAX_DEPTH)["k"] is not None
    message = parse_error("k=" + "[" * (MAX_DEPTH + 1))
    assert message.startswith(f"Lists and maps nested more than {MAX_DEPTH} deep")
    message = parse_error("k=" + "{a=" * 5000)
    assert "nested more than" in message


# -- csv lists and backtracking ---------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("a=b,c=d", {"a": "b", "c": "d"}),
    ("a=x,y,z,b=1,c=2,3", {"a": ["x", "y", "z"], "b": "1", "c": ["2", "3"]}),
    ('a="x,1",\'y\',b=2', {"a": ["x,1", "y"], "b": "2"}),
    ("a=x, y ,b=2", {"a": ["x", "y"], "b": "2"}),
    ("a=x,y,b=[1],c={d=e}", {"a": ["x", "y"], "b": ["1"], "c": {"d": "e"}}),
    ("a=b,,c=d", {"a": "b", "c": "d"}),
    ("a=x,p\\,q=r", {"a": "x", "q": "r"}),   # aws backs up to the escaped comma
])
def test_csv_lists_and_backtracking(text, expected):
    assert parse_shorthand(text) == expected


def test_trailing_comma_is_an_error():
    assert parse_error("a=b,") == (
        "Expected: '<second>', received: '<none>' for input:\n a=b,\n    ^"
    )


# -- error forms ----------------------------------------------------------------------------

def test_reference_eof_error_text():
    assert parse_error("S3Object={Bucket=b") == (
        "Expected: ',', received: 'EOF' for input:\n S3Object={Bucket=b\n                  ^"
    )


def test_reference_duplicate_key_text():
    assert parse_error("Name=a,Name=b") == (
        'Second instance of key "Name" encountered for input:\nName=a,Name=b\n       ^\n'
        'This is often because there is a preceding "," instead of a space.'
    )


def test_duplicate_key_after_a_csv_list_points_after_the_list():
    assert parse_error("Name=a,b,Name=c") == (
        'Second instance of key "Name" encountered for input:\nName=a,b,Name=c\n         ^\n'
        'This is often because there is a preceding "," instead of a space.'
    )


@pytest.mark.parametrize("text, expected, received, index", [
    ("", "=", "EOF", 0),
    ("Name", "=", "EOF", 4),
    ("Name:x", "=", "EOF", 6),
    ("a=[x", ",", "EOF", 4),
    ("a=[", ",", "EOF", 3),
    ("a={", "=", "EOF", 3),
    ("a={b=c", ",", "EOF", 6),
    ("a={b}", "=", "}", 4),
    ("a=[]x", ",", "x", 4),
    ("a=[] ", ",", "EOF", 5),
    ("a=[]]", ",", "]", 4),
    ("a={b=c}d", ",", "d", 7),
])
def test_syntax_errors(text, expected, received, index):
    assert parse_error(text) == (
        f"Expected: '{expected}', received: '{received}' for input:\n {text}\n{' ' * index}^"
    )


def test_error_in_multiline_input_points_into_the_failing_line():
    assert parse_error("a=1,\nb==2\nc=3") == (
        "Expected: ',', received: '=' for input:\n a=1,\nb==2\n  ^\nc=3"
    )


def test_error_carries_the_index():
    with pytest.raises(ShorthandParseError) as caught:
        parse_shorthand("S3Object={Bucket=b")
    assert caught.value.index == 18
    assert caught.value.message == str(caught.value)
    assert not isinstance(caught.value, ValueError)


def test_non_text_input_is_a_type_error():
    with pytest.raises(TypeError):
        parse_shorthand(b"a=b")


# -- @= file loading ------------------------------------------------------------------------

def test_at_equals_loads_text_and_bytes(tmp_path):
    (tmp_path / "name.txt").write_text("photos/a.jpg")
    (tmp_path / "face.jpg").write_bytes(b"\xff\xd8\xff")
    assert parse_shorthand(f"Name@=file://{tmp_path}/name.txt,Bytes@=fileb://{tmp_path}/face.jpg") == {
        "Name": "photos/a.jpg", "Bytes": b"\xff\xd8\xff"}


def test_at_equals_without_a_prefix_is_an_ordinary_value():
    assert parse_shorthand("a@=plain,b@=") == {"a": "plain", "b": ""}


def test_plain_equals_never_loads(tmp_path):
    (tmp_path / "v.txt").write_text("loaded")
    assert parse_shorthand(f"a=file://{tmp_path}/v.txt") == {"a": f"file://{tmp_path}/v.txt"}


def test_at_equals_inside_braces_and_quotes(tmp_path):
    (tmp_path / "my file.txt").write_text("spaced")
    (tmp_path / "b.txt").write_text("bee")
    result = parse_shorthand(
        f'S3Object={{Bucket=b,Name@="file://{tmp_path}/my file.txt"}},K @ = file://{tmp_path}/b.txt')
    assert result == {"S3Object": {"Bucket": "b", "Name": "spaced"}, "K": "bee"}


def test_at_equals_applies_to_every_value_of_its_key(tmp_path):
    (tmp_path / "1.txt").write_text("one")
    (tmp_path / "2.txt").write_text("two")
    assert parse_shorthand(f"a@=file://{tmp_path}/1.txt,file://{tmp_path}/2.txt,b=x") == {
        "a": ["one", "two"], "b": "x"}
    assert parse_shorthand(f"a@=[file://{tmp_path}/1.txt,file://{tmp_path}/2.txt]") == {
        "a": ["one", "two"]}


def test_at_equals_is_per_key(tmp_path):
    (tmp_path / "1.txt").write_text("one")
    assert parse_shorthand(f"a@=file://{tmp_path}/1.txt,b=file://{tmp_path}/1.txt") == {
        "a": "one", "b": f"file://{tmp_path}/1.txt"}
    # An inner key without "@" switches loading off for the rest of that value, as in aws.
    assert parse_shorthand("a@={k=file://x}") == {"a": {"k": "file://x"}}


def test_at_equals_load_failure_is_a_param_file_error_not_a_parse_error(tmp_path):
    with pytest.raises(ParamFileError) as caught:
        parse_shorthand(f"Name@=file://{tmp_path}/missing.txt")
    assert str(caught.value) == (
        f"Unable to load paramfile file://{tmp_path}/missing.txt: "
        f"[Errno 2] No such file or directory: '{tmp_path}/missing.txt'"
    )


def test_at_without_equals_is_a_syntax_error():
    assert parse_error("a@b") == "Expected: '=', received: 'b' for input:\n a@b\n  ^"


# -- JSON or shorthand (§3.3) ---------------------------------------------------------------

@pytest.mark.parametrize("value, is_json", [
    ('{"Bucket": "b"}', True),
    ("[1, 2]", True),
    ("  \n {not even json", True),
    ("\t[", True),
    ("Bucket=b", False),
    ("Key=[a,b]", False),
    ("Key={a=b}", False),
    ("", False),
    ("   ", False),
    (["[1]", "x"], True),
    (["x", "[1]"], False),
    ([], False),
    (b"{}", False),
])
def test_should_parse_as_json(value, is_json):
    assert should_parse_as_json(value) is is_json


# -- import cost ----------------------------------------------------------------------------

def test_modules_import_only_the_standard_library():
    code = textwrap.dedent("""
        import sys
        before = set(sys.modules)
        import rekcli.cli.shorthand, rekcli.cli.paramfile
        new = {m.split(".")[0] for m in set(sys.modules) - before}
        print(sorted(new - set(sys.stdlib_module_names) - {"rekcli"}))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# -- properties -----------------------------------------------------------------------------

SHORTHAND_PIECES = st.sampled_from(
    list("ab=,[]{}\"'\\ \t\n@:#/._-xyz") + ["\\,", '\\"', "\\'", "\\\\", "k=", ",k=", "@=",
                                           "\U0001f600", "\x85", "\x1c", "\xa0", "\x00"])
ARBITRARY_TEXT = st.one_of(
    st.text(max_size=40),
    st.lists(SHORTHAND_PIECES, max_size=40).map("".join),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ARBITRARY_TEXT)
def test_arbitrary_text_parses_or_raises_a_parse_error(text):
    try:
        result = parse_shorthand(text)
    except ShorthandParseError as exc:
        assert str(exc)
    except ParamFileError:
        assert "@" in text  # only an "@=" value loads files
    else:
        assert isinstance(result, dict)


KEY_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.#/:"
# Characters that are safe in an unquoted word anywhere (first value, csv continuation,
# list item, map value). Deliberately conservative: no "=", brackets, quotes, "," or "\".
BARE_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./:@+-!$%&*();<>?^`|~#"
WHITESPACE = st.sampled_from(["", "", " ", "  ", "\t", "\n "])

keys = st.text(KEY_CHARS, min_size=1, max_size=6)
strings = st.one_of(
    st.text(max_size=10),
    st.text(BARE_CHARS + " ", min_size=1, max_size=10),
    st.text("\\\"', =[]{}", max_size=6),
)
structures = st.recursive(
    strings,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=15,
)
documents = st.dictionaries(keys, structures, min_size=1, max_size=5)


def _is_bare_safe(text: str) -> bool:
    return bool(text) and text == text.strip() and all(c in BARE_CHARS or c == " " for c in text)


def _quote(text: str, quote: str) -> str:
    return quote + text.replace("\\", "\\\\").replace(quote, "\\" + quote) + quote


class _Serialiser:
    """Writes shorthand for a structure, drawing style choices (bare or quoted, which
    quote, csv or bracketed lists, spacing) from hypothesis."""

    def __init__(self, draw):
        self.draw = draw

    def ws(self) -> str:
        return self.draw(WHITESPACE)

    def string(self, text: str) -> str:
        if _is_bare_safe(text) and self.draw(st.booleans()):
            return text
        return _quote(text, self.draw(st.sampled_from(['"', "'"])))

    def value(self, value) -> str:
        if isinstance(value, str):
            return self.string(value)
        if isinstance(value, list):
            return "[" + self.ws() + ("," + self.ws()).join(self.value(v) for v in value) + "]"
        members = ("," + self.ws()).join(
            f"{k}{self.ws()}={self.ws()}{self.value(v)}" for k, v in value.items())
        return "{" + self.ws() + members + "}"

    def top_value(self, value) -> str:
        if (isinstance(value, list) and len(value) >= 2 and all(isinstance(v, str) for v in value)
                and self.draw(st.booleans())):
            return ("," + self.ws()).join(self.string(v) for v in value)  # Key=a,b,c
        return self.value(value)

    def document(self, doc: dict) -> str:
        return ("," + self.ws()).join(
            f"{k}{self.ws()}={self.ws()}{self.top_value(v)}" for k, v in doc.items())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents, st.data())
def test_round_trip(doc, data):
    text = _Serialiser(data.draw).document(doc)
    assert parse_shorthand(text) == doc, text
