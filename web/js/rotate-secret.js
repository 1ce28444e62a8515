// "Rotate secret" on an active integration: a new consumer secret (the OAuth 2.0 client secret), shown once,
// while the old one keeps working for the overlap the admin chooses (rotateIntegrationSecret).

import { fieldKey, gql } from "./api.js";
import { credentialFields } from "./activation.js";
import { openDialog } from "./dialog.js";
import { field, h } from "./dom.js";
import * as messages from "./messages.js";
import { isPasswordError, requirePassword, yourPasswordField } from "./your-password.js";

export const ROTATE_TITLE = "Rotate Secret";
export const NEW_SECRET_TITLE = "New Secret";
export const DEFAULT_OVERLAP_HOURS = 24;
/** The server's limit: 30 days. */
export const MAX_OVERLAP_HOURS = 30 * 24;
export const OVERLAP_INVALID = `Please enter a whole number of hours from 0 to ${MAX_OVERLAP_HOURS}.`;
const ROTATE_TEXT =
  "A new secret is issued and shown once. The old one keeps working for OAuth 1.0a signatures and OAuth 2.0 " +
  "client authentication until the overlap ends, so the third party can switch without downtime.";
const OVERLAP_NOTE = `0 ends the old secret now; at most ${MAX_OVERLAP_HOURS} hours (30 days).`;
const NEW_SECRET_TEXT = "Give the new secret to the third party. The old one stops when the overlap ends.";

const ROTATE = `mutation RotateIntegrationSecret($id: ID!, $overlapSeconds: Int!, $currentPassword: String) {
  rotateIntegrationSecret(id: $id, overlapSeconds: $overlapSeconds, currentPassword: $currentPassword) {
    integration { id secretRotatedAt previousSecretExpiresAt }
    credentials { consumerKey consumerSecret accessToken accessTokenSecret }
    userErrors { field message code }
  }
}`;

/**
 * Ask the overlap and Your Password, rotate, then show the new secret. Resolves the mutation's payload
 * ({ integration, credentials }) once the admin has seen the new secret, or null when cancelled or refused.
 */
export function rotateSecret(integration, tokenEndpoint) {
  return new Promise((resolve) => {
    const overlap = field({
      label: "Overlap (hours)",
      control: h("input", {
        type: "text",
        inputmode: "numeric",
        name: "overlapHours",
        value: String(DEFAULT_OVERLAP_HOURS),
      }),
      note: OVERLAP_NOTE,
      required: true,
    });
    const password = yourPasswordField();
    let rotated = null;
    const form = h("form", { class: "dialog-form", novalidate: true }, h("p", { text: ROTATE_TEXT }), overlap.row, password.row);
    const dialog = openDialog({
      title: ROTATE_TITLE,
      className: "rotate-secret",
      body: form,
      buttons: [{ label: "Cancel" }, { label: "Rotate", primary: true, onClick: () => submit() }],
      onClose: () => {
        if (rotated) showNewSecret(rotated, integration, tokenEndpoint, () => resolve(rotated));
        else resolve(null);
      },
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      submit();
    });
    overlap.control.focus();

    async function submit() {
      overlap.setError("");
      const raw = overlap.control.value.trim();
      const hours = /^\d{1,4}$/.test(raw) ? Number(raw) : NaN;
      if (!(hours >= 0 && hours <= MAX_OVERLAP_HOURS)) {
        overlap.setError(raw ? OVERLAP_INVALID : "This is a required field.");
        overlap.control.focus();
        return;
      }
      if (!requirePassword(password)) return;
      dialog.setBusy(true);
      let result;
      try {
        const data = await gql(ROTATE, {
          id: integration.id,
          overlapSeconds: hours * 3600,
          currentPassword: password.value(),
        });
        result = data.rotateIntegrationSecret;
      } catch (error) {
        dialog.close();
        messages.reportError(error);
        return;
      } finally {
        dialog.setBusy(false);
      }
      if (result.userErrors.length) {
        const wrong = result.userErrors.find(isPasswordError);
        const tooLong = result.userErrors.find((e) => fieldKey(e) === "overlapSeconds");
        if (wrong || tooLong) {
          // Shown beside their fields; the dialog stays open for another try.
          if (tooLong) overlap.setError(tooLong.message);
          if (wrong) {
            password.setError(wrong.message);
            password.control.value = "";
          }
          (wrong ? password : overlap).control.focus();
          return;
        }
        dialog.close();
        for (const error of result.userErrors) messages.notify("error", error.message);
        return;
      }
      rotated = result;
      dialog.close();
    }
  });
}

function showNewSecret(rotated, integration, tokenEndpoint, onDone) {
  messages.notify("success", `The secret of the integration '${integration.name}' has been rotated.`);
  openDialog({
    title: NEW_SECRET_TITLE,
    className: "tokens-dialog new-secret",
    body: h(
      "div",
      { class: "tokens" },
      h("p", { text: NEW_SECRET_TEXT }),
      credentialFields(rotated.credentials, integration.authMethods, tokenEndpoint, { withTokens: false }),
    ),
    buttons: [{ label: "Done", primary: true }],
    onClose: onDone,
  });
}
