// Showing a mutation's userErrors where they belong: beside their field (on its tab), else above the page.

import { fieldKey } from "./api.js";
import * as messages from "./messages.js";

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
