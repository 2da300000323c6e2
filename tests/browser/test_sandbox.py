"""The sandbox page, used as a bot author would: typing commands, clicking what the bot sends,
filling its forms, streaming an answer and stopping it, as an administrator and as a member."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import Sandbox

# Notes what the channel showed while a test ran: states that last a moment (a deferred
# reply's "thinking…") are seen even if they are gone before the test looks.
WATCH_THINKING = """() => {
  window.__sawThinking = false;
  new MutationObserver(() => {
    if (document.querySelector('#messages .thinking')) window.__sawThinking = true;
  }).observe(document.getElementById('messages'), {childList: true, subtree: true});
}"""


def test_countdown_shows_thinking_then_progress_edits_then_the_final_message(sandbox: Sandbox):
    sandbox.page.evaluate(WATCH_THINKING)
    sandbox.send("/countdown seconds:2")
    reply = sandbox.messages.last
    expect(reply.locator(".invocation")).to_have_text("@Dev used /countdown")
    expect(reply).to_contain_text("Counting down:")
    expect(reply).to_contain_text("Countdown of 2 s finished", timeout=20_000)
    expect(reply.get_by_role("button", name="Again")).to_be_visible()
    assert sandbox.page.evaluate("window.__sawThinking"), "no 'Bot is thinking…' was shown"
    expect(sandbox.messages).to_have_count(1)  # edited in place, not posted again
    # the inspector: the deferral, then the bot's edits of @original
    inspector = sandbox.page.locator("#exchanges")
    expect(inspector).to_contain_text("DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE")
    expect(inspector).to_contain_text("PATCH /webhooks/{application_id}/{token}/messages/@original")


def test_roll_again_updates_the_message_it_is_on(sandbox: Sandbox):
    sandbox.send("/roll sides:20")
    reply = sandbox.message_with("You rolled")
    expect(reply).to_contain_text(re.compile(r"You rolled \d+ on a d20"))
    expect(reply.locator(".edited")).to_have_count(0)
    reply.get_by_role("button", name="Roll again").click()
    expect(reply.locator(".edited")).to_have_count(1)
    expect(sandbox.messages).to_have_count(1)
    expect(sandbox.page.locator("#exchanges")).to_contain_text("MESSAGE_COMPONENT roll → 200")


def test_feedback_opens_a_form_whose_answer_only_the_sender_sees(sandbox: Sandbox):
    sandbox.send("/feedback")
    dialog = sandbox.page.locator("dialog#modal")
    expect(dialog).to_be_visible()
    expect(dialog.locator("h2")).to_have_text("Feedback")
    dialog.locator("textarea").fill("The sandbox is **handy**")
    dialog.get_by_role("button", name="Submit").click()
    expect(dialog).to_be_hidden()
    reply = sandbox.message_with("Thanks for your feedback!")
    expect(reply.locator("blockquote")).to_contain_text("The sandbox is handy")
    expect(reply.locator("blockquote strong")).to_have_text("handy")
    expect(reply).to_contain_text("Only you can see this")


def test_help_suggests_commands_and_completes_through_the_bot(sandbox: Sandbox):
    sandbox.type("/he")
    suggestions = sandbox.page.locator("#suggestions")
    expect(suggestions).to_contain_text("/help")
    suggestions.get_by_text("/help", exact=True).click()
    expect(sandbox.input).to_have_value("/help ")
    expect(suggestions).to_contain_text("command:")
    sandbox.input.press_sequentially("command:cou")
    # the choices come from the bot, in an autocomplete interaction
    expect(suggestions).to_contain_text("/countdown")
    expect(sandbox.page.locator("#exchanges")).to_contain_text("APPLICATION_COMMAND_AUTOCOMPLETE")
    suggestions.get_by_text("/countdown", exact=True).click()
    expect(sandbox.input).to_have_value("/help command:countdown ")
    sandbox.input.press("Enter")
    reply = sandbox.message_with("/countdown")
    expect(reply).to_contain_text("seconds")
    expect(reply).to_contain_text("Only you can see this")


def test_word_count_runs_on_a_message_from_its_apps_menu(sandbox: Sandbox):
    sandbox.send("one two three four five")
    posted = sandbox.message_with("one two three four five")
    expect(posted.locator(".author")).to_have_text("Dev")
    posted.hover()
    posted.get_by_role("button", name="Apps").click()
    sandbox.page.get_by_role("menuitem", name="Word count").click()
    reply = sandbox.message_with("That message has")
    expect(reply).to_contain_text("That message has 5 words.")
    expect(reply).to_contain_text("Only you can see this")


def test_an_answer_streams_into_the_reply_and_stop_ends_it(sandbox: Sandbox):
    sandbox.send('/ask prompt:"Tell me a long story"')
    reply = sandbox.message_with("used /ask")
    stop = reply.get_by_role("button", name="Stop")
    expect(stop).to_be_visible()
    content = reply.locator(".content").first
    first = content.inner_text()
    expect(content).not_to_have_text(first)  # more words arrived
    sandbox.screenshot("sandbox.png")
    stop.click()
    expect(reply).to_contain_text("(stopped)")
    expect(reply.locator("em", has_text="(stopped)")).to_be_visible()
    expect(stop).to_have_count(0)


def test_a_member_is_refused_config_which_discord_would_not_offer_them(sandbox: Sandbox):
    sandbox.switch_to("member")
    sandbox.type("/co")
    suggestions = sandbox.page.locator("#suggestions")
    expect(suggestions).to_contain_text("/countdown")
    expect(suggestions).not_to_contain_text("/config")
    sandbox.send("/config show")
    expect(sandbox.page.locator("#composer-note")).to_contain_text("Discord would not offer")
    reply = sandbox.message_with("used /config show")
    expect(reply).to_contain_text("Only server administrators can see or change")
    expect(reply).to_contain_text("Only you can see this")
    expect(reply.locator(".invocation")).to_have_text("@Sam used /config show")


def test_a_file_chosen_in_the_picker_reaches_the_bot_as_an_attachment(sandbox: Sandbox, tmp_path):
    notes = tmp_path / "otters.txt"
    notes.write_text("otters hold hands while they sleep")
    sandbox.type('/ask prompt:"What is this?" file:')
    with sandbox.page.expect_file_chooser() as chooser:
        sandbox.page.locator("#suggestions").get_by_text("Choose a file").click()
    chooser.value.set_files(str(notes))
    expect(sandbox.page.locator("#files")).to_contain_text("otters.txt")
    sandbox.input.press("Enter")
    reply = sandbox.message_with("used /ask")
    expect(reply).to_contain_text("otters hold hands", timeout=20_000)


def test_the_scheduler_buttons_post_through_the_webhook(sandbox: Sandbox):
    sandbox.page.get_by_role("button", name="Run daily-reminder").click()
    post = sandbox.message_with("Daily reminder")
    expect(post).to_contain_text("Daily reminder", timeout=20_000)
    expect(post.locator(".tag")).to_have_text("WEBHOOK")
    expect(post.locator(".author")).to_have_text("Captain Hook")
