// The sandbox page: the channel view kept live from the stand-in's event stream, the composer,
// components, forms, the user switch, the scheduler buttons and the inspector.

import { el } from "./markdown.js";
import { renderMessage, displayName } from "./message.js";
import { addExchange, addFollowing, clearExchanges, describe } from "./inspector.js";
import { openModal, wireForms } from "./forms.js";
import { parse, suggest, availability, commandOptions, autocompleteOptions, choicesAsSuggestions, lookalikes } from "./composer.js";

const $ = (id) => document.getElementById(id);
const REMOVED = new Set(["delete_original", "delete_followup", "bot_delete"]);
const AUTOCOMPLETE_DELAY_MS = 200;
const EARLY_KEPT = 200;
const MAX_FILE_BYTES = 10 * 1024 * 1024; // Discord's limit for a bot's upload (docs, "Uploading Files")

const state = {
  commands: [],
  people: [],
  channels: [],
  tasks: [],
  person: null,
  messages: new Map(),
  exchanges: new Map(), // interaction id -> its inspector entry
  early: new Map(), // interaction id -> what the bot did before its entry was made
  files: {}, // attachment option name -> the attachment the stand-in hosts
  suggestions: [],
  highlighted: -1,
  parsed: null,
  autocompleteTimer: null,
};

function context() {
  const users = {};
  for (const p of state.people) users[p.user.id] = p.user;
  const channels = {};
  for (const c of state.channels) channels[c.id] = c;
  return { users, channels, people: state.people, channelList: state.channels };
}

async function post(path, body, headers = {}) {
  const response = await fetch(`/_sandbox/${path}`, {
    method: "POST",
    headers: { "X-Stand-In": "1", "Content-Type": "application/json", ...headers },
    body: typeof body === "string" || body instanceof Blob ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let data = null;
  try {
    data = JSON.parse(text);
  } catch {
    // not JSON: a proxy's or the server's own words, shown as they are
  }
  if (!response.ok) throw new Error(data?.error || `HTTP ${response.status}: ${text.slice(0, 200)}`);
  return data;
}

function toast(text) {
  const box = $("toast");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (box.hidden = true), 4000);
}

// -- the channel ------------------------------------------------------------------------------

function snowflake(id) {
  try {
    return BigInt(id);
  } catch {
    return 0n;
  }
}

function byId(a, b) {
  const x = snowflake(a.id);
  const y = snowflake(b.id);
  return x < y ? -1 : x > y ? 1 : 0;
}

const actions = {
  act: (request) => interact(request),
  dismiss: (message) => {
    state.messages.delete(message.id);
    schedule(message.id);
  },
  messageMenu: (event, message) => openMenu(event, 3, (command) => interact({ kind: "message_command", name: command.name, message_id: message.id })),
  userMenu: (event, user) => openMenu(event, 2, (command) => interact({ kind: "user_command", name: command.name, target: user.id })),
};

// An ephemeral message is for the one who used the command, as in Discord.
function visibleTo(message, person) {
  if (!((message.flags || 0) & 64)) return true;
  const asker = message.interaction?.user?.id;
  return !asker || asker === person.user.id;
}

function shownHere(message) {
  return message && message.channel_id === state.person.channel_id && visibleTo(message, state.person);
}

// One message that cannot be drawn must not take the channel down with it.
function draw(message, ctx) {
  try {
    return renderMessage(message, ctx, actions);
  } catch (error) {
    return el("li", { class: "message", "data-id": message.id }, el("div", { class: "unsupported" }, `(message ${message.id} could not be drawn: ${error.message})`));
  }
}

// Changes are drawn once per frame, and only the messages that changed: a burst of events
// costs one pass, not one whole channel per event.
const pending = { ids: new Set(), all: true, frame: 0 };

function schedule(id) {
  if (id === undefined) pending.all = true;
  else pending.ids.add(id);
  if (!pending.frame) pending.frame = requestAnimationFrame(flush);
}

function flush() {
  pending.frame = 0;
  const list = $("messages");
  const nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  const ctx = context();
  if (pending.all) {
    const shown = [...state.messages.values()].filter(shownHere).sort(byId);
    list.replaceChildren(...shown.map((m) => draw(m, ctx)));
  } else {
    for (const id of pending.ids) {
      const old = list.querySelector(`li[data-id="${CSS.escape(id)}"]`);
      const message = state.messages.get(id);
      if (!shownHere(message)) {
        old?.remove();
        continue;
      }
      const node = draw(message, ctx);
      if (old) {
        old.replaceWith(node);
        continue;
      }
      // In id order; a new message is nearly always the newest, so look from the end.
      let before = list.lastElementChild;
      while (before && snowflake(before.dataset.id) > snowflake(id)) before = before.previousElementSibling;
      if (before) before.after(node);
      else list.prepend(node);
    }
  }
  pending.all = false;
  pending.ids.clear();
  if (nearBottom) list.scrollTop = list.scrollHeight;
}

function upsert(message) {
  const known = state.messages.get(message.id);
  // What the page itself marks on a message (a click in flight, a failure) survives an edit.
  state.messages.set(message.id, { ...message, __busy: known?.__busy, __failed: known?.__failed });
}

function onEvent(event) {
  if (event.kind === "clear") {
    for (const [id, m] of state.messages) if (m.channel_id === event.channel_id) state.messages.delete(id);
    schedule();
  } else if (event.message && REMOVED.has(event.kind)) {
    state.messages.delete(event.message.id);
    schedule(event.message.id);
  } else if (event.message && event.message.id && event.message.channel_id) {
    upsert(event.message);
    schedule(event.message.id);
  }
  if (event.interaction_id && event.route !== "POST /interactions") {
    // The bot's own requests for an interaction; they may arrive before its entry exists.
    const entry = state.exchanges.get(event.interaction_id);
    if (entry) addFollowing(entry, event);
    else {
      state.early.set(event.interaction_id, [...(state.early.get(event.interaction_id) || []), event]);
      // Interactions sent from elsewhere (devtools.send) never get an entry: keep a few.
      if (state.early.size > EARLY_KEPT) state.early.delete(state.early.keys().next().value);
    }
  } else if (event.kind === "webhook_post" || event.kind === "bot_post") {
    addExchange({ title: `${event.kind === "webhook_post" ? "Webhook post" : "Bot post"} · ${event.route}`, status: event.status, sections: [["Request body", event.body]] });
  }
}

// -- talking to the bot -----------------------------------------------------------------------

function failure(result) {
  if (result.status === 200 && result.violations?.length) return `This interaction failed: Discord would refuse the answer (${result.violations[0]})`;
  if (result.status === 0) return `The application did not respond (${result.error})`;
  if (result.status !== 200) return `This interaction failed (the bot answered HTTP ${result.status})`;
  return null;
}

function localNotice(text) {
  // Discord's own note to the user, not the bot's message: shown only here, like Clyde's.
  const id = (BigInt(Date.now()) << 22n).toString();
  upsert({
    id,
    channel_id: state.person.channel_id,
    content: text,
    flags: 64,
    author: { id: "0", username: "Discord", global_name: "Discord", bot: true },
    interaction: { user: state.person.user },
    timestamp: new Date().toISOString(),
  });
  schedule(id);
}

async function interact(request, { quiet = false } = {}) {
  const busy = request.message_id && request.kind === "click" ? state.messages.get(request.message_id) : null;
  if (busy) {
    busy.__busy = true;
    busy.__failed = null;
    schedule(busy.id);
  }
  let answer;
  try {
    answer = await post("interactions", { as: state.person.key, ...request });
  } catch (error) {
    if (!quiet) showError(String(error.message || error));
    return null;
  } finally {
    if (busy) {
      const now = state.messages.get(busy.id);
      if (now) now.__busy = false;
      schedule(busy.id);
    }
  }
  const { payload, result } = answer;
  const entry = addExchange({
    title: describe(payload, result),
    status: result.status,
    sections: [["Interaction sent (signed: X-Signature-Ed25519, X-Signature-Timestamp)", payload], ["Answer", result.response ?? result]],
  });
  state.exchanges.set(payload.id, entry);
  for (const early of state.early.get(payload.id) || []) addFollowing(entry, early);
  state.early.delete(payload.id);
  const failed = failure(result);
  if (failed && !quiet) {
    const message = request.message_id && state.messages.get(request.message_id);
    if (message && request.kind !== "message_command") {
      message.__failed = failed;
      schedule(message.id);
    } else localNotice(failed);
    return null;
  }
  if (result.response?.type === 9) openModal(result.response.data, request.message_id);
  return result.response;
}

function showError(text) {
  $("composer-error").textContent = text;
}

// -- the composer -----------------------------------------------------------------------------

function lookups() {
  return { people: state.people, channels: state.channels, files: state.files };
}

function renderSuggestions() {
  const list = $("suggestions");
  list.replaceChildren(
    ...state.suggestions.map((s, index) =>
      el(
        "li",
        {
          role: "option",
          class: `suggestion ${index === state.highlighted ? "highlighted" : ""} ${s.pending ? "pending" : ""}`,
          "aria-selected": index === state.highlighted ? "true" : "false",
          onmousedown: (e) => {
            e.preventDefault(); // keep the input's focus
            if (!s.pending) pick(s);
          },
        },
        el("span", { class: "suggestion-label" }, s.label),
        s.description ? el("span", { class: "suggestion-description" }, s.description) : null,
      ),
    ),
  );
  list.hidden = state.suggestions.length === 0;
}

function pick(suggestion) {
  const input = $("input");
  if (suggestion.pick) {
    const picker = $("file-picker");
    picker.dataset.option = suggestion.pick;
    picker.dataset.from = String(suggestion.from);
    picker.click();
    return;
  }
  input.value = input.value.slice(0, suggestion.from) + suggestion.insert;
  input.focus();
  refresh();
}

function refresh() {
  const text = $("input").value;
  showError("");
  const parsed = parse(text, state.commands);
  state.parsed = parsed;
  // A file stays attached only while the text still names it.
  const named = (name) => parsed.given?.some((g) => g.name === name && g.raw === state.files[name].filename);
  const before = Object.keys(state.files).length;
  for (const name of Object.keys(state.files)) if (!named(name)) delete state.files[name];
  if (Object.keys(state.files).length !== before) renderFiles();
  state.highlighted = -1;
  const hidden = parsed.command ? availability(parsed.command, state.person) : null;
  const notes = hidden ? [`Discord would not offer /${parsed.command.name} to ${displayName(state.person.user)}: ${hidden}. The sandbox sends it anyway, so you see the bot's own check.`] : [];
  $("composer-note").textContent = [...notes, ...lookalikes(parsed)].join(" · ");
  state.suggestions = suggest(parsed, { commands: state.commands, person: state.person, people: state.people, channels: state.channels });
  renderSuggestions();
  clearTimeout(state.autocompleteTimer);
  if (parsed.stage === "value" && parsed.current.option.autocomplete) {
    state.autocompleteTimer = setTimeout(() => autocomplete(parsed, text), AUTOCOMPLETE_DELAY_MS);
  }
}

async function autocomplete(parsed, text) {
  const answer = await interact({ kind: "autocomplete", name: parsed.command.name, options: autocompleteOptions(parsed, lookups()) }, { quiet: true });
  if ($("input").value !== text) return; // typed on since: a newer request is coming
  const choices = answer?.type === 8 ? answer.data?.choices || [] : [];
  state.suggestions = choices.length ? choicesAsSuggestions(parsed, choices) : [{ label: "No choices from the bot", pending: true }];
  renderSuggestions();
}

async function send(event) {
  event.preventDefault();
  const input = $("input");
  const text = input.value;
  if (!text.trim()) return;
  const parsed = parse(text, state.commands);
  if (parsed.stage === "message") {
    try {
      await post("messages", { as: state.person.key, content: text });
      input.value = "";
      refresh();
    } catch (error) {
      showError(error.message);
    }
    return;
  }
  const { errors, options } = commandOptions(parsed, lookups());
  if (errors.length) {
    showError(errors.join(" · "));
    return;
  }
  input.value = "";
  state.files = {};
  renderFiles();
  refresh();
  const hidden = availability(parsed.command, state.person);
  if (hidden) {
    $("composer-note").textContent = `Sent /${parsed.path.join(" ")} although Discord would not offer it to ${displayName(state.person.user)} (${hidden}): the bot checks again itself.`;
  }
  await interact({ kind: "command", name: parsed.command.name, options });
}

function keys(event) {
  const count = state.suggestions.length;
  if (event.key === "ArrowDown" && count) {
    state.highlighted = (state.highlighted + 1) % count;
  } else if (event.key === "ArrowUp" && count) {
    state.highlighted = (state.highlighted - 1 + count) % count;
  } else if ((event.key === "Tab" || event.key === "Enter") && count && (state.highlighted >= 0 || event.key === "Tab")) {
    const chosen = state.suggestions[Math.max(state.highlighted, 0)];
    if (chosen.pending) return;
    event.preventDefault();
    pick(chosen);
    return;
  } else if (event.key === "Escape") {
    state.suggestions = [];
  } else return;
  event.preventDefault();
  renderSuggestions();
}

function renderFiles() {
  $("files").replaceChildren(
    ...Object.entries(state.files).map(([name, file]) =>
      el("span", { class: "chip" }, `📎 ${name}: ${file.filename} (${file.size} B) `, el("button", { type: "button", "aria-label": `Remove ${file.filename}`, onclick: () => { delete state.files[name]; renderFiles(); } }, "×")),
    ),
  );
}

async function fileChosen() {
  const picker = $("file-picker");
  const file = picker.files[0];
  if (!file) return;
  const option = picker.dataset.option;
  if (file.size > MAX_FILE_BYTES) {
    // Discord's client refuses it before sending anything; so does the page.
    showError(`${file.name} is over the 10 MiB Discord takes`);
    picker.value = "";
    return;
  }
  try {
    const attachment = await post(`files?filename=${encodeURIComponent(file.name)}`, file, { "Content-Type": file.type || "application/octet-stream" });
    state.files[option] = attachment;
    const input = $("input");
    const from = Number(picker.dataset.from);
    const name = /[\s"]/.test(file.name) ? `"${file.name.replaceAll('"', '\\"')}"` : file.name;
    input.value = `${input.value.slice(0, from)}${name} `;
    renderFiles();
    refresh();
    input.focus();
  } catch (error) {
    delete state.files[option];
    renderFiles();
    showError(`The file could not be attached: ${error.message}`);
  } finally {
    picker.value = "";
  }
}

// -- menus, people, channels, scheduler -------------------------------------------------------

function openMenu(event, type, run) {
  const menu = $("menu");
  const commands = state.commands.filter((c) => c.type === type);
  const items = commands.map((c) => {
    const hidden = availability(c, state.person);
    return el("button", { type: "button", role: "menuitem", class: "menu-item", title: hidden || c.name, onclick: () => { menu.hidden = true; run(c); } }, c.name, hidden ? " (hidden by Discord)" : "");
  });
  menu.replaceChildren(el("div", { class: "menu-title" }, "Apps"), ...(items.length ? items : [el("p", { class: "note" }, "No commands of this kind")]));
  const box = event.currentTarget.getBoundingClientRect();
  menu.style.left = `${Math.min(box.left, window.innerWidth - 220)}px`;
  menu.style.top = `${Math.min(box.bottom + 4, window.innerHeight - 200)}px`;
  menu.hidden = false;
  event.stopPropagation();
}

function choosePerson(key) {
  state.person = state.people.find((p) => p.key === key);
  for (const radio of document.querySelectorAll("#people input")) radio.checked = radio.value === key;
  const channel = state.channels.find((c) => c.id === state.person.channel_id);
  const title = channel.type === 1 ? `@ ${channel.name}` : `# ${channel.name}`;
  $("channel-title").textContent = title;
  $("input").placeholder = `Message ${channel.type === 1 ? "@" : "#"}${channel.name} as ${displayName(state.person.user)}, or type / for the bot's commands`;
  for (const item of document.querySelectorAll("#channels li")) item.classList.toggle("active", item.dataset.id === channel.id);
  schedule();
  refresh();
}

function fire(task) {
  toast(`Firing ${task}…`);
  post("fire", { task })
    .then(() => toast(`Fired ${task}: its post arrives through the scheduler`))
    .catch((e) => toast(e.message));
}

function renderSidebar(data) {
  $("channels").replaceChildren(
    ...state.channels.map((c) =>
      el("li", { "data-id": c.id }, el("button", { type: "button", class: "channel", onclick: () => choosePerson(c.type === 1 ? "dm" : state.person?.guild_id ? state.person.key : "admin") }, c.type === 1 ? `@ ${c.name} (DM)` : `# ${c.name}`)),
    ),
  );
  $("people").replaceChildren(
    ...state.people.map((p) =>
      el("label", { class: "person" }, el("input", { type: "radio", name: "person", value: p.key, onchange: () => choosePerson(p.key) }), el("span", {}, p.label)),
    ),
  );
  const members = [...state.people.filter((p) => p.guild_id).map((p) => p.user), { id: "100000000000000002", username: "bot", global_name: "Bot", bot: true }];
  $("members").replaceChildren(...members.map((u) => el("li", {}, el("button", { type: "button", class: "author", onclick: (e) => actions.userMenu(e, u) }, displayName(u), u.bot ? el("span", { class: "tag" }, "APP") : null))));
  $("tasks").replaceChildren(
    ...data.tasks.map((task) =>
      el("button", { type: "button", class: "button secondary", "data-task": task, onclick: () => fire(task) }, `Run ${task}`),
    ),
  );
  $("notify").querySelector("button").disabled = !data.scheduler;
  $("scheduler-note").textContent = data.scheduler ? "" : "No scheduler here: `make run` starts one.";
  if (!data.registered) toast("No commands registered with the stand-in yet: showing the bot's own declaration.");
}

async function load() {
  const response = await fetch("/_sandbox/state");
  const data = await response.json();
  state.commands = data.commands;
  state.people = data.people;
  state.channels = data.channels;
  state.messages = new Map(data.messages.map((m) => [m.id, m]));
  const key = state.person?.key || "admin";
  renderSidebar(data);
  choosePerson(key);
  $("connection").textContent = data.connected ? "connected to the bot" : "the stand-in has no bot to deliver to (start it with `make run`)";
}

function listen() {
  let opened = false;
  const handle = (kind, data) => {
    if (kind === "open") {
      // After a reconnection, what changed meanwhile is read afresh.
      if (opened) load();
      opened = true;
    } else if (kind === "event") onEvent(JSON.parse(data));
    else $("connection").textContent = "reconnecting to the stand-in…";
  };
  if (window.SharedWorker) {
    const worker = new SharedWorker("/_sandbox/static/events-worker.js", { name: "sandbox-events" });
    worker.port.onmessage = ({ data }) => handle(data.type, data.data);
    worker.port.start();
    window.addEventListener("pagehide", () => worker.port.postMessage("close"));
    return;
  }
  const source = new EventSource("/_sandbox/events");
  source.onopen = () => handle("open");
  source.onmessage = (event) => handle("event", event.data);
  source.onerror = () => handle("error");
}

function wire() {
  $("composer").addEventListener("submit", send);
  $("input").addEventListener("input", refresh);
  $("input").addEventListener("keydown", keys);
  $("input").addEventListener("blur", () => setTimeout(() => { state.suggestions = []; renderSuggestions(); }, 150));
  $("input").addEventListener("focus", refresh);
  $("file-picker").addEventListener("change", fileChosen);
  wireForms((request) => interact(request));
  $("notify").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("notify-text").value.trim();
    if (!text) return;
    toast("Publishing…");
    post("fire", { notify: text, guild_id: state.person.guild_id })
      .then(() => {
        $("notify-text").value = "";
        toast("Published: the webhook post arrives through the scheduler");
      })
      .catch((e) => toast(e.message));
  });
  $("clear").addEventListener("click", () => {
    clearExchanges();
    state.exchanges.clear();
    post("clear", { channel_id: state.person.channel_id }).catch((e) => toast(e.message));
  });
  $("toggle-inspector").addEventListener("click", (event) => {
    const shown = document.body.classList.toggle("no-inspector") === false;
    event.currentTarget.setAttribute("aria-pressed", String(shown));
  });
  document.addEventListener("click", (event) => {
    if (!$("menu").contains(event.target)) $("menu").hidden = true;
  });
}

wire();
if (window.innerWidth < 1100) document.body.classList.add("no-inspector");
await load();
listen();
