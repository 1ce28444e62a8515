// Page messages (success, error, notice) in the live region above the page content.

import { AuthError } from "./api.js";
import { h, replace } from "./dom.js";

let region = null;
let queued = [];

export function attach(element) {
  region = element;
}

/** Show a message now, under any already shown. */
export function notify(type, text) {
  if (!region) return;
  region.append(
    h("div", { class: `message message-${type}`, role: type === "error" ? "alert" : "status" }, h("span", { text })),
  );
}

/** Show a message on the next page shown (after navigation). */
export function flash(type, text) {
  queued.push({ type, text });
}

/** Called on each navigation: clear old messages, show the queued ones. */
export function showQueued() {
  if (!region) return;
  replace(region);
  const pending = queued;
  queued = [];
  for (const m of pending) notify(m.type, m.text);
}

export function clear() {
  if (region) replace(region);
}

/** Show an error from a request, unless it ended the session (sign-in is showing then). */
export function reportError(error) {
  if (error instanceof AuthError) return;
  notify("error", error && error.message ? error.message : String(error));
}
