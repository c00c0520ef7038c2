"""Man pages: man/ is what tools/generate_docs.py writes, and groff renders it cleanly."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from conftest import REPO_ROOT
from rekcli.cli import help
from rekcli.cli.batch_commands import BATCH_COMMANDS
from rekcli.service import model

sys.path.insert(0, str(REPO_ROOT / "tools"))
import generate_docs  # noqa: E402

MAN_DIR = REPO_ROOT / "man"
BATCH_PAGES = [f"rekcli-{command}.1" for command in sorted(BATCH_COMMANDS)]
PAGES = ["rekcli.1"] + sorted([f"rekcli-{command}.1" for command in model.COMMANDS] + BATCH_PAGES
                              + ["rekcli-check-store.1", "rekcli-serve.1",
                                 "rekcli-search-index.1"])
GROFF = shutil.which("groff")


def test_man_folder_holds_exactly_the_generated_pages():
    assert sorted(p.name for p in MAN_DIR.iterdir()) == sorted(PAGES)


@pytest.mark.parametrize("page", PAGES)
def test_checked_in_page_is_what_the_generator_writes(page):
    relative = f"man/{page}"
    generated = generate_docs.generated_files()[relative]
    current = (MAN_DIR / page).read_text(encoding="utf-8")
    assert current == generated, (
        f"{relative} is stale: run python tools/generate_docs.py\n"
        + generate_docs.diff(relative, current, generated)[:3000])


@pytest.mark.parametrize("page", PAGES)
def test_page_is_plain_ascii_roff_with_the_sections(page):
    text = (MAN_DIR / page).read_text(encoding="utf-8")
    assert text.isascii()
    assert text.startswith(f'.TH "{page[:-2].upper()}" "1" ')
    name_line = text.split(".SH NAME\n", 1)[1].split("\n", 1)[0]
    assert name_line.startswith(page[:-2].replace("-", "\\-") + " \\- ")
    titles = [line for line in text.splitlines() if line.startswith(".SH")]
    if page == "rekcli.1":
        assert '.SH "AVAILABLE COMMANDS"' in titles and '.SH "EXIT STATUS"' in titles
    else:
        assert titles == [".SH NAME"] + [f'.SH "{t}"' for t in (
            "DESCRIPTION", "SYNOPSIS", "OPTIONS", "GLOBAL OPTIONS", "EXAMPLES", "OUTPUT",
            "SEE ALSO")]
    for line in text.splitlines():   # text lines never start like a request
        assert not line.startswith("'")
        assert not line.startswith(".") or line.split()[0] in (
            ".TH", ".SH", ".PP", ".RS", ".RE", ".nf", ".fi", ".IP", ".nh", ".ad")


@pytest.mark.skipif(GROFF is None, reason="groff is not installed (apt-get install groff-base)")
@pytest.mark.parametrize("page", PAGES)
def test_groff_renders_the_page_without_warnings(page):
    result = subprocess.run([GROFF, "-man", "-Tutf8", "-ww", "-z", str(MAN_DIR / page)],
                            capture_output=True, text=True, timeout=300)
    assert (result.returncode, result.stderr) == (0, "")


@pytest.mark.skipif(GROFF is None, reason="groff is not installed (apt-get install groff-base)")
def test_rendered_page_reads_like_the_help_text():
    result = subprocess.run([GROFF, "-man", "-Tutf8", "-rLL=80n", "-P-c", "-P-b", "-P-u",
                             str(MAN_DIR / "rekcli-compare-faces.1")],
                            capture_output=True, text=True, timeout=300)
    text = result.stdout
    assert "rekcli-compare-faces - Compare the largest face" in text
    # options keep ASCII hyphens (copy-pasteable), nothing is hyphenated
    assert "--source-image-bytes" in text
    assert "Bytes=blob,S3Object={Bucket=string,Name=string,Version=string}" in text
    assert "\u2010" not in text and "\u2212" not in text


def test_batch_commands_have_pages_and_the_main_page_names_them():
    assert BATCH_PAGES == ["rekcli-batch.1", "rekcli-compare-folder.1", "rekcli-index-folder.1",
                           "rekcli-search-folder.1"]
    main = (MAN_DIR / "rekcli.1").read_text(encoding="utf-8")
    for command in BATCH_COMMANDS:
        roff_name = command.replace("-", "\\-")
        assert f"\\fB{roff_name}\\fR" in main   # in AVAILABLE COMMANDS
        assert f"rekcli\\-{roff_name}(1)" in main   # in SEE ALSO


@pytest.mark.skipif(GROFF is None, reason="groff is not installed (apt-get install groff-base)")
def test_rendered_batch_page_reads_like_its_help_text():
    result = subprocess.run([GROFF, "-man", "-Tutf8", "-rLL=80n", "-P-c", "-P-b", "-P-u",
                             str(MAN_DIR / "rekcli-index-folder.1")],
                            capture_output=True, text=True, timeout=300)
    text = result.stdout
    assert "rekcli-index-folder - Index every image of folders" in text
    for fragment in ("--collection-id (string) [required]", "--images (list) [required]",
                     "--workers (integer)", "--no-progress (boolean)", "Default: AUTO",
                     "rekcli index-folder --collection-id family --images people",
                     '"Skipped": "ALREADY_INDEXED"', "ExternalImageId -> (string)"):
        assert fragment in text, fragment
    assert "\u2010" not in text and "\u2212" not in text


def test_roff_escapes_backslashes_hyphens_and_leading_dots():
    page = help.Page("x", "rekcli-x", "summary", [help.Section("S", [
        help.Para(r"pattern [a-z\-]+"), help.Code(".hidden\n'quoted"),
        help.Entry("--opt", "(string)", [help.Bullets(["- a"])])])])
    roff = help.render_roff(page)
    assert r"pattern [a\-z\e\-]+" in roff
    assert "\n\\&.hidden\n\\&'quoted\n" in roff
    assert "\\fB\\-\\-opt\\fR (string)" in roff


def test_check_mode_reports_stale_and_leftover_files(tmp_path, capsys):
    written = generate_docs.write(tmp_path)
    assert sorted(written) == sorted(generate_docs.generated_files())
    assert generate_docs.stale_files(tmp_path) == {}
    page = tmp_path / "man" / "rekcli-compare-faces.1"
    page.write_text(page.read_text().replace("Compare the largest", "Compare the smallest"))
    (tmp_path / "man" / "rekcli-detect-labels.1").write_text(".TH X 1\n")
    stale = generate_docs.stale_files(tmp_path)
    assert sorted(stale) == ["man/rekcli-compare-faces.1", "man/rekcli-detect-labels.1"]
    diff = generate_docs.diff("man/rekcli-compare-faces.1", *stale["man/rekcli-compare-faces.1"])
    assert "-rekcli\\-compare\\-faces \\- Compare the smallest" in diff
    assert "+rekcli\\-compare\\-faces \\- Compare the largest" in diff
    assert sorted(generate_docs.write(tmp_path)) == sorted(stale)
    assert not (tmp_path / "man" / "rekcli-detect-labels.1").exists()
    assert generate_docs.stale_files(tmp_path) == {}


def test_check_mode_passes_on_the_repository():
    result = subprocess.run([sys.executable, str(REPO_ROOT / "tools" / "generate_docs.py"),
                             "--check"], capture_output=True, text=True, timeout=900)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
