"""/ask, /explain and /translate: a language model's answer, streamed into the reply, with
Stop and Follow up buttons (``services.core.llm``)."""

from __future__ import annotations

from typing import Annotated, Final, Literal

from services.commands._bot import models
from services.commands.prompts import ASK_WITH_FILE, EXPLAIN, TRANSLATE
from services.core.bot import Attachment, JobContext, Message, Option
from services.core.bot.context import Sent
from services.core.llm.attachments import FileText, read_attachment
from services.core.llm.errors import UnreadableFileError
from services.core.llm.models import Turn
from services.core.llm.routes import fitted, notice

MAX_PROMPT: Final = 4000
Language = Literal[
    "English", "French", "German", "Spanish", "Italian", "Portuguese", "Dutch", "Polish",
    "Ukrainian", "Russian", "Turkish", "Arabic", "Hindi", "Chinese", "Japanese", "Korean",
]  # fmt: skip


@models.command(description="Ask the AI a question")
async def ask(
    ctx: JobContext,
    prompt: Annotated[str, Option("Your question", max_length=MAX_PROMPT)],
    file: Annotated[Attachment | None, Option("A text file or an image to ask about")] = None,
) -> Sent | Message:
    if file is None:
        # The question is the user's own turn, as it is: no template wraps it.
        return await models.answer(ctx, [Turn.user(prompt)], kind="ask")
    llm = ctx.resources.llm
    origins = llm.settings.cdn_origins if llm is not None else ()
    try:
        content = await read_attachment(file, origins=origins)
    except UnreadableFileError as exc:
        return notice(exc.reason)
    if isinstance(content, FileText):
        # The file is data; the question is the user's own words, after it.
        text = fitted(content.text, llm.settings.data_chars if llm is not None else 0)
        turn = ASK_WITH_FILE.turn(data={"file": text}, question=prompt)
    else:
        turn = Turn.user(prompt, content)  # an image, for a vision model
    return await models.answer(ctx, [turn], kind="ask")


@models.command(description="Have the AI explain a topic")
async def explain(
    ctx: JobContext, topic: Annotated[str, Option("What to explain", max_length=500)]
) -> Sent | Message:
    return await models.answer(ctx, [EXPLAIN.turn(data={"topic": topic})], kind="explain")


@models.command(description="Translate text with the AI")
async def translate(
    ctx: JobContext,
    text: Annotated[str, Option("The text to translate", max_length=MAX_PROMPT)],
    to: Annotated[Language, Option("The language to translate into")],
) -> Sent | Message:
    turn = TRANSLATE.turn(values={"language": to}, data={"text": text})
    return await models.answer(ctx, [turn], kind="translate")
