"""The configuration reference (``docs/configuration.md``), generated from the models.

The pydantic models in ``daemon.config`` and the subsystems' ``config`` modules are the truth
about what a setting means and what it defaults to; this renders them as Markdown so the
operator's reference cannot drift from the code (a test regenerates it and compares).

    python -m daemon.config_reference > docs/configuration.md
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator
from typing import Any, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from daemon.config import ArchroomConfig

HEADER = """# Configuration reference

Generated from the configuration models by `python -m daemon.config_reference`; do not edit by
hand. The configuration is one TOML file (default `/etc/archroom/archroom.toml`; a complete
example is `systemd/archroom.toml`). Unknown keys are errors. Any key can be overridden by an
environment variable: `ARCHROOM_` and the path joined with `__`, e.g. `ARCHROOM_API__PORT=9000`.
Check a file with `archroom check-config FILE`.
"""


def _models(annotation: Any) -> list[type[BaseModel]]:
    """The models an annotation holds (a model, a list of models, a union of models)."""
    origin = get_origin(annotation)
    if origin is typing.Annotated:
        return _models(get_args(annotation)[0])
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if origin in (list, typing.Union, types.UnionType):
        return [m for arg in get_args(annotation) for m in _models(arg)]
    return []


def _is_list(annotation: Any) -> bool:
    origin = get_origin(annotation)
    if origin is typing.Annotated:
        return _is_list(get_args(annotation)[0])
    return origin is list


def _type_name(annotation: Any) -> str:
    origin = get_origin(annotation)
    if origin is typing.Annotated:
        return _type_name(get_args(annotation)[0])
    if origin is typing.Literal:
        return " \\| ".join(f"`{a}`" for a in get_args(annotation))
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in get_args(annotation) if a is not type(None))
    if origin is not None:
        args = ", ".join(_type_name(a) for a in get_args(annotation))
        return f"{getattr(origin, '__name__', str(origin))}[{args}]"
    return getattr(annotation, "__name__", str(annotation))


def _default(field: FieldInfo) -> str:
    if field.default_factory is not None:
        value = field.default_factory()  # type: ignore[call-arg]
        return "`[]`" if value == [] else "`{}`" if value == {} else "(computed)"
    if field.default is PydanticUndefined:
        return "required"
    if isinstance(field.default, BaseModel):
        return "(table)"
    if field.default is None:
        return ""
    return f"`{field.default}`"


def _describe(field: FieldInfo) -> str:
    text = (field.description or "").replace("\n", " ").replace("|", "\\|")
    return " ".join(text.split())


def _sections(
    model: type[BaseModel], path: str, *, listed: bool
) -> Iterator[tuple[str, type[BaseModel], bool]]:
    yield path, model, listed
    for name, field in model.model_fields.items():
        key = field.alias or name
        for sub in _models(field.annotation):
            sub_path = f"{path}.{key}" if path else key
            yield from _sections(sub, sub_path, listed=_is_list(field.annotation))


def render() -> str:
    out = [HEADER]
    seen: set[tuple[str, type[BaseModel]]] = set()
    for path, model, listed in _sections(ArchroomConfig, "", listed=False):
        if (path, model) in seen:
            continue
        seen.add((path, model))
        scalars = [(n, f) for n, f in model.model_fields.items() if not _models(f.annotation)]
        if not scalars:
            continue
        title = "top level" if not path else (f"[[{path}]]" if listed else f"[{path}]")
        kind = model.model_fields.get("type")
        variant = ""
        if kind is not None and get_origin(kind.annotation) is typing.Literal:
            variant = f' (`type = "{get_args(kind.annotation)[0]}"`)'
        out.append(f"\n## {title}{variant}\n")
        doc = " ".join((model.__doc__ or "").split())
        if doc and model is not ArchroomConfig:
            out.append(f"{doc}\n")
        out.append("| key | type | default | meaning |\n|---|---|---|---|")
        for name, field in scalars:
            key = field.alias or name
            default = (
                "see meaning" if (model, name) == (ArchroomConfig, "state_dir") else _default(field)
            )
            out.append(
                f"| `{key}` | {_type_name(field.annotation)} | {default} | {_describe(field)} |"
            )
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    print(render(), end="")
