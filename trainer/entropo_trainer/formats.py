"""Reads exported JSON lines, checks their format version and validates them against the JSON Schemas."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

import jsonschema
from referencing import Registry, Resource

#: Major version of each format this trainer reads; any minor version of that major is accepted.
KNOWN_MAJORS = {"entropo-dpo": 1, "entropo-kto": 1, "trl-dpo": 1, "trl-kto": 1}

_FORMAT_RE = re.compile(r"^(?P<name>[a-z]+-[a-z]+)-(?P<major>\d+)\.(?P<minor>\d+)$")


class DataError(ValueError):
    """A line of the training data cannot be used; the message names the file, the line and the fix."""


@dataclass(frozen=True)
class FormatVersion:
    """A parsed `format` tag such as `entropo-dpo-1.0`."""

    name: str
    major: int
    minor: int


def parse_format(tag: Any) -> FormatVersion:
    """Parses a `format` tag and refuses names and major versions this trainer does not know."""
    if not isinstance(tag, str):
        raise DataError(f"missing or non-string `format` tag (got {tag!r}); expected e.g. 'entropo-dpo-1.0'")
    match = _FORMAT_RE.match(tag)
    if not match or match["name"] not in KNOWN_MAJORS:
        known = ", ".join(f"{n}-{m}.x" for n, m in KNOWN_MAJORS.items())
        raise DataError(f"unknown format {tag!r}; this trainer reads {known}")
    version = FormatVersion(match["name"], int(match["major"]), int(match["minor"]))
    supported = KNOWN_MAJORS[version.name]
    if version.major != supported:
        newer = "newer" if version.major > supported else "older"
        raise DataError(
            f"format {tag!r} has major version {version.major}, {newer} than the {version.name}-{supported}.x "
            f"this trainer reads; export the data again with a matching version or update the trainer"
        )
    return version


def schemas_dir() -> Path:
    """Finds the JSON Schemas: $ENTROPO_SCHEMAS_DIR, then a copy inside the package, then the repository root."""
    candidates = []
    if os.environ.get("ENTROPO_SCHEMAS_DIR"):
        candidates.append(Path(os.environ["ENTROPO_SCHEMAS_DIR"]))
    here = Path(__file__).resolve().parent
    candidates += [here / "schemas", here.parent.parent / "schemas"]
    for path in candidates:
        if (path / "common-1.schema.json").is_file():
            return path
    raise DataError(f"JSON Schemas not found (looked in {', '.join(map(str, candidates))}); "
                    f"set ENTROPO_SCHEMAS_DIR to the repository's schemas/ folder")


@lru_cache(maxsize=None)
def _validators(directory: str) -> dict[str, jsonschema.protocols.Validator]:
    resources = []
    for path in sorted(Path(directory).glob("*.schema.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        resources.append((contents["$id"], Resource.from_contents(contents)))
    registry = Registry().with_resources(resources)
    out = {}
    for name, major in KNOWN_MAJORS.items():
        schema = registry.contents(f"urn:entropo:schema:{name}-{major}")
        cls = jsonschema.validators.validator_for(schema)
        out[name] = cls(schema, registry=registry)
    return out


def validate_line(obj: Any) -> FormatVersion:
    """Checks one parsed line: version first (for a clear message), then the schema, then cross-field rules."""
    if not isinstance(obj, dict):
        raise DataError(f"a line must be a JSON object, got {type(obj).__name__}")
    version = parse_format(obj.get("format"))
    validator = _validators(str(schemas_dir()))[version.name]
    error = jsonschema.exceptions.best_match(validator.iter_errors(obj))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        detail = error.message if len(error.message) <= 300 else error.message[:300] + "..."
        raise DataError(f"{version.name} schema violation at {where}: {detail}")
    for key in ("chosen", "rejected", "completion"):
        if key in obj:
            _check_tool_ids(obj[key], key)
    return version


def _check_tool_ids(messages: list[dict], field: str) -> None:
    """A tool message must answer a call made by an earlier assistant message: the schema cannot say this."""
    open_ids: set[str] = set()
    for i, message in enumerate(messages):
        for call in message.get("tool_calls", []):
            open_ids.add(call["id"])
        if message["role"] == "tool" and message["tool_call_id"] not in open_ids:
            raise DataError(f"{field}[{i}] answers tool call {message['tool_call_id']!r}, "
                            f"which no earlier assistant message made")


def read_jsonl(path: str | os.PathLike) -> Iterator[tuple[int, dict]]:
    """Yields (line number, validated object) for every non-empty line; a torn last line is skipped."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.readlines()
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text (byte {exc.start}); give a JSONL file that `export` wrote") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            if number == len(lines) > 1 and not raw.endswith("\n"):
                continue  # the writer crashed mid-line; the store format promises this is the only damage
            raise DataError(f"{path}:{number}: not valid JSON ({exc.msg})") from None
        try:
            validate_line(obj)
        except DataError as exc:
            raise DataError(f"{path}:{number}: {exc}") from None
        yield number, obj


def load_dataset(path: str | os.PathLike) -> tuple[str, list[dict]]:
    """Reads a whole file whose lines all share one format name; returns (format name, objects)."""
    objects, names = [], set()
    for _, obj in read_jsonl(path):
        names.add(parse_format(obj["format"]).name)
        objects.append(obj)
    if not objects:
        raise DataError(f"{path}: no training lines")
    if len(names) > 1:
        raise DataError(f"{path}: mixes formats {sorted(names)}; export one format per file")
    return names.pop(), objects
