// One message as Discord's client draws it: author, the command it answers, content, embeds,
// attachments and components; "thinking…" while deferred, "Only you can see this" if ephemeral.

import { el, markdown, safeUrl } from "./markdown.js";

// Discord's numbers (docs, "Message Object", "Component Reference").
export const EPHEMERAL = 1 << 6;
export const LOADING = 1 << 7;
export const COMPONENT = {
  ACTION_ROW: 1,
  BUTTON: 2,
  STRING_SELECT: 3,
  TEXT_INPUT: 4,
  USER_SELECT: 5,
  ROLE_SELECT: 6,
  MENTIONABLE_SELECT: 7,
  CHANNEL_SELECT: 8,
  SECTION: 9,
  TEXT_DISPLAY: 10,
  SEPARATOR: 14,
  CONTAINER: 17,
  LABEL: 18,
};
const BUTTON_STYLES = { 1: "primary", 2: "secondary", 3: "success", 4: "danger", 5: "link", 6: "premium" };

export function displayName(user) {
  return String((user && (user.global_name || user.username || user.id)) || "unknown");
}

function emoji(component) {
  const e = component.emoji;
  if (!e) return null;
  return el("span", { class: "emoji", title: e.name }, e.id ? `:${e.name}:` : e.name);
}

function formatSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

// Images only from the stand-in itself: the page loads nothing from elsewhere (and works offline).
function localImage(url, attachments) {
  if (typeof url !== "string") return null;
  if (url.startsWith("attachment://")) {
    const name = url.slice("attachment://".length);
    return attachments.find((a) => a.filename === name)?.url ?? null;
  }
  const href = safeUrl(url);
  return href && new URL(href).origin === window.location.origin ? href : null;
}

function image(url, attachments, cls, alt) {
  const local = localImage(url, attachments);
  if (local) return el("img", { class: cls, src: local, alt: alt || "", loading: "lazy" });
  const href = safeUrl(url);
  return href ? el("a", { class: `${cls} remote`, href, target: "_blank", rel: "noopener" }, `🖼 ${alt || href}`) : null;
}

function renderEmbed(embed, attachments, ctx) {
  const colour = typeof embed.color === "number" ? `#${embed.color.toString(16).padStart(6, "0")}` : null;
  const box = el("div", { class: "embed" });
  if (colour) box.style.borderLeftColor = colour;
  const body = el("div", { class: "embed-body" });
  if (embed.author?.name) {
    body.append(el("div", { class: "embed-author" }, embed.author.url && safeUrl(embed.author.url) ? el("a", { href: safeUrl(embed.author.url), target: "_blank", rel: "noopener" }, embed.author.name) : embed.author.name));
  }
  if (embed.title) {
    const href = embed.url ? safeUrl(embed.url) : null;
    body.append(el("div", { class: "embed-title" }, href ? el("a", { href, target: "_blank", rel: "noopener" }, embed.title) : embed.title));
  }
  if (embed.description) body.append(el("div", { class: "embed-description" }, markdown(embed.description, ctx)));
  if (embed.fields?.length) {
    const fields = el("div", { class: "embed-fields" });
    for (const field of embed.fields) {
      fields.append(
        el("div", { class: field.inline ? "embed-field inline" : "embed-field" }, el("div", { class: "embed-field-name" }, markdown(field.name, ctx)), el("div", { class: "embed-field-value" }, markdown(field.value, ctx))),
      );
    }
    body.append(fields);
  }
  if (embed.image?.url) body.append(image(embed.image.url, attachments, "embed-image", "image"));
  const footer = [embed.footer?.text, embed.timestamp ? new Date(embed.timestamp).toLocaleString() : null].filter(Boolean);
  if (footer.length) body.append(el("div", { class: "embed-footer" }, footer.join(" • ")));
  box.append(body);
  if (embed.thumbnail?.url) box.append(image(embed.thumbnail.url, attachments, "embed-thumbnail", "thumbnail"));
  return box;
}

function renderAttachment(attachment) {
  const type = attachment.content_type || "";
  if (type.startsWith("image/")) {
    return el("a", { class: "attachment image", href: attachment.url, target: "_blank", rel: "noopener" }, el("img", { src: attachment.url, alt: attachment.description || attachment.filename }));
  }
  return el(
    "div",
    { class: "attachment file" },
    el("span", { class: "file-icon" }, "📄"),
    el("a", { href: attachment.url, download: attachment.filename }, attachment.filename),
    el("span", { class: "file-size" }, formatSize(attachment.size || 0)),
  );
}

function selectOptions(component, ctx) {
  switch (component.type) {
    case COMPONENT.STRING_SELECT:
      return (component.options || []).map((o) => ({ label: o.label, value: o.value, description: o.description, default: o.default }));
    case COMPONENT.USER_SELECT:
      return ctx.people.map((p) => ({ label: displayName(p.user), value: p.user.id }));
    case COMPONENT.CHANNEL_SELECT:
      return ctx.channelList.filter((c) => c.type === 0).map((c) => ({ label: `#${c.name}`, value: c.id }));
    case COMPONENT.MENTIONABLE_SELECT:
      return ctx.people.map((p) => ({ label: `@${displayName(p.user)}`, value: p.user.id }));
    default:
      return [];
  }
}

function renderSelect(component, message, ctx, act) {
  const many = (component.max_values ?? 1) > 1;
  const select = el("select", {
    class: "select-menu",
    "data-custom-id": component.custom_id,
    disabled: component.disabled || message.__busy,
    multiple: many,
    "aria-label": component.placeholder || "Make a selection",
  });
  const options = selectOptions(component, ctx);
  const chosen = options.some((o) => o.default);
  if (!many) select.append(el("option", { value: "", disabled: true, selected: !chosen }, component.placeholder || "Make a selection"));
  for (const option of options) {
    select.append(el("option", { value: option.value, title: option.description || null, selected: Boolean(option.default) }, option.label));
  }
  const send = () => {
    const values = [...select.selectedOptions].map((o) => o.value).filter(Boolean);
    if (values.length < (component.min_values ?? 1)) return;
    act({ kind: "click", message_id: message.id, custom_id: component.custom_id, component_type: component.type, values });
  };
  if (!many) {
    select.addEventListener("change", send);
    return select;
  }
  return el("div", { class: "select-many" }, select, el("button", { type: "button", class: "button secondary", onclick: send }, "Choose"));
}

function renderButton(component, message, act) {
  const style = BUTTON_STYLES[component.style] || "secondary";
  const label = [emoji(component), component.label ? el("span", {}, component.label) : null];
  if (component.style === 5) {
    const href = safeUrl(component.url);
    return el("a", { class: "button link", href, target: "_blank", rel: "noopener", "aria-disabled": component.disabled ? "true" : null }, label, el("span", { class: "external" }, " ↗"));
  }
  return el(
    "button",
    {
      type: "button",
      class: `button ${style}`,
      disabled: component.disabled || message.__busy,
      "data-custom-id": component.custom_id,
      onclick: () => act({ kind: "click", message_id: message.id, custom_id: component.custom_id, component_type: COMPONENT.BUTTON }),
    },
    label,
  );
}

export function renderComponents(components, message, ctx, act) {
  const out = [];
  for (const component of components || []) {
    switch (component.type) {
      case COMPONENT.ACTION_ROW:
        out.push(el("div", { class: "action-row" }, renderComponents(component.components, message, ctx, act)));
        break;
      case COMPONENT.BUTTON:
        out.push(renderButton(component, message, act));
        break;
      case COMPONENT.STRING_SELECT:
      case COMPONENT.USER_SELECT:
      case COMPONENT.ROLE_SELECT:
      case COMPONENT.MENTIONABLE_SELECT:
      case COMPONENT.CHANNEL_SELECT:
        out.push(renderSelect(component, message, ctx, act));
        break;
      case COMPONENT.TEXT_DISPLAY:
        out.push(el("div", { class: "text-display" }, markdown(component.content || "", ctx)));
        break;
      case COMPONENT.SECTION:
        out.push(el("div", { class: "section" }, el("div", {}, renderComponents(component.components, message, ctx, act)), component.accessory ? renderComponents([component.accessory], message, ctx, act) : null));
        break;
      case COMPONENT.CONTAINER:
        out.push(el("div", { class: "container" }, renderComponents(component.components, message, ctx, act)));
        break;
      case COMPONENT.SEPARATOR:
        out.push(el("hr", { class: "separator" }));
        break;
      default:
        out.push(el("div", { class: "unsupported" }, `(a component of type ${component.type}, which this page does not draw)`));
    }
  }
  return out;
}

// As Discord writes it: "Today at 10:06 PM", else the date and time.
function sentAt(when) {
  const time = when.toLocaleTimeString([], { hour: "numeric", minute: "2-digit" });
  return when.toDateString() === new Date().toDateString() ? `Today at ${time}` : `${when.toLocaleDateString()} ${time}`;
}

function header(message, actions) {
  const author = message.author || {};
  const name = displayName(author);
  const tag = message.webhook_id ? "WEBHOOK" : author.bot ? "APP" : null;
  const when = new Date(message.timestamp || Date.now());
  return el(
    "div",
    { class: "message-header" },
    el("button", { type: "button", class: "author", title: author.id, onclick: (e) => actions.userMenu(e, author) }, name),
    tag ? el("span", { class: "tag" }, tag) : null,
    el("time", { class: "sent-at", datetime: when.toISOString(), title: when.toLocaleString() }, sentAt(when)),
  );
}

function invocation(message) {
  const used = message.interaction;
  if (!used) return null;
  // Slash commands have lowercase names; context-menu commands are named as they are shown.
  const slash = /^[\p{Ll}\p{N}_-]+$/u.test((used.name || "").split(" ")[0]);
  const what = used.name ? `${slash ? "/" : ""}${used.name}` : used.type === 5 ? "a form" : "a component";
  return el("div", { class: "invocation" }, el("span", { class: "mention" }, `@${displayName(used.user)}`), " used ", el("span", { class: "command-name" }, what));
}

export function renderMessage(message, ctx, actions) {
  const flags = message.flags || 0;
  const attachments = message.attachments || [];
  const item = el("li", {
    class: ["message", flags & EPHEMERAL ? "ephemeral" : "", message.author?.bot ? "from-bot" : "", message.webhook_id ? "from-webhook" : ""].join(" ").trim(),
    "data-id": message.id,
  });
  item.append(el("div", { class: "avatar", "aria-hidden": "true" }, displayName(message.author).slice(0, 1).toUpperCase()));
  const body = el("div", { class: "message-body" }, invocation(message), header(message, actions));
  if (flags & LOADING) {
    body.append(el("div", { class: "thinking" }, `${displayName(message.author)} is thinking`, el("span", { class: "dots" }, "…")));
  } else {
    if (message.content) body.append(el("div", { class: "content" }, markdown(message.content, ctx), message.edited_timestamp ? el("span", { class: "edited" }, " (edited)") : null));
    for (const embed of message.embeds || []) body.append(renderEmbed(embed, attachments, ctx));
    if (attachments.length) body.append(el("div", { class: "attachments" }, attachments.map(renderAttachment)));
    if (message.components?.length) body.append(el("div", { class: "components" }, renderComponents(message.components, message, ctx, actions.act)));
  }
  if (message.__failed) body.append(el("div", { class: "failed", role: "alert" }, message.__failed));
  if (flags & EPHEMERAL) {
    body.append(el("div", { class: "ephemeral-note" }, "👁 Only you can see this • ", el("button", { type: "button", class: "dismiss", onclick: () => actions.dismiss(message) }, "Dismiss message")));
  }
  item.append(body);
  item.append(el("div", { class: "message-tools" }, el("button", { type: "button", class: "apps", title: "Apps", "aria-label": "Apps", onclick: (e) => actions.messageMenu(e, message) }, "⋯")));
  return item;
}
