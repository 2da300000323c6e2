"""Splitting long replies: where the cuts fall, code blocks across them, and messages."""

from __future__ import annotations

import functools
import re

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from services.core.discord.components import Button
from services.core.discord.messages import MENTION_NONE, Embed, File, Message
from services.core.discord.split import MIN_LIMIT, split_content, split_message

FENCE = "```"


def fence_lines(text: str) -> int:
    return sum(1 for line in text.split("\n") if line.startswith(FENCE))


def open_block(text: str, position: int) -> str | None:
    """The opening line of the code block a part ending at ``position`` would leave open.

    The splitter's model, restated: a line starting with ``` opens a block, the next one closes
    it; a fence counts once its three backticks are before ``position``.
    """
    opening: str | None = None
    line_start = 0
    for line in text.split("\n"):
        if line_start + len(FENCE) > position:
            break
        if line.startswith(FENCE):
            opening = line if opening is None else None
        line_start += len(line) + 1
    return opening


def unsplit(text: str, parts: list[str]) -> bool:
    """Whether ``parts`` are ``text`` cut at whitespace, with fences added exactly where needed.

    Precisely: text == b0 + g1 + b1 + ... + gn + bn + g_end, where every g is a (possibly
    empty) run of spaces and newlines, and each b is its part less the fences the splitter
    adds: part i > 0 starts with a fence line and "\\n" exactly when the text is inside a code
    block where b_i starts, that line being "```" or the block's own opening line; part i
    before the last ends with "\\n```" exactly when the text is inside a block where b_i ends.
    Nothing else is added or removed.
    """

    @functools.cache
    def rest_matches(i: int, position: int) -> bool:
        if i == len(parts):
            return not text[position:].strip(" \n")
        gaps = [0]
        if i > 0:
            while position + gaps[-1] < len(text) and text[position + gaps[-1]] in " \n":
                gaps.append(gaps[-1] + 1)
        opening = open_block(text, position) if i > 0 else None
        part = parts[i]
        if opening is not None:
            line, newline, part = part.partition("\n")
            if not newline or line not in (FENCE, opening):
                return False
        for gap in gaps:
            start = position + gap
            bodies = [part]
            if i < len(parts) - 1 and part.endswith("\n" + FENCE):
                bodies.append(part[: -len(FENCE) - 1])
            for body in bodies:
                closed = body is not part
                end = start + len(body)
                if (
                    text.startswith(body, start)
                    and closed == (i < len(parts) - 1 and open_block(text, end) is not None)
                    and rest_matches(i + 1, end)
                ):
                    return True
        return False

    return rest_matches(0, 0)


# Boundary preferences, limit 50 (half: 25). Expected parts exactly.
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("a" * 50, ["a" * 50], id="exactly-the-limit-is-one-part"),
        pytest.param("", [""], id="empty-fits"),
        pytest.param(
            "a" * 30 + "\n\n" + "b" * 10 + "\n" + "c" * 20,
            ["a" * 30, "b" * 10 + "\n" + "c" * 20],
            id="paragraph-over-a-later-line-break",
        ),
        pytest.param(
            "a" * 10 + "\n\n" + "b" * 30 + "\n" + "c" * 20,
            ["a" * 10 + "\n\n" + "b" * 30, "c" * 20],
            id="paragraph-before-half-loses-to-a-line-break",
        ),
        pytest.param(
            "a" * 30 + "\n" + "b" * 10 + " " + "c" * 20,
            ["a" * 30, "b" * 10 + " " + "c" * 20],
            id="line-break-over-a-later-space",
        ),
        pytest.param(
            "aa " * 20,
            ["aa " * 16 + "aa", "aa " * 3],
            id="latest-space-that-fits",
        ),
        pytest.param("a" * 30 + "   " + "b" * 30, ["a" * 30, "b" * 30], id="spaces-dropped"),
        pytest.param(
            "a" * 30 + "  \n \n\n" + "  " + "b" * 30,
            ["a" * 30, "  " + "b" * 30],
            id="blank-lines-dropped-indentation-kept",
        ),
        pytest.param("a" * 120, ["a" * 50, "a" * 50, "a" * 20], id="hard-cut-long-word"),
        pytest.param(
            "x " + "a" * 60,
            ["x", "a" * 50, "a" * 10],
            id="a-short-part-rather-than-a-cut-word",
        ),
        pytest.param("a" * 40 + "\n" * 60, ["a" * 40], id="trailing-whitespace-at-the-cut"),
        pytest.param(
            "a" * 40 + "\n" * 60 + "b",
            ["a" * 40, "b"],
            id="whitespace-longer-than-a-part",
        ),
        pytest.param(
            "a" * 30 + " ```" + "b" * 30,
            ["a" * 30 + " ```" + "b" * 16, "b" * 14],
            id="no-new-fence-at-the-start-of-a-part",
        ),
    ],
)
def test_cuts_at_the_best_boundary(text, expected):
    assert split_content(text, 50) == expected


def test_a_code_block_across_a_cut_is_closed_and_reopened_with_its_language():
    lines = [f"line{i:02}" for i in range(10)]
    text = "```py\n" + "\n".join(lines) + "\n```"
    assert split_content(text, 50) == [
        "```py\n" + "\n".join(lines[:5]) + "\n```",
        "```py\n" + "\n".join(lines[5:]) + "\n```",
    ]


def test_the_added_fences_count_against_the_limit():
    text = "```python\n" + "\n".join(f"{i:03}" for i in range(100)) + "\n```"
    parts = split_content(text, 60)
    assert max(map(len, parts)) <= 60
    assert len(parts[0]) > 55  # full, fences included
    assert all(part.startswith("```python\n") and part.endswith("\n```") for part in parts)
    assert unsplit(text, parts)


def test_indentation_inside_a_block_survives_a_cut():
    text = "```py\ndef f():\n" + "    x = 1\n" * 10 + "```"
    parts = split_content(text, 60)
    assert parts[1].startswith("```py\n    x = 1\n")


def test_a_boundary_outside_a_block_is_preferred_to_a_later_one_inside():
    # Paragraph breaks inside the block at 76 and 88 would fit too.
    code = "```\n" + "\n\n".join(["c" * 10] * 5) + "\n```"
    assert split_content("p" * 60 + "\n\n" + code, 100) == ["p" * 60, code]


def test_the_block_is_cut_when_the_only_outside_boundary_is_too_early():
    code = "```js\n" + "\n".join(["c" * 10] * 8) + "\n```"
    parts = split_content("p" * 20 + "\n\n" + code, 100)
    assert parts[0].startswith("p" * 20 + "\n\n```js\n")
    assert parts[0].endswith("\n```")
    assert parts[1].startswith("```js\n")


@pytest.mark.parametrize(
    ("opening", "reopened"),
    [
        ("```python", "```python\n"),
        ("```c++", "```c++\n"),
        ("```", "```\n"),
        # Discord shows anything but a bare language name as code: it is not repeated.
        ("```python title", "```\n"),
        ("```" + "x" * 21, "```\n"),
    ],
)
def test_the_reopening_fence_carries_only_a_language(opening, reopened):
    text = opening + "\n" + "\n".join(["code"] * 30) + "\n```"
    parts = split_content(text, 60)
    assert len(parts) > 1
    assert all(part.startswith(reopened) for part in parts[1:])


def test_no_part_is_an_empty_block():
    # The only line breaks inside the block are right after its opening and before its closing.
    text = "p" * 20 + "\n```\n" + "c" * 60 + "\n```\nq"
    parts = split_content(text, 50)
    assert all(part != "```\n```" and not part.endswith("```\n```") for part in parts)
    assert unsplit(text, parts)


def test_a_block_left_open_by_the_text_stays_open_in_the_last_part():
    text = "intro\n```sh\n" + "echo hi\n" * 20
    parts = split_content(text, 60)
    assert [fence_lines(part) % 2 for part in parts] == [0] * (len(parts) - 1) + [1]
    assert unsplit(text, parts)


@pytest.mark.parametrize("limit", [MIN_LIMIT - 1, 0, -5])
def test_a_limit_without_room_for_fences_is_refused(limit):
    with pytest.raises(ValueError, match="limit"):
        split_content("short", limit)
    with pytest.raises(ValueError, match="limit"):
        split_message(Message(content="short"), limit)


def test_a_long_reply_with_a_code_block_across_the_cut():
    prose = " ".join(["Some words about the answer."] * 40)  # 1,159 characters
    code = "```python\n" + "\n".join(f"value_{i:03} = compute({i})" for i in range(100)) + "\n```"
    text = prose + "\n\n" + code + "\n\n" + prose
    text += "\n\n" + "Closing words. " * ((5000 - len(text) - 2) // 15)
    text += "." * (5000 - len(text))
    assert len(text) == 5000
    assert len(code) > 2000  # so it cannot go whole in one part

    parts = split_content(text)

    assert all(len(part) <= 2000 for part in parts)
    assert all(fence_lines(part) % 2 == 0 for part in parts)
    # Cut at the paragraph before the block, then inside it: the block goes in two parts.
    assert len(parts) == 3
    assert parts[0] == prose
    assert parts[1].startswith("```python\nvalue_000")
    assert parts[1].endswith("\n```")
    assert parts[2].startswith("```python\nvalue_")  # re-opened, in Python
    assert parts[2].endswith("Closing words. ...")
    assert unsplit(text, parts)


# Property tests. Tokens that exercise every rule: words (some with backticks), long words,
# runs of spaces and newlines, indentation, fence lines with and without a language, other
# whitespace, and arbitrary characters.
TOKENS = st.one_of(
    st.text(alphabet="abcxyz`", min_size=1, max_size=12),
    st.integers(30, 400).map(lambda n: "w" * n),
    st.sampled_from([" ", "  ", "    ", "\n", "\n\n", "\n\n\n", "\n  \n", "\n    ", "\t", "\r\n"]),
    st.sampled_from(["", "python", "c++", "py title", "x" * 25]).map(lambda lang: f"\n```{lang}\n"),
    st.sampled_from(["```", "`", "``"]),
    st.text(max_size=5),
)
TEXTS = st.lists(TOKENS, min_size=10, max_size=150).map("".join)
LIMITS = st.integers(MIN_LIMIT, 200)
PROPERTIES = settings(max_examples=300, deadline=None, database=None, derandomize=True)


def longest_backtick_run(text: str) -> int:
    return max(map(len, re.findall("`+", text)), default=0)


@PROPERTIES
@given(text=TEXTS, limit=LIMITS)
def test_any_text_splits_into_fitting_balanced_parts_that_join_back(text, limit):
    # The one input that cannot be cut without making a fence: a run of backticks longer than
    # a part's room (at least 22 characters).
    assume(longest_backtick_run(text) < 22)

    parts = split_content(text, limit)

    if len(text) <= limit:
        assert parts == [text]
        return
    assert all(0 < len(part) <= limit for part in parts)
    # Every part but the last has balanced fences; the last is as open as the text's end.
    assert [fence_lines(part) % 2 for part in parts[:-1]] == [0] * (len(parts) - 1)
    assert fence_lines(parts[-1]) % 2 == fence_lines(text) % 2
    assert unsplit(text, parts)


def balanced(text: str) -> str:
    return text + "\n```" if fence_lines(text) % 2 else text


@settings(max_examples=150, deadline=None, database=None, derandomize=True)
@given(text=TEXTS.map(balanced), limit=LIMITS)
def test_text_with_balanced_fences_gives_parts_with_balanced_fences(text, limit):
    assume(longest_backtick_run(text) < 22)
    assert fence_lines(text) % 2 == 0
    assert all(fence_lines(part) % 2 == 0 for part in split_content(text, limit))


@settings(max_examples=50, deadline=None, database=None, derandomize=True)
@given(text=TEXTS, limit=LIMITS)
def test_splitting_is_deterministic(text, limit):
    assert split_content(text, limit) == split_content(text, limit)


# split_message
def test_a_message_that_fits_comes_back_as_is():
    message = Message(content="hello", ephemeral=True)
    assert split_message(message)[0] is message
    empty = Message(embeds=[Embed(title="only an embed")])
    assert split_message(empty) == [empty]


def test_a_long_message_keeps_its_flags_and_puts_the_rest_under_the_last_part():
    embed = Embed(title="result")
    button = Button(label="Again", custom_id="again")
    file = File("out.txt", b"data")
    message = Message(
        content="word " * 900,
        embeds=[embed],
        components=[button],
        files=[file],
        ephemeral=True,
        allowed_mentions=MENTION_NONE,
    )

    messages = split_message(message)

    assert [m.content for m in messages] == split_content("word " * 900)
    assert len(messages) == 3
    assert all(m.ephemeral and m.allowed_mentions == MENTION_NONE for m in messages)
    assert all((m.embeds, m.components, m.files) == ((), (), ()) for m in messages[:-1])
    last = messages[-1]
    assert (list(last.embeds), list(last.components), list(last.files)) == (
        [embed],
        [button],
        [file],
    )


def test_split_message_takes_a_limit():
    messages = split_message(Message(content="a" * 120), limit=50)
    assert [m.content for m in messages] == ["a" * 50, "a" * 50, "a" * 20]
