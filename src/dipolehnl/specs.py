"""Validated input files: what the experiment, detector and analysis models share.

Each input format is one pydantic model (:class:`~dipolehnl.experiment.ExperimentSpec`,
:class:`~dipolehnl.detector.toml_format.DetectorFileSpec`,
:class:`~dipolehnl.analysis.analyses.AnalysisSpec`) built from the pieces here:

* :class:`Spec`, the base: unknown keys are errors, validated values are immutable;
* TOML value types: :data:`Number` (a TOML integer or float, finite; booleans and strings
  are not numbers), :data:`Integer`, :data:`Name` (a non-empty string), :data:`Vec3`;
* the solids of fiducial and detector volumes (:data:`ShapeSpec`: box, sphere, cylinder,
  told apart by their ``shape`` key, a box if it is absent);
* :func:`validate`: a parsed TOML document → the model, or one :class:`InputError` line
  ``FILE: key.path: message`` (lists as ``dataset[0]``) for the first problem.

The JSON schemas of the three formats are generated from the models into docs/experiments.md,
docs/detector.md and docs/analysis.md (``python -m dipolehnl.specs --write-docs DOCS_DIR``
regenerates them, ``python -m dipolehnl.specs`` prints them; a test checks they are in sync).
"""

from __future__ import annotations

import json
import re
import sys
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Strict,
    Tag,
    ValidationError,
)
from pydantic.json_schema import GenerateJsonSchema
from pydantic_core import PydanticCustomError

from dipolehnl.errors import InputError

M = TypeVar("M", bound=BaseModel)


class Spec(BaseModel):
    """Base of every input-file model: unknown keys are errors; instances are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------------------------------
# TOML value types
# ---------------------------------------------------------------------------------------
def _non_blank(v: str) -> str:
    if not v.strip():
        raise PydanticCustomError("blank", "must be a non-empty string")
    return v


#: A finite number: a TOML float or integer (not a boolean or a string).
Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]
#: A TOML integer (not a boolean or a float).
Integer = Annotated[int, Strict()]
#: A non-empty string (not only blanks).
Name = Annotated[str, Field(min_length=1), AfterValidator(_non_blank)]


def _three(v: Any) -> Any:
    if not isinstance(v, (list, tuple)) or len(v) != 3:
        raise PydanticCustomError("vec3", "expected 3 numbers [x, y, z], got {got}", {"got": _show(v)})
    return v


#: A point or extent: 3 finite numbers (m).
Vec3 = Annotated[list[Number], Field(min_length=3, max_length=3), BeforeValidator(_three)]
#: 3 finite numbers > 0 (m).
PositiveVec3 = Annotated[
    list[Annotated[Number, Field(gt=0)]], Field(min_length=3, max_length=3), BeforeValidator(_three)
]


def tagged_union(key: str, members: dict[str, type[BaseModel]], default: str | None = None) -> Any:
    """A union of models told apart by the string value of ``key`` (``default`` when it is
    absent); the loaded member is the model of that value."""

    def tag(v: Any) -> str | None:
        if isinstance(v, dict):
            t = v.get(key, default)
            return t if t is None or isinstance(t, str) else repr(t)  # not a tag: an error
        return getattr(v, key, None)

    tag.__name__ = key  # named in pydantic's error context, read back by _message
    return Annotated[
        Union[tuple(Annotated[m, Tag(t)] for t, m in members.items())],  # noqa: UP007
        Discriminator(tag),
    ]


# ---------------------------------------------------------------------------------------
# Solids (lengths in m) of fiducial volumes and detector volumes
# ---------------------------------------------------------------------------------------
class BoxSpec(Spec):
    """An axis-aligned box (the default shape)."""

    shape: Literal["box"] = "box"
    center_m: Vec3 = Field(description="centre, m")
    size_m: PositiveVec3 = Field(description="full edge lengths along x, y, z, m")


class SphereSpec(Spec):
    """A sphere."""

    shape: Literal["sphere"]
    center_m: Vec3 = Field(description="centre, m")
    radius_m: Number = Field(gt=0, description="radius, m")


class CylinderSpec(Spec):
    """A cylinder along a coordinate axis."""

    shape: Literal["cylinder"]
    center_m: Vec3 = Field(description="centre, m")
    radius_m: Number = Field(gt=0, description="radius, m")
    length_m: Number = Field(gt=0, description="full length along the axis, m")
    axis: Literal["x", "y", "z"] = Field("z", description="the axis")


SHAPE_SPECS: dict[str, type[Spec]] = {"box": BoxSpec, "sphere": SphereSpec, "cylinder": CylinderSpec}
#: A solid: ``shape = "box"`` (default), ``"sphere"`` or ``"cylinder"`` with its keys.
if TYPE_CHECKING:
    ShapeSpec = BoxSpec | SphereSpec | CylinderSpec
else:
    ShapeSpec = tagged_union("shape", SHAPE_SPECS, default="box")


def shape_keys(spec: BaseModel) -> dict[str, Any]:
    """The shape keys of a validated solid (or volume) as a dict for
    :func:`dipolehnl.detector.shapes.shape_from_dict`."""
    keys = set(SHAPE_SPECS[spec.shape].model_fields)  # type: ignore[attr-defined]
    return spec.model_dump(include=keys)


# ---------------------------------------------------------------------------------------
# Validation with one-line errors
# ---------------------------------------------------------------------------------------
def validate(model: type[M], doc: Any, source: str) -> M:
    """``doc`` (a parsed TOML document) validated as ``model``; on failure an
    :class:`InputError` ``"SOURCE: key.path: message"`` for the first problem."""
    try:
        return model.model_validate(doc)
    except ValidationError as exc:
        raise validation_error(exc, model, doc, source) from None


def fail(source: str, key: str, message: str) -> InputError:
    """The one-line error for a check made after validation (same format as :func:`validate`)."""
    return InputError(f"{source}: {key or '(top level)'}: {message}")


def validation_error(exc: ValidationError, model: type[BaseModel], doc: Any, source: str) -> InputError:
    """The first error of ``exc`` (raised validating ``doc`` as ``model``) as one line
    (an unknown key first, as it is often the cause of the other errors)."""
    errors = exc.errors(include_url=False)
    # a misspelt key is reported as unknown rather than the key it stands for as missing
    err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    key, allowed, where = _walk(model, tuple(err["loc"]), doc)
    etype = err["type"]
    if etype in ("union_tag_invalid", "union_tag_not_found") and isinstance(err["input"], dict):
        key = _join(key, str(err.get("ctx", {}).get("discriminator", "")).removesuffix("()"))
    return fail(source, key, _message(err, key, allowed) + where)


_PLAIN_KEY = re.compile(r"[A-Za-z0-9_+\-]+")


def _join(key: str, part: str) -> str:
    """``key.part`` (``key[i]`` for list indices); a user-written key that is not plain
    (spaces, dots, control characters such as a newline) is shown quoted, so that the
    message stays one line."""
    if not part:
        return key
    if part.startswith("[") and part.endswith("]") and part[1:-1].isdigit():
        return key + part
    if not _PLAIN_KEY.fullmatch(part):
        part = repr(part)
    return f"{key}.{part}" if key else part


def _strip(ann: Any) -> Any:
    """``ann`` without Annotated and None (Optional)."""
    while True:
        if typing.get_origin(ann) is Annotated:
            ann = typing.get_args(ann)[0]
            continue
        args = typing.get_args(ann)
        if typing.get_origin(ann) in (Union, types.UnionType) and type(None) in args:
            rest = [a for a in args if a is not type(None)]
            if len(rest) == 1:
                ann = rest[0]
                continue
        return ann


def _tags(ann: Any) -> dict[str, Any] | None:
    """Tag → member of a :func:`tagged_union` annotation (None for other annotations)."""
    if typing.get_origin(ann) is not Annotated:
        return None
    inner, *meta = typing.get_args(ann)
    if not any(isinstance(m, Discriminator) for m in meta):
        return None
    out = {}
    for member in typing.get_args(inner):
        m_inner, *m_meta = typing.get_args(member)
        for t in m_meta:
            if isinstance(t, Tag):
                out[t.tag] = m_inner
    return out


def _walk(model: type[BaseModel], loc: tuple, doc: Any) -> tuple[str, list[str] | None, str]:
    """The key path of ``loc`` as written in the file (``a.b[0].c``; union tags dropped),
    the keys allowed in the table holding its last part, and " (name 'x')" naming the
    innermost list item that has a ``name``."""
    ann: Any = model
    key, allowed, where = "", None, ""
    node = doc
    for part in loc:
        if part == "[key]":  # the key itself of a map is invalid: already in the path
            continue
        while True:  # unwrap Optional / Annotated, and union tags consumed below
            tags = _tags(ann)
            if tags is not None:
                if isinstance(part, str) and part in tags:
                    ann = tags[part]
                    part = None
                else:
                    ann = None
                break
            stripped = _strip(ann)
            if stripped is ann:
                break
            ann = stripped
        if part is None:
            continue
        origin = typing.get_origin(ann)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            allowed = list(ann.model_fields)
            field = ann.model_fields.get(part)
            ann = None if field is None else _field_annotation(field)
            key = _join(key, str(part))
        elif origin is dict:
            ann = typing.get_args(ann)[1]
            key = _join(key, str(part))
        elif origin in (list, tuple) and isinstance(part, int):
            args = typing.get_args(ann)
            ann = (
                args[0]
                if origin is list or (len(args) == 2 and args[1] is Ellipsis)
                else (args[part] if part < len(args) else None)
            )
            key = _join(key, f"[{part}]")
        else:
            ann = None
            key = _join(key, f"[{part}]" if isinstance(part, int) else str(part))
        node = _child(node, part)
        if isinstance(part, int) and isinstance(node, dict) and isinstance(node.get("name"), str):
            where = f" (name {node['name']!r})"
    return key, allowed, where


def _field_annotation(field: Any) -> Any:
    """A model field's annotation with its metadata (so that tagged unions are recognised)."""
    if field.metadata:
        params = (field.annotation, *field.metadata)
        return Annotated[params]
    return field.annotation


def _child(node: Any, part: Any) -> Any:
    try:
        return node[part]
    except (KeyError, IndexError, TypeError):
        return None


def _show(value: Any, limit: int = 60) -> str:
    """A value as written in an error message (long ones shortened)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 200:
        return f"a {int(value.bit_length() * 0.30103) + 1}-digit integer"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


_TYPE_NAMES = {
    "float_type": "a number",
    "float_parsing": "a number",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "string_type": "a string",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "tuple_type": "a list",
    "dict_type": "a table",
    "model_type": "a table",
    "model_attributes_type": "a table",
    "union_tag_not_found": "a table",
}


def _message(err: Mapping[str, Any], key: str, allowed: list[str] | None) -> str:
    """pydantic's error → the message after ``key: ``."""
    etype, ctx, value = err["type"], err.get("ctx") or {}, err.get("input")
    last = key.rsplit(".", 1)[-1].split("[", 1)[0] if key else "value"
    if etype == "missing":
        return "missing key"
    if etype == "extra_forbidden":
        return f"unknown key (allowed: {', '.join(allowed)})" if allowed else "unknown key"
    if etype == "float_type" and isinstance(value, int) and not isinstance(value, bool):
        return f"number out of range ({_show(value)})"
    if etype in _TYPE_NAMES:
        return f"expected {_TYPE_NAMES[etype]}, got {_show(value)}"
    if etype == "literal_error":
        what = "key" if err["loc"] and err["loc"][-1] == "[key]" else last
        return f"unknown {what} {_show(value)} (expected {ctx.get('expected')})"
    if etype == "union_tag_invalid" and isinstance(value, dict) and not isinstance(value.get(last), str):
        return f"expected a string, got {_show(value.get(last))}"
    if etype == "union_tag_invalid":
        return f"unknown {last} {ctx.get('tag')!r} (expected {ctx.get('expected_tags')})"
    if etype == "finite_number":
        return f"must be finite, got {_show(value)}"
    bounds = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}
    if etype in bounds:
        bound = next(iter(ctx.values()))
        return f"must be {bounds[etype]} {bound if isinstance(bound, int) else format(bound, 'g')}, got {_show(value)}"
    if etype in ("too_short", "too_long"):
        if etype == "too_short" and ctx.get("min_length") == 1:
            return "must not be empty"
        n = ctx.get("min_length", ctx.get("max_length"))
        return f"expected {'at least' if etype == 'too_short' else 'at most'} {n} items, got {ctx.get('actual_length')}"
    if etype == "value_error":
        return str(ctx.get("error", err["msg"]))
    return err["msg"]


# ---------------------------------------------------------------------------------------
# The JSON schemas in the docs
# ---------------------------------------------------------------------------------------
class _TomlJsonSchema(GenerateJsonSchema):
    """JSON schema of a TOML file: TOML has no null, so an optional key is one that may be
    absent (no ``null`` alternative, no ``default: null``); no per-field titles."""

    def nullable_schema(self, schema):
        return self.generate_inner(schema["schema"])

    def default_schema(self, schema):
        out = super().default_schema(schema)
        if out.get("default", 0) is None:
            out.pop("default")
        return out

    def field_title_should_be_set(self, schema) -> bool:
        return False


def json_schema(model: type[BaseModel]) -> dict:
    """The JSON schema of an input-file model (as a TOML file can hold it)."""
    return model.model_json_schema(schema_generator=_TomlJsonSchema)


def json_schemas() -> dict[str, dict]:
    """docs file name → the JSON schema of the format it documents."""
    from dipolehnl.analysis.analyses import analysis_json_schema
    from dipolehnl.detector.toml_format import detector_json_schema
    from dipolehnl.experiment import experiment_json_schema

    return {
        "experiments.md": experiment_json_schema(),
        "detector.md": detector_json_schema(),
        "analysis.md": analysis_json_schema(),
    }


SCHEMA_HEADING = "## JSON schema"


def schema_block(schema: dict) -> str:
    """The fenced JSON block of a schema as written in the docs."""
    return "```json\n" + json.dumps(schema, indent=2, ensure_ascii=False) + "\n```"


def docs_schema(text: str) -> dict | None:
    """The schema in the first ```json block after the "## JSON schema" heading of a docs page."""
    i = text.find("\n" + SCHEMA_HEADING + "\n")
    if i < 0:
        return None
    start = text.find("```json\n", i)
    end = text.find("\n```", start + 8)
    if start < 0 or end < 0:
        return None
    return json.loads(text[start + 8 : end])


def write_docs(docs_dir: Path) -> list[str]:
    """Rewrite the schema block of each docs page (appending the section if absent); the
    names of the pages that changed."""
    changed = []
    for name, schema in json_schemas().items():
        path = Path(docs_dir) / name
        text = path.read_text(encoding="utf-8")
        block = schema_block(schema)
        i = text.find("\n" + SCHEMA_HEADING + "\n")
        if i < 0:
            new = text.rstrip("\n") + f"\n\n{SCHEMA_HEADING}\n\n{block}\n"
        else:
            start = text.find("```json\n", i)
            end = text.find("\n```", start + 8) + 4
            new = text[:start] + block + text[end:]
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed.append(name)
    return changed


if __name__ == "__main__":  # pragma: no cover
    if len(sys.argv) == 3 and sys.argv[1] == "--write-docs":
        print("\n".join(write_docs(Path(sys.argv[2]))) or "up to date")
    else:
        print(json.dumps(json_schemas(), indent=2, ensure_ascii=False))
