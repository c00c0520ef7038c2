"""`rekcli rekognition <command>` works as `rekcli <command>` (aws-shaped wrappers), and
commands main runs are all named in the invalid-choice list."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

from tests.cli_helpers import run_cli


def test_rekognition_word_before_a_command_is_the_command(capsys):
    direct = run_cli(capsys, "list-collections")
    aliased = run_cli(capsys, "rekognition", "list-collections")
    assert aliased == direct
    assert direct[0] == 0


def test_rekognition_word_after_global_options(capsys):
    code, out, _ = run_cli(capsys, "--output", "text", "rekognition", "--region", "eu-west-1",
                           "create-collection", "--collection-id", "c1")
    assert code == 0
    assert "eu-west-1" in out
    code, out, _ = run_cli(capsys, "--region", "eu-west-1", "list-collections",
                           "--output", "text")
    assert out.startswith("COLLECTIONIDS\tc1\n")


def test_rekognition_help_pages(capsys):
    assert run_cli(capsys, "rekognition", "help") == run_cli(capsys, "help")
    assert run_cli(capsys, "rekognition", "help", "compare-faces") == run_cli(
        capsys, "help", "compare-faces")
    assert run_cli(capsys, "rekognition", "compare-faces", "help") == run_cli(
        capsys, "compare-faces", "help")
    assert run_cli(capsys, "help", "rekognition") == run_cli(capsys, "help")


def test_rekognition_alone_asks_for_a_command(capsys):
    code, out, err = run_cli(capsys, "rekognition")
    assert code == 252
    assert "required: command" in err


def test_invalid_command_lists_serve(capsys):
    code, _, err = run_cli(capsys, "serv")
    assert code == 252
    assert "Found invalid choice 'serv'" in err
    assert "* serve" in err


def test_help_serve_prints_its_options(capsys):
    code, out, _ = run_cli(capsys, "help", "serve")
    assert code == 0 and "--port" in out
    assert run_cli(capsys, "rekognition", "help", "serve") == (code, out, "")


# ---- a HOME that does not exist (service accounts: /nonexistent) --------------------------

def home_missing_env(tmp_path) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("REKCLI_DATA_DIR", "REKCLI_CACHE_DIR", "XDG_DATA_HOME", "XDG_CACHE_HOME")}
    env.update(HOME=str(tmp_path / "nonexistent"), TMPDIR=str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    return env


def rekcli_process(env, *args):
    return subprocess.run([sys.executable, "-m", "rekcli", *args], capture_output=True,
                          env=env, timeout=300)


def test_missing_home_is_not_created_for_the_data_dir(tmp_path):
    env = home_missing_env(tmp_path)
    result = rekcli_process(env, "create-collection", "--collection-id", "c")
    assert result.returncode == 254
    assert not (tmp_path / "nonexistent").exists()
    assert (b"The home directory does not exist and rekcli does not create it; set "
            b"REKCLI_DATA_DIR to a folder") in result.stderr
    assert str(tmp_path / "nonexistent").encode() in result.stderr
    listed = rekcli_process(env, "list-collections", "--output", "text")
    assert (listed.returncode, listed.stdout) == (0, b"")
    assert not (tmp_path / "nonexistent").exists()


def test_missing_home_puts_the_model_cache_in_the_temp_folder(tmp_path, faces_dir):
    env = home_missing_env(tmp_path)
    photo = sorted((faces_dir / "people" / "alex_lacamoire").iterdir())[0]
    result = rekcli_process(env, "detect-faces", "--image-bytes", f"fileb://{photo}",
                            "--query", "length(FaceDetails)")
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "nonexistent").exists()
    cache = tmp_path / "tmp" / f"rekcli-{os.geteuid()}-cache"
    assert cache.is_dir() and stat.S_IMODE(cache.stat().st_mode) == 0o700
    assert any(cache.iterdir())


def test_missing_home_is_not_created_for_a_batch_journal(tmp_path):
    env = home_missing_env(tmp_path)
    requests = tmp_path / "requests.jsonl"
    requests.write_text('{"CollectionId": "nosuch"}\n')
    result = rekcli_process(env, "batch", "describe-collection", "--input-file", str(requests))
    # The journal cannot be written: one warning, and the job goes on (a failed journal never
    # stops a batch); 254 is the request's own ResourceNotFoundException.
    assert result.returncode == 254
    assert b"The home directory does not exist and rekcli does not create it" in result.stderr
    assert b"the job goes on" in result.stderr
    assert not (tmp_path / "nonexistent").exists()
