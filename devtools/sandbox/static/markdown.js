// Discord's markdown, the common part: code blocks, quotes, headings, subtext, lists, and inline
// bold, italics, underline, strikethrough, spoilers, code, links, mentions and timestamps.
// Everything becomes DOM nodes built with textContent: no text ever becomes HTML.

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// Only links a browser should follow: the page never turns javascript: or data: into a link.
export function safeUrl(url) {
  try {
    const parsed = new URL(url, window.location.href);
    return ["http:", "https:"].includes(parsed.protocol) ? parsed.href : null;
  } catch {
    return null;
  }
}

function link(label, url) {
  const href = safeUrl(url);
  if (href === null) return document.createTextNode(label);
  return el("a", { href, target: "_blank", rel: "noopener noreferrer nofollow" }, label);
}

const TIME_STYLES = {
  t: { timeStyle: "short" },
  T: { timeStyle: "medium" },
  d: { dateStyle: "short" },
  D: { dateStyle: "long" },
  f: { dateStyle: "long", timeStyle: "short" },
  F: { dateStyle: "full", timeStyle: "short" },
};

export function relativeTime(date, now = Date.now()) {
  const seconds = Math.round((date.getTime() - now) / 1000);
  const units = [
    ["year", 31536000],
    ["month", 2592000],
    ["day", 86400],
    ["hour", 3600],
    ["minute", 60],
    ["second", 1],
  ];
  const format = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
  for (const [unit, size] of units) {
    if (Math.abs(seconds) >= size || unit === "second") {
      return format.format(Math.round(seconds / size), unit);
    }
  }
  return "";
}

function timestamp(seconds, style) {
  const date = new Date(Number(seconds) * 1000);
  if (Number.isNaN(date.getTime())) return document.createTextNode(`<t:${seconds}:${style}>`);
  const shown =
    style === "R"
      ? relativeTime(date)
      : new Intl.DateTimeFormat(undefined, TIME_STYLES[style] ?? TIME_STYLES.f).format(date);
  return el("time", { class: "timestamp", datetime: date.toISOString(), title: date.toString() }, shown);
}

function mention(kind, id, ctx) {
  if (kind === "user") {
    const user = ctx.users?.[id];
    return el("span", { class: "mention", title: id }, `@${user ? user.global_name || user.username : id}`);
  }
  if (kind === "channel") {
    const channel = ctx.channels?.[id];
    return el("span", { class: "mention", title: id }, `#${channel ? channel.name : id}`);
  }
  return el("span", { class: "mention", title: id }, `@role ${id}`);
}

// Each rule: a sticky pattern tried where the text is, and what it makes of the match.
const INLINE = [
  [/\\([^A-Za-z0-9\s])/y, (m) => document.createTextNode(m[1])],
  [/(`+)([\s\S]*?[^`])\1(?!`)/y, (m) => el("code", { class: "inline" }, m[2])],
  [/\*\*([\s\S]+?)\*\*(?!\*)/y, (m, inner) => el("strong", {}, inner(m[1]))],
  [/__([\s\S]+?)__(?!_)/y, (m, inner) => el("u", {}, inner(m[1]))],
  [/\*(?![\s*])([\s\S]*?[^\s\\])\*(?!\*)/y, (m, inner) => el("em", {}, inner(m[1]))],
  [/_(?!\s)([\s\S]*?[^\s\\])_(?![A-Za-z0-9])/y, (m, inner) => el("em", {}, inner(m[1]))],
  [/~~([\s\S]+?)~~/y, (m, inner) => el("s", {}, inner(m[1]))],
  [
    /\|\|([\s\S]+?)\|\|/y,
    (m, inner) =>
      el("span", { class: "spoiler", title: "Spoiler", onclick: (e) => e.currentTarget.classList.add("shown") }, inner(m[1])),
  ],
  [/\[([^\]\n]+)\]\(\s*<?(https?:\/\/[^\s)>]+)>?\s*\)/y, (m) => link(m[1], m[2])],
  [/<(https?:\/\/[^\s>]+)>/y, (m) => link(m[1], m[1])],
  [/https?:\/\/[^\s<]+[^\s<.,:;"')\]!?]/y, (m) => link(m[0], m[0])],
  [/<@!?(\d+)>/y, (m, _inner, ctx) => mention("user", m[1], ctx)],
  [/<@&(\d+)>/y, (m, _inner, ctx) => mention("role", m[1], ctx)],
  [/<#(\d+)>/y, (m, _inner, ctx) => mention("channel", m[1], ctx)],
  [/@(everyone|here)(?![A-Za-z0-9])/y, (m) => el("span", { class: "mention" }, m[0])],
  [/<t:(-?\d+)(?::([tTdDfFR]))?>/y, (m) => timestamp(m[1], m[2] ?? "f")],
  [/<a?:(\w+):(\d+)>/y, (m) => el("span", { class: "emoji", title: m[1] }, `:${m[1]}:`)],
];

// Where a rule may start: a character that begins one of the patterns above.
const STARTS = new Set(["\\", "`", "*", "_", "~", "|", "[", "<", "h", "@"]);

export function inline(text, ctx = {}) {
  const out = [];
  let plain = "";
  let at = 0;
  const inner = (part) => inline(part, ctx);
  while (at < text.length) {
    const char = text[at];
    let matched = null;
    if (STARTS.has(char) && !(char === "_" && at > 0 && /[A-Za-z0-9]/.test(text[at - 1]))) {
      for (const [pattern, make] of INLINE) {
        pattern.lastIndex = at;
        const m = pattern.exec(text);
        if (m) {
          matched = [m, make];
          break;
        }
      }
    }
    if (matched) {
      if (plain) out.push(document.createTextNode(plain));
      plain = "";
      const [m, make] = matched;
      out.push(make(m, inner, ctx));
      at += m[0].length;
    } else {
      plain += char;
      at += 1;
    }
  }
  if (plain) out.push(document.createTextNode(plain));
  return out;
}

function lines(text, ctx) {
  const out = [];
  const rows = text.split("\n");
  let list = null;
  let quote = null;
  const flush = () => {
    list = null;
    quote = null;
  };
  rows.forEach((row, index) => {
    const last = index === rows.length - 1;
    let m;
    if ((m = /^>>> ?([\s\S]*)$/.exec(row))) {
      const rest = [m[1], ...rows.slice(index + 1)].join("\n");
      out.push(el("blockquote", {}, lines(rest, ctx)));
      rows.length = index + 1; // the rest of the message is the quote
      flush();
      return;
    }
    if ((m = /^> ?(.*)$/.exec(row))) {
      if (quote === null) {
        quote = el("blockquote");
        out.push(quote);
      } else quote.append(el("br"));
      quote.append(...inline(m[1], ctx));
      list = null;
      return;
    }
    if ((m = /^(#{1,3}) (.+)$/.exec(row))) {
      out.push(el(`h${m[1].length}`, { class: "md-heading" }, inline(m[2], ctx)));
      flush();
      return;
    }
    if ((m = /^-# (.+)$/.exec(row))) {
      out.push(el("small", { class: "subtext" }, inline(m[1], ctx)));
      flush();
      return;
    }
    if ((m = /^\s*[-*] (.+)$/.exec(row))) {
      if (list === null) {
        list = el("ul");
        out.push(list);
      }
      list.append(el("li", {}, inline(m[1], ctx)));
      quote = null;
      return;
    }
    flush();
    out.push(...inline(row, ctx));
    if (!last) out.push(el("br"));
  });
  return out;
}

// A whole message's content: code blocks first (nothing inside them is markdown), then lines.
export function markdown(text, ctx = {}) {
  const out = [];
  const fence = /```(?:([\w+#.-]*)\n)?([\s\S]*?)```/g;
  let at = 0;
  let m;
  while ((m = fence.exec(text)) !== null) {
    if (m.index > at) out.push(...lines(text.slice(at, m.index).replace(/\n$/, ""), ctx));
    out.push(el("pre", { class: "codeblock", "data-language": m[1] || null }, el("code", {}, m[2].replace(/\n$/, ""))));
    at = m.index + m[0].length;
    if (text[at] === "\n") at += 1;
  }
  if (at < text.length) out.push(...lines(text.slice(at), ctx));
  return out;
}
