// The inspector: each interaction the page sent, the answer, and what the bot then asked of
// "Discord" for it, as JSON, newest first.

import { el } from "./markdown.js";

const $ = (id) => document.getElementById(id);
const INTERACTION_TYPES = { 1: "PING", 2: "APPLICATION_COMMAND", 3: "MESSAGE_COMPONENT", 4: "APPLICATION_COMMAND_AUTOCOMPLETE", 5: "MODAL_SUBMIT" };
const RESPONSE_TYPES = { 1: "PONG", 4: "CHANNEL_MESSAGE_WITH_SOURCE", 5: "DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE", 6: "DEFERRED_UPDATE_MESSAGE", 7: "UPDATE_MESSAGE", 8: "APPLICATION_COMMAND_AUTOCOMPLETE_RESULT", 9: "MODAL" };

function json(value) {
  return el("pre", { class: "json" }, JSON.stringify(value, null, 2));
}

export function addExchange({ title, status, sections }) {
  const following = el("ol", { class: "following" });
  const count = el("span", { class: "count" });
  const entry = el(
    "li",
    { class: `exchange ${status && status !== 200 ? "bad" : ""}` },
    el("details", {}, el("summary", {}, title, count), ...sections.map(([name, value]) => el("div", { class: "section" }, el("h3", {}, name), json(value))), following),
  );
  entry.following = following;
  entry.count = count;
  $("exchanges").prepend(entry);
  return entry;
}

export function addFollowing(entry, event) {
  const requests = entry.following.children.length + 1;
  entry.count.textContent = ` · then ${requests} request${requests === 1 ? "" : "s"} from the bot`;
  entry.following.append(el("li", {}, el("details", {}, el("summary", {}, `then the bot: ${event.route} → ${event.status || event.kind}`), event.body ? json(event.body) : el("p", { class: "note" }, event.kind))));
}

function commandPath(data) {
  const words = [data.name];
  let options = data.options || [];
  while (options.length && (options[0].type === 1 || options[0].type === 2)) {
    words.push(options[0].name);
    options = options[0].options || [];
  }
  return words.join(" ");
}

export function describe(payload, result) {
  const data = payload.data || {};
  const what = data.name ? (data.type === 1 ? `/${commandPath(data)}` : data.name) : data.custom_id ? data.custom_id.split(":")[0] : "";
  const answer = result.response ? RESPONSE_TYPES[result.response.type] || result.response.type : result.error || "no answer";
  return `${INTERACTION_TYPES[payload.type]} ${what} → ${result.status || "—"} ${answer} (${result.elapsed_ms} ms)`;
}

export function clearExchanges() {
  $("exchanges").replaceChildren();
}
