"""The help pages' example outputs are recorded from real runs (tools/example_runs.py via
tools/generate_docs.py) and checked against a fresh run, so they cannot drift."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from rekcli.cli import example_outputs, examples, help  # noqa: E402
from tools import example_runs  # noqa: E402


def test_every_example_that_runs_is_in_the_scenario_once():
    example_runs._check_scenario(examples.all_examples())


def test_every_example_that_runs_has_a_recorded_output():
    for key, example in examples.all_examples().items():
        if example.run:
            assert key in example_outputs.OUTPUTS, f"run python tools/generate_docs.py: {key}"
            assert example.output == example_outputs.OUTPUTS[key]
        else:
            assert example.output is None


def test_help_prints_the_recorded_output_rounded():
    recorded = example_outputs.OUTPUTS["api:CompareFaces/0"]
    similarity = recorded["FaceMatches"][0]["Similarity"]
    page = help.command_help_text("CompareFaces")
    assert f'"Similarity": {round(similarity, 4)}' in page
    assert example_outputs.OUTPUTS["api:CompareFaces/1"].strip() in page   # text: as printed


def test_the_module_text_reads_back():
    outputs = {"api:X/0": {"A": [1.5, None, True]}, "batch:y/0": '["a", 1]\n', "tour:/1": None}
    namespace: dict = {}
    exec(example_runs.module_text(outputs), namespace)
    assert namespace["OUTPUTS"] == outputs


def test_drift_ignores_the_last_digits_only():
    same = example_runs.drifted({"k": {"S": 97.90460968017578}, "t": "x 96.4714965\n"},
                                {"k": {"S": 97.9046}, "t": "x 96.47149\n"})
    assert same == []
    assert example_runs.drifted({"k": {"S": 97.9}}, {"k": {"S": 96.1}}) == ["k"]
    assert example_runs.drifted({"k": "obama.jpg\n"}, {"k": "biden.jpg\n"}) == ["k"]
    assert example_runs.drifted({"k": {"A": 1}}, {"k": {"A": 1}, "new": None}) == ["new"]
    assert example_runs.drifted({"k": {"A": 1, "B": 2}}, {"k": {"B": 2, "A": 1}}) == ["k"]


def test_ids_and_timestamps_are_normalised():
    table = {"api:X/0": examples.Example("t", "", "rekcli x --face-id "
                                         "11111111-1111-4111-8111-111111111111")}
    raw = {"api:X/0": '{\n    "A": "11111111-1111-4111-8111-111111111111",\n'
                      '    "B": "0a3c9e4e-5f0e-4c47-9d6b-2b1f7f0e8a11",\n'
                      '    "C": "2026-12-04T05:16:02.123456+00:00"\n}\n'}
    named = {"11111111-1111-4111-8111-111111111111"}
    first = example_runs._normalised(raw, table, named)["api:X/0"]
    again = example_runs._normalised(
        {"api:X/0": raw["api:X/0"].replace("0a3c9e4e", "77777777")}, table, named)["api:X/0"]
    assert first == again
    assert first["A"] == "11111111-1111-4111-8111-111111111111"   # named in a command: kept
    assert first["C"] == example_runs.FIXED_TIMESTAMP


@pytest.mark.e2e
def test_recorded_outputs_match_a_fresh_run(faces_dir, monkeypatch):
    monkeypatch.setenv("REKCLI_FACES_DIR", str(faces_dir))
    fresh = example_runs.run_all()
    assert example_runs.drifted(example_outputs.OUTPUTS, fresh) == [], (
        "example outputs drifted: run python tools/generate_docs.py")
