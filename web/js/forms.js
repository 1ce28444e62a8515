// Showing a mutation's userErrors where they belong: beside their field (on its tab), else above the page.

import { fieldKey } from "./api.js";
import { h } from "./dom.js";
import * as messages from "./messages.js";
import { confirmWithPassword, isPasswordError } from "./your-password.js";

/**
 * `targets`: { "input.name": {field, tab?}, ... } where `field` has setError() and control. Errors
 * without a target become page messages. The first field with an error is shown (its tab) and focused.
 * Returns true when there were errors.
 */
export function showUserErrors(userErrors, targets, showTab = () => {}) {
  let first = null;
  for (const error of userErrors) {
    const target = targets[fieldKey(error)];
    if (target) {
      target.field.setError(error.message);
      first = first || target;
    } else {
      messages.notify("error", error.message);
    }
  }
  if (first) {
    if (first.tab) showTab(first.tab);
    first.field.control.focus();
  }
  return userErrors.length > 0;
}

/** Clear the error of every target. */
export function clearErrors(targets) {
  for (const target of Object.values(targets)) target.field.setError("");
}

/**
 * Save a form through one mutation: `run()` sends it and returns its payload ({ userErrors, ... }).
 * Errors go beside their fields (a wrong Your Password is cleared); on success a message is flashed and
 * the page goes to `back`. The save button is disabled while the request runs.
 */
export async function saveThrough({ run, saveButton, password, targets, showTab, saved, back }) {
  saveButton.disabled = true;
  try {
    const result = await run();
    if (result.userErrors.length) {
      if (result.userErrors.some(isPasswordError)) password.control.value = "";
      showUserErrors(result.userErrors, targets, showTab);
      return;
    }
    messages.flash("success", saved);
    location.hash = back;
  } catch (error) {
    messages.reportError(error);
  } finally {
    saveButton.disabled = false;
  }
}

/** The page's form: its title, action buttons and tabs; submitting it calls `onSubmit`. */
export function editForm(className, title, buttons, tabs, onSubmit) {
  const form = h(
    "form",
    { class: className, novalidate: true, "aria-labelledby": "page-title" },
    h("div", { class: "page-header" }, h("h1", { id: "page-title", text: title }), h("div", { class: "page-actions" }, buttons)),
    tabs.element,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    onSubmit();
  });
  return form;
}

/** Delete after asking for Your Password: `run(currentPassword)` returns the payload's userErrors. */
export async function deleteThrough({ message, run, deleted, back }) {
  messages.clear();
  if (await confirmWithPassword({ message, action: run })) {
    messages.flash("success", deleted);
    location.hash = back;
  }
}
