"""The API's response base, and response models built from the domain types they show.

A record the API returns is a domain dataclass (``Item``, ``Loan``, ``AuditEntry``...) in JSON
form, so its response model takes its fields from the dataclass instead of repeating them: a
field added to the domain type appears in the API with nothing else to change. One rule turns
the store's times into the API's: an integer-microseconds field ``x_us`` is shown as ``x_at``,
an ISO 8601 string (``at_us`` as ``at``). A model says only how it differs from its domain
type::

    class AlarmOut(DomainOut, domain=Alarm, exclude=("key",),
                   rename={"acked_us": "acknowledged_at", "acked_by": "acknowledged_by"}):
        active: bool  # a field of the API only (read from the property of that name)

An annotation naming a shown field changes its type (or adds a description) in place; any
other annotation is a field of the API only, after the domain's fields. ``from_domain(obj,
**values)`` builds the model from a domain object: the domain's fields converted by the rule,
read-only properties named like API-only fields, and ``values`` for the rest (or to replace a
converted value). docs/development.md has the recipe.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict

from daemon.clock import us_to_iso
from daemon.messages import Message


class Out(BaseModel):
    """Base of every response body: an unknown field is a programming error, not ignored."""

    model_config = ConfigDict(extra="forbid")


class Problem(Out):
    detail: str
    message_key: str | None = None
    """The detail's message key in the console's catalogues (docs/api.md#messages), if any."""
    params: dict[str, Any] | None = None


class MessageOut(Out):
    """Words for a person as a message key and its parameters (docs/api.md#messages)."""

    key: str
    params: dict[str, Any]

    @classmethod
    def of(cls, words: Message | None) -> MessageOut | None:
        return None if words is None else cls(**words.as_json())


def iso(us: int | None) -> str | None:
    return us_to_iso(us) if us is not None else None


def _identity(value: Any) -> Any:
    return value


_TIME_TYPES: dict[Any, tuple[Any, Callable[[Any], Any]]] = {
    int: (str, us_to_iso),
    int | None: (str | None, iso),
}


@dataclasses.dataclass(frozen=True, slots=True)
class _Shown:
    attr: str
    """The domain type's field."""
    name: str
    """The API's field."""
    convert: Callable[[Any], Any]


class DomainOut(Out):
    """A response model whose fields are those of a domain dataclass (see the module docs)."""

    __shown__: ClassVar[tuple[_Shown, ...]] = ()
    __api_only__: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(
        cls,
        *,
        domain: type | None = None,
        exclude: Iterable[str] = (),
        rename: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init_subclass__(**kwargs)
        if domain is None:
            return
        own: dict[str, Any] = dict(inspect.get_annotations(cls))
        hints = typing.get_type_hints(domain)
        renamed = dict(rename or {})
        annotations: dict[str, Any] = {}
        shown: list[_Shown] = []
        skipped = set(exclude)
        for field in dataclasses.fields(domain):
            if field.name in skipped:
                continue
            kind: Any = hints[field.name]
            convert: Callable[[Any], Any] = _identity
            name = renamed.get(field.name, field.name)
            if field.name.endswith("_us") and kind in _TIME_TYPES:
                kind, convert = _TIME_TYPES[kind]
                if field.name not in renamed:
                    stem = field.name.removesuffix("_us")
                    name = "at" if stem == "at" else f"{stem}_at"
            annotations[name] = own.pop(name, kind)
            shown.append(_Shown(field.name, name, convert))
        unknown = (set(renamed) | skipped) - {f.name for f in dataclasses.fields(domain)}
        if unknown:
            raise TypeError(f"{cls.__name__}: {domain.__name__} has no field {sorted(unknown)}")
        cls.__annotations__ = {**annotations, **own}
        cls.__shown__ = tuple(shown)
        cls.__api_only__ = tuple(own)

    @classmethod
    def from_domain(cls, obj: object, **values: Any) -> Self:
        """The model of ``obj``; ``values`` give the API-only fields and replace shown ones."""
        data = {s.name: s.convert(getattr(obj, s.attr)) for s in cls.__shown__}
        for name in cls.__api_only__:
            if name not in values and isinstance(getattr(type(obj), name, None), property):
                data[name] = getattr(obj, name)
        data.update(values)
        return cls.model_validate(data)
