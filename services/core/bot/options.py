"""Command options read from a handler's typed parameters.

    async def roll(ctx, sides: Annotated[int, Option("Sides", min_value=2)] = 6): ...

becomes an INTEGER option ``sides``, not required, with ``min_value`` 2. ``str``, ``int``,
``float``, ``bool``, ``User``, ``Channel``, ``Role`` and ``Attachment`` are understood;
``Literal[...]`` or ``Option(choices=...)`` give choices; ``X | None`` or a default makes the
option optional.
"""

from __future__ import annotations

import inspect
import re
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from services.core.bot.errors import CommandDefinitionError, OptionValueError
from services.core.bot.resolved import Attachment, Channel, Resolved, Role, User
from services.core.discord.models import OptionType

# Discord docs, "Application Command Naming": 1-32 lowercase letters, digits, - and _.
NAME_PATTERN: Final = re.compile(r"[-_\w]{1,32}")
MAX_DESCRIPTION: Final = 100
MAX_OPTIONS: Final = 25
MAX_CHOICES: Final = 25


@dataclass(frozen=True, slots=True)
class Choice:
    name: str
    value: str | int | float


@dataclass(frozen=True, slots=True)
class Option:
    """Metadata for one parameter, given with ``Annotated[T, Option(...)]``."""

    description: str
    name: str | None = None
    choices: Sequence[Choice] = ()
    min_value: int | float | None = None
    max_value: int | float | None = None
    min_length: int | None = None
    max_length: int | None = None
    channel_types: Sequence[int] = ()


_TYPES: Final[Mapping[Any, OptionType]] = {
    str: OptionType.STRING,
    int: OptionType.INTEGER,
    float: OptionType.NUMBER,
    bool: OptionType.BOOLEAN,
    User: OptionType.USER,
    Channel: OptionType.CHANNEL,
    Role: OptionType.ROLE,
    Attachment: OptionType.ATTACHMENT,
}
_RESOLVED_KEY: Final[Mapping[OptionType, str]] = {
    OptionType.USER: "users",
    OptionType.CHANNEL: "channels",
    OptionType.ROLE: "roles",
    OptionType.ATTACHMENT: "attachments",
}
_RESOLVED_CLASS: Final[Mapping[OptionType, type[Resolved]]] = {
    OptionType.USER: User,
    OptionType.CHANNEL: Channel,
    OptionType.ROLE: Role,
    OptionType.ATTACHMENT: Attachment,
}


@dataclass(frozen=True, slots=True)
class OptionSpec:
    """One option as Discord sees it, and how to turn its value back into the parameter."""

    param: str
    name: str
    type: OptionType
    description: str
    required: bool
    default: Any
    meta: Option

    def to_discord(self, *, autocomplete: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": int(self.type),
            "name": self.name,
            "description": self.description,
            "required": self.required,
        }
        meta = self.meta
        if meta.choices:
            out["choices"] = [{"name": c.name, "value": c.value} for c in meta.choices]
        for key in ("min_value", "max_value", "min_length", "max_length"):
            value = getattr(meta, key)
            if value is not None:
                out[key] = value
        if meta.channel_types:
            out["channel_types"] = list(meta.channel_types)
        if autocomplete:
            out["autocomplete"] = True
        return out

    def convert(self, value: Any, resolved: Mapping[str, Any]) -> Any:
        """Check a value Discord sent against this option and return the parameter value."""
        kind = self.type
        if kind in _RESOLVED_KEY:
            ident = str(value)
            table = resolved.get(_RESOLVED_KEY[kind], {})
            return _RESOLVED_CLASS[kind](id=ident, data=table.get(ident, {}))
        ok = {
            OptionType.STRING: isinstance(value, str),
            OptionType.INTEGER: isinstance(value, int) and not isinstance(value, bool),
            OptionType.NUMBER: isinstance(value, int | float) and not isinstance(value, bool),
            OptionType.BOOLEAN: isinstance(value, bool),
        }.get(kind, False)
        if not ok:
            raise OptionValueError(self.name, f"expected {kind.name.lower()}, got {value!r}")
        meta = self.meta
        if meta.min_value is not None and value < meta.min_value:
            raise OptionValueError(self.name, f"must be at least {meta.min_value}")
        if meta.max_value is not None and value > meta.max_value:
            raise OptionValueError(self.name, f"must be at most {meta.max_value}")
        if (
            kind is OptionType.STRING
            and meta.min_length is not None
            and len(value) < meta.min_length
        ):
            raise OptionValueError(self.name, f"must be at least {meta.min_length} characters")
        if (
            kind is OptionType.STRING
            and meta.max_length is not None
            and len(value) > meta.max_length
        ):
            raise OptionValueError(self.name, f"must be at most {meta.max_length} characters")
        if meta.choices and value not in {c.value for c in meta.choices}:
            raise OptionValueError(self.name, "is not one of the choices")
        return float(value) if kind is OptionType.NUMBER else value


def _unwrap(annotation: Any) -> tuple[Any, Option | None, bool]:
    """Return (base type, Option metadata, whether None is allowed)."""
    meta: Option | None = None
    if typing.get_origin(annotation) is typing.Annotated:
        base, *extras = typing.get_args(annotation)
        meta = next((e for e in extras if isinstance(e, Option)), None)
        annotation = base
    optional = False
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = len(args) < len(typing.get_args(annotation))
        if len(args) != 1:
            raise CommandDefinitionError("an option has exactly one type (or that type | None)")
        annotation = args[0]
        if typing.get_origin(annotation) is typing.Annotated:
            inner, optional_meta, _ = _unwrap(annotation)
            return inner, meta or optional_meta, True
    return annotation, meta, optional


def _choices_from_literal(base: Any) -> tuple[Any, tuple[Choice, ...]]:
    values = typing.get_args(base)
    kinds = {type(v) for v in values}
    if len(kinds) != 1 or next(iter(kinds)) not in (str, int, float):
        raise CommandDefinitionError("Literal choices must all be str, int or float")
    return next(iter(kinds)), tuple(Choice(str(v), v) for v in values)


def check_name(name: str, what: str) -> None:
    if not NAME_PATTERN.fullmatch(name) or name != name.lower():
        raise CommandDefinitionError(
            f"{what} name {name!r} must be 1-32 lowercase letters, digits, '-' or '_'"
        )


def check_description(description: str, what: str) -> None:
    if not 1 <= len(description) <= MAX_DESCRIPTION:
        raise CommandDefinitionError(f"{what} description must be 1-{MAX_DESCRIPTION} characters")


def options_from_handler(handler: Callable[..., Any]) -> tuple[OptionSpec, ...]:
    """Read the options from every parameter after the first (the context)."""
    signature = inspect.signature(handler)
    hints = typing.get_type_hints(handler, include_extras=True)
    params = list(signature.parameters.values())
    if not params:
        raise CommandDefinitionError(f"{handler.__name__} must take the context first")
    specs: list[OptionSpec] = []
    for param in params[1:]:
        if param.kind not in (param.POSITIONAL_OR_KEYWORD, param.KEYWORD_ONLY):
            raise CommandDefinitionError(f"{param.name}: options are plain named parameters")
        if param.name not in hints:
            raise CommandDefinitionError(f"{param.name}: an option needs a type annotation")
        base, meta, nullable = _unwrap(hints[param.name])
        meta = meta or Option(description=param.name.replace("_", " "))
        if typing.get_origin(base) is typing.Literal:
            base, choices = _choices_from_literal(base)
            meta = Option(**{**_fields(meta), "choices": choices})
        if base not in _TYPES:
            raise CommandDefinitionError(f"{param.name}: unsupported option type {base!r}")
        name = meta.name or param.name
        check_name(name, "option")
        check_description(meta.description, f"option {name!r}")
        if len(meta.choices) > MAX_CHOICES:
            raise CommandDefinitionError(f"option {name!r} has more than {MAX_CHOICES} choices")
        has_default = param.default is not param.empty
        specs.append(
            OptionSpec(
                param=param.name,
                name=name,
                type=_TYPES[base],
                description=meta.description,
                required=not (has_default or nullable),
                default=param.default if has_default else None,
                meta=meta,
            )
        )
    if len(specs) > MAX_OPTIONS:
        raise CommandDefinitionError(f"{handler.__name__} has more than {MAX_OPTIONS} options")
    # Discord requires required options to come before optional ones.
    seen_optional = False
    for spec in specs:
        if not spec.required:
            seen_optional = True
        elif seen_optional:
            raise CommandDefinitionError(
                f"{handler.__name__}: required option {spec.name!r} follows an optional one"
            )
    return tuple(specs)


def _fields(meta: Option) -> dict[str, Any]:
    return {name: getattr(meta, name) for name in Option.__dataclass_fields__}


def bind_options(
    specs: Sequence[OptionSpec], given: Sequence[Mapping[str, Any]], resolved: Mapping[str, Any]
) -> dict[str, Any]:
    """Turn Discord's ``options`` list into keyword arguments for the handler."""
    by_name = {o.get("name"): o for o in given if isinstance(o, Mapping)}
    kwargs: dict[str, Any] = {}
    for spec in specs:
        sent = by_name.pop(spec.name, None)
        if sent is None or "value" not in sent:
            if spec.required:
                raise OptionValueError(spec.name, "is required")
            kwargs[spec.param] = spec.default
            continue
        kwargs[spec.param] = spec.convert(sent["value"], resolved)
    if by_name:
        raise OptionValueError(", ".join(map(str, by_name)), "is not an option of this command")
    return kwargs
