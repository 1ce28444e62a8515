// Building DOM nodes. Data is only ever placed with textContent or properties, never parsed as HTML.

let counter = 0;

/** A page-unique id for pairing labels, notes and error texts with their controls. */
export function uid(prefix = "id") {
  counter += 1;
  return `${prefix}-${counter}`;
}

/**
 * Create an element. `props`: `class`, `text` (textContent), `dataset`, `on<Event>` listeners,
 * DOM properties for non-string values (`disabled`, `checked`, `hidden`, ...), `value`, and any other
 * key as an attribute. Children are nodes or strings (strings become text nodes).
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = Array.isArray(value) ? value.filter(Boolean).join(" ") : value;
    else if (key === "text") el.textContent = String(value);
    else if (key === "value") el.value = String(value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (typeof value !== "string" && key in el) el[key] = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replace all children of `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/**
 * A labelled form row: label, control, optional note, and an error slot tied to the control with
 * aria-describedby. Returns { row, control, error, setError(text) }.
 */
export function field({ label, control, note, required = false }) {
  const id = control.id || uid("field");
  control.id = id;
  const noteEl = note ? h("p", { class: "field-note", id: `${id}-note`, text: note }) : null;
  const error = h("p", { class: "field-error", id: `${id}-error`, hidden: true, role: "alert" });
  const described = [noteEl && noteEl.id, error.id].filter(Boolean).join(" ");
  control.setAttribute("aria-describedby", described);
  if (required) {
    control.required = true;
    control.setAttribute("aria-required", "true");
  }
  const labelEl = h("label", { for: id, class: ["field-label", required && "required"] }, label);
  const row = h("div", { class: "field" }, labelEl, h("div", { class: "field-control" }, control, error, noteEl));
  function setError(text) {
    error.textContent = text || "";
    error.hidden = !text;
    row.classList.toggle("has-error", Boolean(text));
    if (text) control.setAttribute("aria-invalid", "true");
    else control.removeAttribute("aria-invalid");
  }
  return { row, control, error, setError };
}

/** A <select> from [value, label] pairs. */
export function select(options, selected, props = {}) {
  const el = h("select", props, options.map(([value, label]) => h("option", { value }, label)));
  if (selected !== undefined && selected !== null) el.value = selected;
  return el;
}
