// Forms: a MODAL answer opens as a dialog; its submission goes back as a MODAL_SUBMIT.

import { el } from "./markdown.js";
import { COMPONENT } from "./message.js";

const $ = (id) => document.getElementById(id);

function modalField(component) {
  const inner = component.type === COMPONENT.LABEL ? component.component : component;
  const label = component.type === COMPONENT.LABEL ? component.label : inner.label;
  const required = inner.required !== false;
  let control;
  if (inner.type === COMPONENT.TEXT_INPUT) {
    const attrs = {
      name: inner.custom_id,
      id: `field-${inner.custom_id}`,
      required,
      minlength: inner.min_length,
      maxlength: inner.max_length,
      placeholder: inner.placeholder,
    };
    control = inner.style === 2 ? el("textarea", { ...attrs, rows: 4 }, inner.value || "") : el("input", { ...attrs, value: inner.value || "" });
  } else if (inner.type === COMPONENT.STRING_SELECT) {
    control = el("select", { name: inner.custom_id, id: `field-${inner.custom_id}`, required, multiple: (inner.max_values ?? 1) > 1, "data-select": "1" });
    for (const o of inner.options || []) control.append(el("option", { value: o.value, selected: o.default }, o.label));
  } else {
    return el("p", { class: "note" }, `(a form component of type ${inner.type}, which this page does not draw)`);
  }
  return el(
    "label",
    { class: "field", for: control.id },
    el("span", { class: "field-label" }, label || inner.custom_id, required ? el("span", { class: "required" }, " *") : null),
    component.description ? el("span", { class: "field-description" }, component.description) : null,
    control,
  );
}

export function openModal(data, messageId) {
  const dialog = $("modal");
  $("modal-title").textContent = data.title;
  const fields = [];
  for (const component of data.components || []) {
    if (component.type === COMPONENT.ACTION_ROW) fields.push(...(component.components || []).map(modalField));
    else if (component.type === COMPONENT.TEXT_DISPLAY) fields.push(el("p", { class: "text-display" }, component.content));
    else fields.push(modalField(component));
  }
  $("modal-fields").replaceChildren(...fields);
  dialog.dataset.customId = data.custom_id;
  dialog.dataset.messageId = messageId || "";
  dialog.showModal();
}

async function submitModal(event, send) {
  event.preventDefault();
  const dialog = $("modal");
  const form = $("modal-form");
  if (!form.reportValidity()) return;
  const fields = {};
  for (const control of form.querySelectorAll("[name]")) {
    fields[control.name] = control.dataset.select ? [...control.selectedOptions].map((o) => o.value) : control.value;
  }
  dialog.close();
  await send({ kind: "modal", custom_id: dialog.dataset.customId, fields, message_id: dialog.dataset.messageId || undefined });
}

export function wireForms(send) {
  $("modal-form").addEventListener("submit", (event) => submitModal(event, send));
  $("modal-cancel").addEventListener("click", () => $("modal").close());
}
