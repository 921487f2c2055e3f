"""Format versions and JSON Schema validation of every fixture, valid and invalid."""

import json

import jsonschema
import pytest
from conftest import FIXTURES, fixture_lines, write_jsonl

from entropo_trainer.formats import DataError, load_dataset, parse_format, read_jsonl, schemas_dir, validate_line


def test_schemas_are_valid_draft_2020_12():
    files = sorted(schemas_dir().glob("*.schema.json"))
    assert [f.name for f in files] == ["common-1.schema.json", "entropo-dpo-1.schema.json",
                                       "entropo-kto-1.schema.json", "trl-dpo-1.schema.json", "trl-kto-1.schema.json"]
    for path in files:
        schema = json.loads(path.read_text())
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        jsonschema.Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("name,count,fmt", [
    ("entropo-dpo.jsonl", 2, "entropo-dpo"), ("entropo-kto.jsonl", 4, "entropo-kto"),
    ("trl-dpo.jsonl", 1, "trl-dpo"), ("trl-kto.jsonl", 2, "trl-kto")])
def test_every_fixture_validates(name, count, fmt):
    format_name, objects = load_dataset(FIXTURES / name)
    assert format_name == fmt
    assert len(objects) == count
    formats = {o.get("action_format", "tools") for o in objects}
    assert formats == ({"text", "tools"} if fmt.startswith("entropo") else {"tools"})


def test_fixtures_are_real_multi_turn_trajectories():
    text, tools = fixture_lines("entropo-dpo.jsonl")
    assert [m["role"] for m in text["prompt"]] == ["system", "user"]
    assert sum(m["role"] == "assistant" for m in text["chosen"]) == 7
    assert all("<function=" in m["content"] for m in text["chosen"] if m["role"] == "assistant")
    assert {m["role"] for m in tools["chosen"]} == {"assistant", "tool"}
    assert len(tools["tools"]) == 4
    calls = [c for m in tools["chosen"] for c in m.get("tool_calls", [])]
    assert [c["function"]["name"] for c in calls][-1] == "finish"
    assert all(isinstance(json.loads(c["function"]["arguments"]), dict) for c in calls)


def test_higher_minor_with_unknown_fields_is_accepted():
    lines = list(read_jsonl(FIXTURES / "forward-compatible.jsonl"))
    assert [obj["format"] for _, obj in lines] == ["entropo-dpo-1.7", "entropo-kto-1.2"]
    assert parse_format("entropo-dpo-1.7").minor == 7


def test_unknown_major_is_refused_with_a_clear_message():
    with pytest.raises(DataError, match=r"major version 2, newer than the entropo-dpo-1\.x this trainer reads"):
        parse_format("entropo-dpo-2.0")
    with pytest.raises(DataError, match=r"major version 0, older"):
        parse_format("trl-kto-0.9")
    with pytest.raises(DataError, match="unknown format 'sharegpt-1.0'"):
        parse_format("sharegpt-1.0")
    with pytest.raises(DataError, match="missing or non-string `format`"):
        validate_line({"prompt": []})


def test_every_invalid_fixture_is_refused():
    lines = fixture_lines("invalid/entropo-dpo.jsonl")
    assert len(lines) == 6
    expected = {
        "unknown major version 2": "major version 2",
        "camelCase toolCalls instead of tool_calls": "chosen/0",
        "a tool message in the text action format": "chosen/1",
        "a continuation without any assistant message": "does not contain",
        "required field rejected is missing": "'rejected' is a required property",
        "an assistant message inside the prompt": "prompt/2/role",
    }
    for line in lines:
        why = line["meta"]["invalid_because"]
        with pytest.raises(DataError, match=expected[why]):
            validate_line(line)


def test_tool_message_must_answer_an_earlier_call():
    line = fixture_lines("entropo-dpo.jsonl")[1]
    line["chosen"][1]["tool_call_id"] = "call_nobody_made"
    with pytest.raises(DataError, match="chosen\\[1\\] answers tool call 'call_nobody_made'"):
        validate_line(line)


def test_torn_last_line_is_skipped_but_a_torn_middle_line_is_not(tmp_path):
    good = (FIXTURES / "entropo-kto.jsonl").read_text().splitlines()
    torn = tmp_path / "torn.jsonl"
    torn.write_text("\n".join(good) + "\n" + good[0][:100])
    assert [n for n, _ in read_jsonl(torn)] == [1, 2, 3, 4]
    broken = tmp_path / "broken.jsonl"
    broken.write_text(good[0][:100] + "\n" + good[1] + "\n")
    with pytest.raises(DataError, match="broken.jsonl:1: not valid JSON"):
        list(read_jsonl(broken))
    # A file of one line is no store segment cut short: most likely not an export at all
    single = tmp_path / "single.jsonl"
    single.write_text(good[0][:100])
    with pytest.raises(DataError, match="single.jsonl:1: not valid JSON"):
        list(read_jsonl(single))


def test_mixed_formats_and_empty_files_are_refused(tmp_path):
    mixed = write_jsonl(tmp_path / "mixed.jsonl", fixture_lines("entropo-dpo.jsonl") + fixture_lines("trl-dpo.jsonl"))
    with pytest.raises(DataError, match="mixes formats"):
        load_dataset(mixed)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    with pytest.raises(DataError, match="no training lines"):
        load_dataset(empty)
