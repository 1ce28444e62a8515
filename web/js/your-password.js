// Magento's "Current User Identity Verification": the admin's own password, asked again on every
// integration write (save, activate, reauthorize, delete). A wrong one is shown beside the field and
// counts toward the admin's lock-out.

import { fieldKey } from "./api.js";
import { field, h } from "./dom.js";

export const IDENTITY_VERIFICATION = "Current User Identity Verification";

/** The "Your Password" form row ({ row, control, setError }). */
export function yourPasswordField() {
  return field({
    label: "Your Password",
    control: h("input", { type: "password", name: "currentPassword", autocomplete: "current-password" }),
    required: true,
  });
}

/** Whether a userError is about Your Password (`currentPassword`, or `input.currentPassword`). */
export function isPasswordError(error) {
  const key = fieldKey(error);
  return key === "currentPassword" || key === "input.currentPassword";
}
