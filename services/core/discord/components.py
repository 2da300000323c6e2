"""Message components (buttons, select menus, action rows) and modals, as we send them.

Each class checks Discord's limits when it is built (Discord docs, "Component Reference"), so a
component Discord would refuse fails in the handler that builds it, with the field named,
instead of as a 400 from Discord after the user waited.

    Message(content="Pick one", components=[
        Button("Roll again", custom_id=ctx.custom_id(roll_again, sides=6)),
        LinkButton("Docs", url="https://example.com"),
        StringSelect("colour", options=[SelectOption("Red", "red"), SelectOption("Blue", "blue")]),
    ])

A flat list is laid out as Discord's client would show it: buttons share a row (five at most),
a select menu takes a row of its own. Give ``ActionRow``s to lay them out yourself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, ClassVar, Final

from services.core.discord.errors import InvalidComponent


class ComponentType(IntEnum):
    ACTION_ROW = 1
    BUTTON = 2
    STRING_SELECT = 3
    TEXT_INPUT = 4
    USER_SELECT = 5
    ROLE_SELECT = 6
    MENTIONABLE_SELECT = 7
    CHANNEL_SELECT = 8
    TEXT_DISPLAY = 10
    LABEL = 18
    FILE_UPLOAD = 19
    RADIO_GROUP = 21
    CHECKBOX_GROUP = 22
    CHECKBOX = 23


class ButtonStyle(IntEnum):
    PRIMARY = 1
    SECONDARY = 2
    SUCCESS = 3
    DANGER = 4
    LINK = 5


class TextInputStyle(IntEnum):
    SHORT = 1
    PARAGRAPH = 2


# Discord docs, "Component Reference".
MAX_CUSTOM_ID: Final = 100
MAX_BUTTON_LABEL: Final = 80
MAX_URL: Final = 512
MAX_ROWS: Final = 5
MAX_BUTTONS_PER_ROW: Final = 5
MAX_SELECT_OPTIONS: Final = 25
MAX_SELECT_VALUES: Final = 25
MAX_PLACEHOLDER: Final = 150
MAX_OPTION_TEXT: Final = 100
MAX_MODAL_TITLE: Final = 45
MAX_MODAL_FIELDS: Final = 5
MAX_FIELD_LABEL: Final = 45
MAX_FIELD_DESCRIPTION: Final = 100
MAX_INPUT_PLACEHOLDER: Final = 100
MAX_INPUT_LENGTH: Final = 4000


def _check_length(what: str, value: str | None, maximum: int, *, minimum: int = 1) -> None:
    if value is not None and not minimum <= len(value) <= maximum:
        raise InvalidComponent(what, f"must be {minimum}-{maximum} characters, got {len(value)}")


def _check_custom_id(what: str, custom_id: str) -> None:
    if not isinstance(custom_id, str):
        raise InvalidComponent(what, "custom_id must be a string")
    _check_length(f"{what} custom_id", custom_id, MAX_CUSTOM_ID)


def _emoji(emoji: str | None) -> dict[str, Any] | None:
    """A unicode emoji, or a custom one written as Discord does: ``<:name:id>``."""
    if emoji is None:
        return None
    if emoji.startswith("<") and emoji.endswith(">"):
        animated, name, ident = [*emoji[1:-1].split(":"), "", ""][:3]
        return {"name": name, "id": ident, "animated": animated == "a"}
    return {"name": emoji}


def _with(out: dict[str, Any], **optional: Any) -> dict[str, Any]:
    out.update({k: v for k, v in optional.items() if v is not None})
    return out


@dataclass(frozen=True, slots=True)
class Button:
    """A button that sends an interaction with its ``custom_id`` when clicked."""

    label: str
    custom_id: str
    style: ButtonStyle = ButtonStyle.PRIMARY
    emoji: str | None = None
    disabled: bool = False

    def __post_init__(self) -> None:
        _check_length("button label", self.label, MAX_BUTTON_LABEL)
        _check_custom_id("button", self.custom_id)
        if self.style is ButtonStyle.LINK:
            raise InvalidComponent("button", "a link button is a LinkButton, with a url")

    def to_discord(self) -> dict[str, Any]:
        return _with(
            {
                "type": int(ComponentType.BUTTON),
                "style": int(self.style),
                "label": self.label,
                "custom_id": self.custom_id,
                "disabled": self.disabled,
            },
            emoji=_emoji(self.emoji),
        )


@dataclass(frozen=True, slots=True)
class LinkButton:
    """A button that opens a URL; it sends no interaction."""

    label: str
    url: str
    emoji: str | None = None
    disabled: bool = False

    def __post_init__(self) -> None:
        _check_length("button label", self.label, MAX_BUTTON_LABEL)
        _check_length("link button url", self.url, MAX_URL)
        if not self.url.startswith(("https://", "http://", "discord://")):
            raise InvalidComponent("link button url", "must be an http(s) or discord:// URL")

    def to_discord(self) -> dict[str, Any]:
        return _with(
            {
                "type": int(ComponentType.BUTTON),
                "style": int(ButtonStyle.LINK),
                "label": self.label,
                "url": self.url,
                "disabled": self.disabled,
            },
            emoji=_emoji(self.emoji),
        )


@dataclass(frozen=True, slots=True)
class SelectOption:
    label: str
    value: str
    description: str | None = None
    emoji: str | None = None
    default: bool = False

    def __post_init__(self) -> None:
        _check_length("select option label", self.label, MAX_OPTION_TEXT)
        _check_length("select option value", self.value, MAX_OPTION_TEXT)
        _check_length("select option description", self.description, MAX_OPTION_TEXT)

    def to_discord(self) -> dict[str, Any]:
        return _with(
            {"label": self.label, "value": self.value, "default": self.default},
            description=self.description,
            emoji=_emoji(self.emoji),
        )


@dataclass(frozen=True, slots=True)
class _Select:
    custom_id: str
    placeholder: str | None = None
    min_values: int = 1
    max_values: int = 1
    disabled: bool = False

    kind: ClassVar[ComponentType] = ComponentType.STRING_SELECT

    def _check(self) -> None:
        _check_custom_id("select", self.custom_id)
        _check_length("select placeholder", self.placeholder, MAX_PLACEHOLDER)
        if not 0 <= self.min_values <= self.max_values <= MAX_SELECT_VALUES or self.max_values < 1:
            raise InvalidComponent(
                "select", f"needs 0 <= min_values <= max_values <= {MAX_SELECT_VALUES}"
            )

    def __post_init__(self) -> None:
        self._check()

    def _base(self) -> dict[str, Any]:
        return _with(
            {
                "type": int(self.kind),
                "custom_id": self.custom_id,
                "min_values": self.min_values,
                "max_values": self.max_values,
                "disabled": self.disabled,
            },
            placeholder=self.placeholder,
        )

    def to_discord(self) -> dict[str, Any]:
        return self._base()


@dataclass(frozen=True, slots=True)
class StringSelect(_Select):
    """A menu of fixed choices; the handler gets the chosen values."""

    options: Sequence[SelectOption] = ()

    def __post_init__(self) -> None:
        self._check()
        if not 1 <= len(self.options) <= MAX_SELECT_OPTIONS:
            raise InvalidComponent("string select", f"needs 1-{MAX_SELECT_OPTIONS} options")
        if self.max_values > len(self.options):
            raise InvalidComponent("string select", "max_values exceeds the number of options")

    def to_discord(self) -> dict[str, Any]:
        return {**self._base(), "options": [o.to_discord() for o in self.options]}


@dataclass(frozen=True, slots=True)
class UserSelect(_Select):
    """Members of the server (or users, in a DM) to choose; the handler gets their ids."""

    kind: ClassVar[ComponentType] = ComponentType.USER_SELECT


@dataclass(frozen=True, slots=True)
class RoleSelect(_Select):
    kind: ClassVar[ComponentType] = ComponentType.ROLE_SELECT


@dataclass(frozen=True, slots=True)
class MentionableSelect(_Select):
    kind: ClassVar[ComponentType] = ComponentType.MENTIONABLE_SELECT


@dataclass(frozen=True, slots=True)
class ChannelSelect(_Select):
    channel_types: Sequence[int] = ()
    kind: ClassVar[ComponentType] = ComponentType.CHANNEL_SELECT

    def to_discord(self) -> dict[str, Any]:
        out = self._base()
        if self.channel_types:
            out["channel_types"] = sorted(set(self.channel_types))
        return out


Select = StringSelect | UserSelect | RoleSelect | MentionableSelect | ChannelSelect
RowItem = Button | LinkButton | Select


@dataclass(frozen=True, slots=True)
class ActionRow:
    """Up to five buttons, or one select menu."""

    components: Sequence[RowItem]

    def __post_init__(self) -> None:
        selects = [c for c in self.components if isinstance(c, _Select)]
        if selects and len(self.components) != 1:
            raise InvalidComponent("action row", "a select menu takes a row of its own")
        if not 1 <= len(self.components) <= MAX_BUTTONS_PER_ROW:
            raise InvalidComponent("action row", f"holds 1-{MAX_BUTTONS_PER_ROW} buttons")

    def to_discord(self) -> dict[str, Any]:
        return {
            "type": int(ComponentType.ACTION_ROW),
            "components": [c.to_discord() for c in self.components],
        }


def layout(components: Sequence[ActionRow | RowItem]) -> tuple[ActionRow, ...]:
    """Action rows for a message: rows as given, loose buttons packed five to a row, each loose
    select menu on a row of its own, in the order given."""
    rows: list[ActionRow] = []
    pending: list[RowItem] = []

    def flush() -> None:
        if pending:
            rows.append(ActionRow(tuple(pending)))
            pending.clear()

    for component in components:
        if isinstance(component, ActionRow):
            flush()
            rows.append(component)
        elif isinstance(component, _Select):
            flush()
            rows.append(ActionRow((component,)))
        else:
            if len(pending) == MAX_BUTTONS_PER_ROW:
                flush()
            pending.append(component)
    flush()
    if len(rows) > MAX_ROWS:
        raise InvalidComponent("message", f"has more than {MAX_ROWS} rows of components")
    # Discord refuses a message whose components share a custom_id.
    ids = [c.custom_id for row in rows for c in row.components if not isinstance(c, LinkButton)]
    if len(set(ids)) != len(ids):
        raise InvalidComponent("message", "two components share a custom_id")
    return tuple(rows)


@dataclass(frozen=True, slots=True)
class TextInput:
    """A text field in a modal; its value reaches the modal's handler under ``custom_id``."""

    custom_id: str
    label: str
    style: TextInputStyle = TextInputStyle.SHORT
    description: str | None = None
    placeholder: str | None = None
    value: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    required: bool = True

    def __post_init__(self) -> None:
        _check_custom_id("text input", self.custom_id)
        _check_length("text input label", self.label, MAX_FIELD_LABEL)
        _check_length("text input description", self.description, MAX_FIELD_DESCRIPTION)
        _check_length("text input placeholder", self.placeholder, MAX_INPUT_PLACEHOLDER)
        _check_length("text input value", self.value, MAX_INPUT_LENGTH, minimum=0)
        low = self.min_length if self.min_length is not None else 0
        high = self.max_length if self.max_length is not None else MAX_INPUT_LENGTH
        if not 0 <= low <= high <= MAX_INPUT_LENGTH or high < 1:
            raise InvalidComponent("text input", "needs 0 <= min_length <= max_length <= 4000")

    def to_discord(self) -> dict[str, Any]:
        """As Discord's current modals take it: a Label around the input."""
        field_: dict[str, Any] = _with(
            {
                "type": int(ComponentType.TEXT_INPUT),
                "custom_id": self.custom_id,
                "style": int(self.style),
                "required": self.required,
            },
            placeholder=self.placeholder,
            value=self.value,
            min_length=self.min_length,
            max_length=self.max_length,
        )
        return _with(
            {"type": int(ComponentType.LABEL), "label": self.label, "component": field_},
            description=self.description,
        )


@dataclass(frozen=True, slots=True)
class Modal:
    """A form Discord shows over the client (interaction response type 9). Submitting it sends
    a MODAL_SUBMIT interaction with this ``custom_id`` and each field's value."""

    custom_id: str
    title: str
    fields: Sequence[TextInput]

    def __post_init__(self) -> None:
        _check_custom_id("modal", self.custom_id)
        _check_length("modal title", self.title, MAX_MODAL_TITLE)
        if not 1 <= len(self.fields) <= MAX_MODAL_FIELDS:
            raise InvalidComponent("modal", f"holds 1-{MAX_MODAL_FIELDS} fields")
        ids = [f.custom_id for f in self.fields]
        if len(set(ids)) != len(ids):
            raise InvalidComponent("modal", "two fields share a custom_id")

    def to_discord(self) -> dict[str, Any]:
        return {
            "custom_id": self.custom_id,
            "title": self.title,
            "components": [f.to_discord() for f in self.fields],
        }
