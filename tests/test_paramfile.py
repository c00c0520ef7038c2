"""file:// and fileb:// parameter values: contents, pass-through, and aws's error texts."""

from __future__ import annotations

import os

import pytest

from rekcli.cli.paramfile import ParamFileError, resolve_param_file

UNDECODABLE = (
    "Unable to load paramfile ({}), text contents could not be decoded.  If this is a binary "
    "file, please use the fileb:// prefix instead of the file:// prefix."
)


def load_error(value) -> str:
    with pytest.raises(ParamFileError) as caught:
        resolve_param_file(value)
    return str(caught.value)


# -- contents -------------------------------------------------------------------------------

def test_file_prefix_reads_utf8_text(tmp_path):
    path = tmp_path / "image.json"
    path.write_text('{"S3Object": {"Bucket": "b", "Name": "caf\u00e9.jpg"}}\n', encoding="utf-8")
    value = resolve_param_file(f"file://{path}")
    assert value == '{"S3Object": {"Bucket": "b", "Name": "caf\u00e9.jpg"}}\n'
    assert isinstance(value, str)


def test_file_prefix_keeps_trailing_newline_and_reads_empty_file(tmp_path):
    (tmp_path / "id.txt").write_text("my-collection\n")
    (tmp_path / "empty.txt").write_bytes(b"")
    assert resolve_param_file(f"file://{tmp_path}/id.txt") == "my-collection\n"
    assert resolve_param_file(f"file://{tmp_path}/empty.txt") == ""


def test_file_prefix_reads_in_text_mode_with_universal_newlines(tmp_path):
    (tmp_path / "crlf.txt").write_bytes(b"a\r\nb\r\n")
    assert resolve_param_file(f"file://{tmp_path}/crlf.txt") == "a\nb\n"


def test_fileb_prefix_reads_raw_bytes(tmp_path):
    data = bytes(range(256)) + b"\r\n"
    (tmp_path / "face.jpg").write_bytes(data)
    value = resolve_param_file(f"fileb://{tmp_path}/face.jpg")
    assert value == data
    assert isinstance(value, bytes)


def test_relative_path_is_relative_to_the_working_directory(tmp_path, monkeypatch):
    (tmp_path / "rel.txt").write_text("here")
    monkeypatch.chdir(tmp_path)
    assert resolve_param_file("file://rel.txt") == "here"
    assert resolve_param_file("fileb://rel.txt") == b"here"


def test_tilde_is_expanded(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "x.txt").write_text("home file")
    assert resolve_param_file("file://~/x.txt") == "home file"
    assert resolve_param_file("fileb://~/x.txt") == b"home file"


def test_environment_variables_are_expanded(tmp_path, monkeypatch):
    monkeypatch.setenv("REKCLI_TEST_DIR", str(tmp_path))
    (tmp_path / "v.txt").write_text("from var")
    assert resolve_param_file("file://$REKCLI_TEST_DIR/v.txt") == "from var"
    assert resolve_param_file("fileb://${REKCLI_TEST_DIR}/v.txt") == b"from var"


def test_tilde_then_variables_in_one_path(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("REKCLI_SUB", "sub")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "f.txt").write_text("both")
    assert resolve_param_file("file://~/$REKCLI_SUB/f.txt") == "both"


# -- pass-through ---------------------------------------------------------------------------

@pytest.mark.parametrize("value", [
    "my-collection",
    "",
    "S3Object={Bucket=b,Name=file://k}",
    '{"Bytes": "aGVsbG8="}',
    "FILE://upper/case/is/not/a/prefix",
    "File://x",
    " file://leading-space",
    "file:/one-slash",
    "filebb://x",
    "http://example.com/x.json",
    "s3://bucket/key",
])
def test_ordinary_values_come_back_unchanged(value):
    assert resolve_param_file(value) is value


@pytest.mark.parametrize("value", [None, 3, ["file:///etc/hostname"], b"file:///etc/hostname"])
def test_non_string_values_come_back_unchanged(value):
    assert resolve_param_file(value) is value


# -- errors ---------------------------------------------------------------------------------

def test_missing_file_gives_the_aws_message():
    assert load_error("file:///no/such/file.json") == (
        "Unable to load paramfile file:///no/such/file.json: "
        "[Errno 2] No such file or directory: '/no/such/file.json'"
    )


def test_missing_binary_file_names_the_original_value_and_the_expanded_path(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert load_error("fileb://~/missing.jpg") == (
        f"Unable to load paramfile fileb://~/missing.jpg: "
        f"[Errno 2] No such file or directory: '{tmp_path}/missing.jpg'"
    )


def test_unset_variable_stays_literal():
    os.environ.pop("REKCLI_SURELY_UNSET", None)
    assert load_error("file://$REKCLI_SURELY_UNSET/x") == (
        "Unable to load paramfile file://$REKCLI_SURELY_UNSET/x: "
        "[Errno 2] No such file or directory: '$REKCLI_SURELY_UNSET/x'"
    )


def test_empty_path_is_a_missing_file():
    assert load_error("file://") == (
        "Unable to load paramfile file://: [Errno 2] No such file or directory: ''"
    )


@pytest.mark.parametrize("prefix", ["file://", "fileb://"])
def test_directory_gives_a_clean_error(tmp_path, prefix):
    assert load_error(f"{prefix}{tmp_path}") == (
        f"Unable to load paramfile {prefix}{tmp_path}: [Errno 21] Is a directory: '{tmp_path}'"
    )


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root reads files whatever their mode")
@pytest.mark.parametrize("prefix", ["file://", "fileb://"])
def test_unreadable_file_gives_a_clean_error(tmp_path, prefix):
    path = tmp_path / "secret.json"
    path.write_text("{}")
    path.chmod(0)
    try:
        assert load_error(f"{prefix}{path}") == (
            f"Unable to load paramfile {prefix}{path}: [Errno 13] Permission denied: '{path}'"
        )
    finally:
        path.chmod(0o600)


@pytest.mark.parametrize("prefix", ["file://", "fileb://"])
def test_permission_error_message_even_when_running_as_root(tmp_path, monkeypatch, prefix):
    # Root ignores file modes, so the test above may skip; simulate the refusal instead.
    def refuse(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr("rekcli.cli.paramfile.open", refuse, raising=False)
    assert load_error(f"{prefix}{tmp_path}/x") == (
        f"Unable to load paramfile {prefix}{tmp_path}/x: "
        f"[Errno 13] Permission denied: '{tmp_path}/x'"
    )


def test_path_with_nul_byte_gives_a_clean_error():
    assert load_error("file://a\x00b") == (
        "Unable to load paramfile file://a\x00b: embedded null byte"
    )


def test_undecodable_text_names_the_expanded_path_and_suggests_fileb(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "face.jpg").write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF")
    expected = UNDECODABLE.format(f"{tmp_path}/face.jpg")
    assert load_error("file://~/face.jpg") == expected
    assert "decoded.  If" in expected  # two spaces, as in aws
    assert resolve_param_file("fileb://~/face.jpg") == b"\xff\xd8\xff\xe0\x00\x10JFIF"


def test_param_file_error_is_not_a_builtin_value_or_os_error(tmp_path):
    # The CLI maps stray ValueErrors to exit 255; a file error must stay distinguishable.
    with pytest.raises(ParamFileError) as caught:
        resolve_param_file(f"file://{tmp_path}/missing")
    assert not isinstance(caught.value, (ValueError, OSError))
    assert caught.value.message == str(caught.value)
