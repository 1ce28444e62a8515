// Magento's "Current User Identity Verification": the admin's own password ("Your Password"), asked again
// on every sensitive write (integrations, users, roles, the admin's own account). The server checks it
// first; a wrong one comes back as a userError (INVALID_PASSWORD, "You have entered an invalid password for
// current user.") shown beside the field, and counts toward the admin's lock-out.

import { fieldKey } from "./api.js";
import { openDialog } from "./dialog.js";
import { field, h } from "./dom.js";
import * as messages from "./messages.js";

export const IDENTITY_VERIFICATION = "Current User Identity Verification";
export const REQUIRED = "This is a required field.";

/** The "Your Password" form row ({ row, control, setError, value(), clear() }). */
export function yourPasswordField() {
  const f = field({
    label: "Your Password",
    control: h("input", { type: "password", name: "currentPassword", autocomplete: "current-password" }),
    required: true,
  });
  return {
    ...f,
    value: () => f.control.value,
    clear() {
      f.control.value = "";
      f.setError("");
    },
  };
}

/** The fieldset holding a "Your Password" field, as at the bottom of Magento's forms. */
export function identityFieldset(passwordField) {
  return h("fieldset", { class: "fieldset identity" }, h("legend", { text: IDENTITY_VERIFICATION }), passwordField.row);
}

/** Whether a userError is about Your Password (`currentPassword`, or `input.currentPassword`). */
export function isPasswordError(error) {
  const key = fieldKey(error);
  return key === "currentPassword" || key === "input.currentPassword";
}

/**
 * Check the field is filled before asking the server (Magento's client-side "required"): returns false and
 * shows the message beside it when empty.
 */
export function requirePassword(passwordField) {
  if (passwordField.value()) {
    passwordField.setError("");
    return true;
  }
  passwordField.setError(REQUIRED);
  passwordField.control.focus();
  return false;
}

/**
 * Magento's confirm modal with a "Your Password" field. `action(password)` performs the change and returns
 * its userErrors: a password error stays in the dialog beside the field; other errors close it and are shown
 * on the page. Resolves true when the change was made, false when cancelled or refused.
 */
export function confirmWithPassword({ title = "Are you sure?", message, confirmLabel = "OK", action }) {
  return new Promise((resolve) => {
    const password = yourPasswordField();
    let done = false;
    const form = h("form", { class: "dialog-form", novalidate: true }, h("p", { text: message }), password.row);
    const dialog = openDialog({
      title,
      className: "confirm",
      body: form,
      buttons: [
        { label: "Cancel" },
        { label: confirmLabel, primary: true, onClick: () => submit() },
      ],
      onClose: () => resolve(done),
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      submit();
    });
    password.control.focus();

    async function submit() {
      if (!requirePassword(password)) return;
      dialog.setBusy(true);
      let errors;
      try {
        errors = await action(password.value());
      } catch (error) {
        dialog.close();
        messages.reportError(error);
        return;
      } finally {
        dialog.setBusy(false);
      }
      const own = errors.filter(isPasswordError);
      if (own.length) {
        password.setError(own[0].message);
        password.control.value = "";
        password.control.focus();
        return;
      }
      done = errors.length === 0;
      dialog.close();
      for (const error of errors) messages.notify("error", error.message);
    }
  });
}
