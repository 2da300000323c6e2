// The composer's language: the text form of a slash command that Discord's client accepts when
// pasted (`/config set key:reminder value:"two words"`), read against the registered commands.
// Pure functions: what was typed, what to suggest next, and the options Discord would send.

export const OPTION = {
  SUB_COMMAND: 1,
  SUB_COMMAND_GROUP: 2,
  STRING: 3,
  INTEGER: 4,
  BOOLEAN: 5,
  USER: 6,
  CHANNEL: 7,
  ROLE: 8,
  MENTIONABLE: 9,
  NUMBER: 10,
  ATTACHMENT: 11,
};
const TYPE_NAMES = {
  3: "text",
  4: "integer",
  5: "True or False",
  6: "user",
  7: "channel",
  8: "role",
  9: "user or role",
  10: "number",
  11: "file",
};
const ADMINISTRATOR = 1n << 3n;
// Interaction contexts (docs, "Interaction Context Types"): a server, the bot's DM.
const GUILD = 0;
const BOT_DM = 1;
const NAME = /([\p{L}\p{N}_-]+):/uy;

export function typeName(option) {
  return TYPE_NAMES[option.type] ?? "value";
}

// Whether Discord's client offers `command` to `person`, and why not when it does not.
export function availability(command, person) {
  const inGuild = Boolean(person.guild_id);
  const contexts = command.contexts;
  if (Array.isArray(contexts) && !contexts.includes(inGuild ? GUILD : BOT_DM)) {
    return inGuild ? "it is not offered in servers" : "it works only in servers";
  }
  if (!inGuild && command.dm_permission === false) return "it works only in servers";
  const required = command.default_member_permissions;
  if (inGuild && required !== undefined && required !== null) {
    const have = BigInt(person.permissions || "0");
    const need = BigInt(required);
    if (need === 0n) return "it is disabled for everyone but administrators";
    if ((have & ADMINISTRATOR) === 0n && (have & need) !== need) {
      return "its default_member_permissions ask for permissions this member lacks";
    }
  }
  return null;
}

const isGroup = (o) => o.type === OPTION.SUB_COMMAND || o.type === OPTION.SUB_COMMAND_GROUP;

function word(text, at) {
  const rest = text.slice(at);
  const m = /^(\S*)/.exec(rest);
  return { value: m[1], end: at + m[1].length, ended: at + m[1].length < text.length };
}

function skipSpaces(text, at) {
  while (at < text.length && /\s/.test(text[at])) at += 1;
  return at;
}

// `name:value` pairs after the command's path. A value runs to the next `known:` that starts a
// word, unless quoted ("two words", with \" inside); a non-text value ends at a space.
function readOptions(text, at, options) {
  const names = new Map(options.map((o) => [o.name, o]));
  const given = [];
  let free = "";
  let freeStart = null;
  let current = null;
  let i = at;
  while (i < text.length) {
    const char = text[i];
    const open = current && current.quoted && !current.closed;
    if (!open && (i === at || /\s/.test(text[i - 1]))) {
      NAME.lastIndex = i;
      const m = NAME.exec(text);
      if (m && names.has(m[1])) {
        current = { name: m[1], option: names.get(m[1]), raw: "", start: i, valueStart: i + m[0].length, quoted: false, closed: false };
        given.push(current);
        i += m[0].length;
        if (text[i] === '"') {
          current.quoted = true;
          i += 1;
        }
        continue;
      }
    }
    if (current && !current.closed) {
      if (current.quoted) {
        if (char === "\\" && text[i + 1] === '"') {
          current.raw += '"';
          i += 2;
          continue;
        }
        if (char === '"') {
          current.closed = true;
          i += 1;
          continue;
        }
      } else if (/\s/.test(char) && current.option.type !== OPTION.STRING) {
        current.closed = true;
        i += 1;
        continue;
      }
      current.raw += char;
    } else if (!/\s/.test(char) || free) {
      if (freeStart === null) freeStart = i;
      free += char;
    }
    i += 1;
  }
  for (const g of given) if (!g.quoted) g.raw = g.raw.trim();
  return { given, free: free.trim(), freeStart };
}

// What the text says so far, and where the user is in it (the cursor is at the end).
export function parse(text, commands) {
  if (!text.startsWith("/")) return { stage: "message" };
  const first = word(text, 1);
  const command = commands.find((c) => (c.type ?? 1) === 1 && c.name === first.value.toLowerCase());
  // A name typed in full is taken even before a space: pasted "/feedback" is a command.
  if (!command) {
    return { stage: "command", partial: first.value, from: 1, unknown: first.ended ? first.value : null };
  }
  const path = [command.name];
  let node = command;
  let at = skipSpaces(text, first.end);
  while ((node.options || []).some(isGroup)) {
    const next = word(text, at);
    const sub = node.options.find((o) => isGroup(o) && o.name === next.value.toLowerCase());
    if (!sub) {
      return { stage: "sub", command, path, node, partial: next.value, from: at, unknown: next.ended ? next.value : null };
    }
    path.push(sub.name);
    node = sub;
    at = skipSpaces(text, next.end);
  }
  const leaves = node.options || [];
  const { given, free, freeStart } = readOptions(text, at, leaves);
  const last = given.at(-1);
  const trailingSpace = /\s$/.test(text);
  const parsed = { command, path, node, leaves, given, free, freeStart };
  if (last && !last.closed && (last.quoted || !trailingSpace) && freeStart === null) {
    return { ...parsed, stage: "value", current: last, partial: last.raw, from: last.valueStart };
  }
  const partial = trailingSpace ? "" : free.split(/\s+/).at(-1) || "";
  return { ...parsed, stage: "option", partial, from: text.length - partial.length };
}

function quoted(value) {
  const text = String(value);
  return /[\s"]/.test(text) || text === "" ? `"${text.replaceAll('"', '\\"')}"` : text;
}

function remaining(parsed) {
  const used = new Set(parsed.given.map((g) => g.name));
  return parsed.leaves.filter((o) => !used.has(o.name)).sort((a, b) => Number(Boolean(b.required)) - Number(Boolean(a.required)));
}

// What to offer below the composer: each item replaces the text from `from` with `insert`.
export function suggest(parsed, { commands, person, people, channels }) {
  const prefix = (parsed.partial || "").toLowerCase();
  switch (parsed.stage) {
    case "command":
      return commands
        .filter((c) => (c.type ?? 1) === 1 && c.name.startsWith(prefix) && availability(c, person) === null)
        .map((c) => ({ label: `/${c.name}`, description: c.description, from: 1, insert: `${c.name} ` }));
    case "sub":
      return parsed.node.options
        .filter((o) => isGroup(o) && o.name.startsWith(prefix))
        .map((o) => ({ label: `/${[...parsed.path, o.name].join(" ")}`, description: o.description, from: parsed.from, insert: `${o.name} ` }));
    case "option":
      return remaining(parsed)
        .filter((o) => o.name.startsWith(prefix))
        .map((o) => ({ label: `${o.name}:`, description: `${o.required ? "required" : "optional"} ${typeName(o)}: ${o.description}`, from: parsed.from, insert: `${o.name}:` }));
    case "value": {
      const option = parsed.current.option;
      const value = (choice) => ({ from: parsed.from, insert: `${quoted(choice)} ` });
      let items = [];
      if (option.choices?.length) {
        items = option.choices
          .filter((c) => c.name.toLowerCase().includes(prefix) || String(c.value).toLowerCase().includes(prefix))
          .map((c) => ({ label: c.name, description: String(c.value) === c.name ? "" : String(c.value), ...value(c.name) }));
      } else if (option.type === OPTION.BOOLEAN) {
        items = ["True", "False"].filter((v) => v.toLowerCase().startsWith(prefix)).map((v) => ({ label: v, ...value(v) }));
      } else if (option.type === OPTION.USER || option.type === OPTION.MENTIONABLE) {
        items = people.map((p) => ({ label: `@${p.user.global_name || p.user.username}`, description: p.user.id, ...value(`<@${p.user.id}>`) }));
      } else if (option.type === OPTION.CHANNEL) {
        items = channels.filter((c) => c.type === 0).map((c) => ({ label: `#${c.name}`, description: c.id, ...value(`<#${c.id}>`) }));
      } else if (option.type === OPTION.ATTACHMENT) {
        items = [{ label: "📎 Choose a file…", description: option.description, pick: option.name, from: parsed.from, insert: "" }];
      } else if (option.autocomplete) {
        items = [{ label: "Asking the bot…", description: "autocomplete", pending: true }];
      }
      // Unquoted text runs on: its last word may be the start of the next option's name.
      if (!parsed.current.quoted && option.type === OPTION.STRING && /\s/.test(parsed.partial)) {
        const tail = parsed.partial.split(/\s+/).at(-1).toLowerCase();
        if (tail) {
          const from = parsed.from + parsed.partial.length - tail.length;
          for (const o of remaining(parsed).filter((o) => o.name.startsWith(tail))) {
            items.push({ label: `${o.name}:`, description: `${typeName(o)}: ${o.description}`, from, insert: `${o.name}:` });
          }
        }
      }
      return items;
    }
    default:
      return [];
  }
}

export function choicesAsSuggestions(parsed, choices) {
  return choices.map((c) => ({ label: c.name, from: parsed.from, insert: `${quoted(c.value)} ` }));
}

function convert(option, raw, { people, channels, files }) {
  const fail = (why) => ({ error: `${option.name}: ${why}` });
  if (option.choices?.length) {
    const choice = option.choices.find((c) => c.name.toLowerCase() === raw.toLowerCase() || String(c.value).toLowerCase() === raw.toLowerCase());
    if (!choice) return fail(`one of ${option.choices.map((c) => c.name).join(", ")}`);
    return { value: choice.value };
  }
  switch (option.type) {
    case OPTION.INTEGER:
    case OPTION.NUMBER: {
      const number = option.type === OPTION.INTEGER ? (/^-?\d+$/.test(raw) ? Number(raw) : NaN) : Number(raw);
      if (raw === "" || !Number.isFinite(number)) return fail(`${typeName(option)} expected, got "${raw}"`);
      if (option.min_value !== undefined && number < option.min_value) return fail(`at least ${option.min_value}`);
      if (option.max_value !== undefined && number > option.max_value) return fail(`at most ${option.max_value}`);
      return { value: number };
    }
    case OPTION.BOOLEAN: {
      const v = raw.toLowerCase();
      if (["true", "yes", "1"].includes(v)) return { value: true };
      if (["false", "no", "0"].includes(v)) return { value: false };
      return fail("True or False");
    }
    case OPTION.USER:
    case OPTION.MENTIONABLE: {
      const id = /^<@!?(\d+)>$/.exec(raw)?.[1] ?? people.find((p) => [p.user.id, p.user.username, `@${p.user.username}`].includes(raw))?.user.id;
      return id ? { value: id } : fail(`a user shown on this page, got "${raw}"`);
    }
    case OPTION.CHANNEL: {
      const id = /^<#(\d+)>$/.exec(raw)?.[1] ?? channels.find((c) => [c.id, c.name, `#${c.name}`].includes(raw))?.id;
      return id ? { value: id } : fail(`a channel shown on this page, got "${raw}"`);
    }
    case OPTION.ROLE:
      return /^<@&(\d+)>$/.test(raw) || /^\d+$/.test(raw) ? { value: raw.replace(/\D/g, "") } : fail("a role id");
    case OPTION.ATTACHMENT: {
      const file = files[option.name];
      return file && file.filename === raw ? { value: file.id } : fail("choose a file (the suggestion under the composer opens a file picker)");
    }
    default: {
      const length = [...raw].length; // characters, as Discord counts them, not UTF-16 units
      if (option.min_length !== undefined && length < option.min_length) return fail(`at least ${option.min_length} characters`);
      if (option.max_length !== undefined && length > option.max_length) return fail(`at most ${option.max_length} characters`);
      return { value: raw };
    }
  }
}

function nest(path, leaves, parsed) {
  let options = leaves;
  let node = parsed.command;
  const chain = [];
  for (const name of path.slice(1)) {
    node = node.options.find((o) => o.name === name);
    chain.push(node);
  }
  for (const sub of chain.reverse()) options = [{ type: sub.type, name: sub.name, options }];
  return options;
}

// The command interaction's `data.options`, or the errors Discord's client would show instead.
export function commandOptions(parsed, lookups) {
  if (parsed.stage === "message") return { errors: [] };
  if (parsed.stage === "command") {
    return { errors: [parsed.partial ? `There is no command /${parsed.partial}` : "Type a command's name after /"] };
  }
  if (parsed.stage === "sub") {
    const names = parsed.node.options.filter(isGroup).map((o) => o.name).join(", ");
    return { errors: [`/${parsed.path.join(" ")} needs one of: ${names}`] };
  }
  const errors = [];
  if (parsed.free) errors.push(`"${parsed.free}" is not an option of /${parsed.path.join(" ")} (options are written name:value)`);
  const leaves = [];
  const seen = new Set();
  for (const g of parsed.given) {
    // Discord's client takes each option once, and never sends one left empty.
    if (seen.has(g.name)) {
      errors.push(`${g.name} is given twice`);
      continue;
    }
    seen.add(g.name);
    if (g.quoted && !g.closed) {
      errors.push(`${g.name}: the quote is not closed`);
      continue;
    }
    if (g.raw.trim() === "") {
      errors.push(`${g.name} is empty`);
      continue;
    }
    const converted = convert(g.option, g.raw, lookups);
    if (converted.error) errors.push(converted.error);
    else leaves.push({ name: g.name, type: g.option.type, value: converted.value });
  }
  for (const option of parsed.leaves) {
    if (option.required && !parsed.given.some((g) => g.name === option.name)) errors.push(`${option.name} is required`);
  }
  return { errors, options: nest(parsed.path, leaves, parsed) };
}

// Words in a text value that look like a mistyped option ("language:French" where /translate
// has "to"): Discord's client sends them as part of the text, so the page only says so.
export function lookalikes(parsed) {
  const found = [];
  for (const g of parsed.given || []) {
    if (g.quoted || g.option.type !== OPTION.STRING) continue;
    for (const m of g.raw.matchAll(/(?:^|\s)([a-z_][a-z0-9_-]*):(?=\S)(?!\/\/)/g)) {
      found.push(`"${m[1]}:" is not an option of /${parsed.path.join(" ")} (it has ${parsed.leaves.map((o) => o.name).join(", ")}): it is sent as part of ${g.name}`);
    }
  }
  return found;
}

// An autocomplete interaction's options: what is typed so far, the option being typed focused
// (its value the text as typed, as Discord sends it), the others as far as they convert.
export function autocompleteOptions(parsed, lookups) {
  const leaves = [];
  for (const g of parsed.given) {
    if (g === parsed.current) {
      leaves.push({ name: g.name, type: g.option.type, value: g.raw, focused: true });
      continue;
    }
    const converted = convert(g.option, g.raw, lookups);
    if (!converted.error) leaves.push({ name: g.name, type: g.option.type, value: converted.value });
  }
  return nest(parsed.path, leaves, parsed);
}
