"""The sandbox page, used as a bot author would: typing commands, clicking what the bot sends,
filling its forms, streaming an answer and stopping it, as an administrator and as a member."""

from __future__ import annotations

import re

from playwright.async_api import expect

from tests.browser.conftest import Sandbox

# Notes what the channel showed while a test ran: states that last a moment (a deferred
# reply's "thinking…") are seen even if they are gone before the test looks.
WATCH_THINKING = """() => {
  window.__sawThinking = false;
  new MutationObserver(() => {
    if (document.querySelector('#messages .thinking')) window.__sawThinking = true;
  }).observe(document.getElementById('messages'), {childList: true, subtree: true});
}"""


async def test_countdown_shows_thinking_then_progress_edits_then_the_final_message(
    sandbox: Sandbox,
):
    await sandbox.page.evaluate(WATCH_THINKING)
    await sandbox.send("/countdown seconds:2")
    reply = sandbox.messages.last
    await expect(reply.locator(".invocation")).to_have_text("@Dev used /countdown")
    await expect(reply).to_contain_text("Counting down:")
    await expect(reply).to_contain_text("Countdown of 2 s finished", timeout=20_000)
    await expect(reply.get_by_role("button", name="Again")).to_be_visible()
    assert await sandbox.page.evaluate("window.__sawThinking"), "no 'Bot is thinking…' was shown"
    await expect(sandbox.messages).to_have_count(1)  # edited in place, not posted again
    # the inspector: the deferral, then the bot's edits of @original
    inspector = sandbox.page.locator("#exchanges")
    await expect(inspector).to_contain_text("DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE")
    edit = "PATCH /webhooks/{application_id}/{token}/messages/@original"
    await expect(inspector).to_contain_text(edit)


async def test_roll_again_updates_the_message_it_is_on(sandbox: Sandbox):
    await sandbox.send("/roll sides:20")
    reply = sandbox.message_with("You rolled")
    await expect(reply).to_contain_text(re.compile(r"You rolled \d+ on a d20"))
    await expect(reply.locator(".edited")).to_have_count(0)
    await reply.get_by_role("button", name="Roll again").click()
    await expect(reply.locator(".edited")).to_have_count(1)
    await expect(sandbox.messages).to_have_count(1)
    await expect(sandbox.page.locator("#exchanges")).to_contain_text("MESSAGE_COMPONENT roll → 200")


async def test_feedback_opens_a_form_whose_answer_only_the_sender_sees(sandbox: Sandbox):
    await sandbox.send("/feedback")
    dialog = sandbox.page.locator("dialog#modal")
    await expect(dialog).to_be_visible()
    await expect(dialog.locator("h2")).to_have_text("Feedback")
    await dialog.locator("textarea").fill("The sandbox is **handy**")
    await dialog.get_by_role("button", name="Submit").click()
    await expect(dialog).to_be_hidden()
    reply = sandbox.message_with("Thanks for your feedback!")
    await expect(reply.locator("blockquote")).to_contain_text("The sandbox is handy")
    await expect(reply.locator("blockquote strong")).to_have_text("handy")
    await expect(reply).to_contain_text("Only you can see this")


async def test_help_suggests_commands_and_completes_through_the_bot(sandbox: Sandbox):
    await sandbox.type("/he")
    suggestions = sandbox.page.locator("#suggestions")
    await expect(suggestions).to_contain_text("/help")
    await suggestions.get_by_text("/help", exact=True).click()
    await expect(sandbox.input).to_have_value("/help ")
    await expect(suggestions).to_contain_text("command:")
    await sandbox.input.press_sequentially("command:cou")
    # the choices come from the bot, in an autocomplete interaction
    await expect(suggestions).to_contain_text("/countdown")
    inspector = sandbox.page.locator("#exchanges")
    await expect(inspector).to_contain_text("APPLICATION_COMMAND_AUTOCOMPLETE")
    await suggestions.get_by_text("/countdown", exact=True).click()
    await expect(sandbox.input).to_have_value("/help command:countdown ")
    await sandbox.input.press("Enter")
    reply = sandbox.message_with("/countdown")
    await expect(reply).to_contain_text("seconds")
    await expect(reply).to_contain_text("Only you can see this")


async def test_a_choice_in_a_select_menu_updates_the_message(sandbox: Sandbox):
    await sandbox.send("/help")
    reply = sandbox.messages.last
    await expect(reply).to_contain_text("Which command would you like to know about?")
    await reply.get_by_role("combobox").select_option("countdown")
    await expect(reply).to_contain_text("/countdown: Count down, then say so")
    await expect(reply.get_by_role("combobox")).to_have_value("countdown")
    await expect(sandbox.messages).to_have_count(1)


async def test_word_count_runs_on_a_message_from_its_apps_menu(sandbox: Sandbox):
    await sandbox.send("one two three four five")
    posted = sandbox.message_with("one two three four five")
    await expect(posted.locator(".author")).to_have_text("Dev")
    await posted.hover()
    await posted.get_by_role("button", name="Apps").click()
    await sandbox.page.get_by_role("menuitem", name="Word count").click()
    reply = sandbox.message_with("That message has")
    await expect(reply).to_contain_text("That message has 5 words.")
    await expect(reply).to_contain_text("Only you can see this")


async def test_an_answer_streams_into_the_reply_and_stop_ends_it(sandbox: Sandbox):
    await sandbox.send('/ask prompt:"Tell me a long story"')
    reply = sandbox.message_with("used /ask")
    stop = reply.get_by_role("button", name="Stop")
    await expect(stop).to_be_visible()
    content = reply.locator(".content").first
    first = await content.inner_text()
    await expect(content).not_to_have_text(first)  # more words arrived
    await sandbox.screenshot("sandbox.png")
    await stop.click()
    await expect(reply).to_contain_text("(stopped)")
    await expect(reply.locator("em", has_text="(stopped)")).to_be_visible()
    await expect(stop).to_have_count(0)


async def test_a_member_is_refused_config_which_discord_would_not_offer_them(sandbox: Sandbox):
    await sandbox.switch_to("member")
    await sandbox.type("/co")
    suggestions = sandbox.page.locator("#suggestions")
    await expect(suggestions).to_contain_text("/countdown")
    await expect(suggestions).not_to_contain_text("/config")
    await sandbox.send("/config show")
    await expect(sandbox.page.locator("#composer-note")).to_contain_text("Discord would not offer")
    reply = sandbox.message_with("used /config show")
    await expect(reply).to_contain_text("Only server administrators can see or change")
    await expect(reply).to_contain_text("Only you can see this")
    await expect(reply.locator(".invocation")).to_have_text("@Sam used /config show")
    await sandbox.switch_to("admin")  # an ephemeral reply is Sam's alone
    channel = sandbox.page.locator("#messages")
    await expect(channel).not_to_contain_text("Only server administrators")


async def test_a_file_chosen_in_the_picker_reaches_the_bot_as_an_attachment(
    sandbox: Sandbox, tmp_path
):
    notes = tmp_path / "otters.txt"
    notes.write_text("otters hold hands while they sleep")
    await sandbox.type('/ask prompt:"What is this?" file:')
    async with sandbox.page.expect_file_chooser() as chooser:
        await sandbox.page.locator("#suggestions").get_by_text("Choose a file").click()
    await (await chooser.value).set_files(str(notes))
    await expect(sandbox.page.locator("#files")).to_contain_text("otters.txt")
    await sandbox.input.press("Enter")
    reply = sandbox.message_with("used /ask")
    await expect(reply).to_contain_text("otters hold hands", timeout=20_000)


async def test_the_scheduler_buttons_post_through_the_webhook(sandbox: Sandbox):
    await sandbox.page.get_by_role("button", name="Run daily-reminder").click()
    post = sandbox.message_with("Daily reminder")
    await expect(post).to_contain_text("Daily reminder", timeout=20_000)
    await expect(post.locator(".tag")).to_have_text("WEBHOOK")
    await expect(post.locator(".author")).to_have_text("Captain Hook")


async def test_many_tabs_share_one_event_stream_and_all_stay_live(sandbox: Sandbox):
    # A browser holds at most six connections to a host; each stream would take one for good.
    tabs = [await sandbox.page.context.new_page() for _ in range(7)]
    for tab in tabs:
        await tab.goto(sandbox.stack.standin_url + "/")
        await tab.locator("#people input:checked").wait_for(state="attached")
    await sandbox.send("a message every tab should show")
    for tab in [sandbox.page, *tabs]:
        await expect(tab.locator("#messages")).to_contain_text("a message every tab should show")
