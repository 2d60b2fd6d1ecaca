"""Input formats: KTAB and Decide files are told apart from parley YAML by content and suffix,
so every command reads them without `--format`."""

from __future__ import annotations

from typer.testing import CliRunner

from parley.cli import app

runner = CliRunner()


def test_format_is_detected_from_content_and_suffix(tmp_path) -> None:
    from pathlib import Path

    from parley.io.loading import detect_format

    data = Path(__file__).parent / "data"
    assert detect_format(data / "ktab" / "SOE-Policy.csv") == "ktab"
    assert detect_format(data / "ktab" / "dummyData_3Dim.xml") == "ktab"
    assert detect_format(data / "decide" / "decide_small.csv") == "decide"
    assert detect_format(data / "decide" / "decide_small_tab.txt") == "decide"  # by its rows
    assert detect_format("ukraine-2025-05") == "yaml"  # a bundled name
    yaml_file = tmp_path / "s.yaml"
    yaml_file.write_text("id: x\n")
    assert detect_format(yaml_file) == "yaml"


def test_every_command_reads_ktab_and_decide_files_without_format() -> None:
    from pathlib import Path

    data = Path(__file__).parent / "data"
    ktab, decide = str(data / "ktab" / "SOE-Policy.csv"), str(data / "decide" / "decide_small.csv")
    for args in (["validate", ktab], ["validate", decide], ["run", ktab, "-n", "50", "-m", "median"],
                 ["run", decide, "-n", "50", "-m", "compromise"], ["sensitivity", decide, "-n", "4"]):
        out = runner.invoke(app, args)
        if args[0] == "sensitivity":  # Decide files carry no uncertainty: a clear refusal
            assert out.exit_code == 2 and "uncertain" in out.output, out.output
        else:
            assert out.exit_code == 0, (args, out.output)
