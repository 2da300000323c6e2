"""The prompts the AI commands send a model, in one place: add a template here and use it
from a command with ``prompts["name"].turn(...)``.

An instruction is the bot's own text; ``{placeholders}`` take values the bot chooses (a
command's choices), never what a user typed. What users supply goes in the data slots, which
reach the model between labelled markers, to be read and not obeyed.
"""

from services.commands._bot import prompts

EXPLAIN = prompts.add(
    "explain",
    "Explain the topic below to a curious newcomer: what it is, why it matters, and one "
    "concrete example. Keep it under 300 words.",
    data=("topic",),
)
TRANSLATE = prompts.add(
    "translate",
    "Translate the text below into {language}. Answer with the translation only, keeping "
    "its formatting.",
    data=("text",),
)
SUMMARIZE = prompts.add(
    "summarize",
    "Summarize the Discord messages below: the main points, decisions, open questions, and "
    "who said what where it matters. Use a short bulleted list.",
    data=("messages",),
)
ASK_WITH_FILE = prompts.add(
    "ask_with_file",
    "Answer my question, which follows the file, using the file.",
    data=("file",),
)
