// Account Setting (top right): change your own password, and set up two-factor sign-in (TOTP).

import { ApiError, gql } from "../api.js";
import { field, h, replace } from "../dom.js";
import { clearErrors, showUserErrors } from "../forms.js";
import * as messages from "../messages.js";
import { confirmWithPassword, identityFieldset, isPasswordError, yourPasswordField } from "../your-password.js";
import { PASSWORDS_DIFFER, REQUIRED } from "./user-form.js";

export const ACCOUNT_SAVED = "You saved the account.";
export const TOTP_ENABLED = "Two-factor sign-in is on.";
export const TOTP_INTRO =
  "Add this account to your authenticator app with the key below (or the otpauth address), then enter the code it shows.";

const VIEWER = "query AccountSetting { viewer { name } }";
const SIGN_INS = `query SignInHistory { viewer { signInHistory(first: 10) { occurredAt outcome clientIp userAgent } } }`;
export const SIGN_IN_OUTCOMES = { SUCCEEDED: "Signed in", FAILED: "Failed", LOCKED: "Locked out" };
const TOTP_STATUS = "query TwoFactorStatus { viewer { totpEnabled totpRequired } }";
export const TOTP_REQUIRED =
  "This store requires two-factor sign-in: set it up below to use the rest of the admin.";
const CHANGE_PASSWORD = `mutation ChangeAdminPassword($currentPassword: String!, $newPassword: String!) {
  changeAdminPassword(currentPassword: $currentPassword, newPassword: $newPassword) { userErrors { field message code } }
}`;
const ENROLL = `mutation EnrollAdminTotp($currentPassword: String!) {
  enrollAdminTotp(currentPassword: $currentPassword) { otpauthUri secret userErrors { field message code } }
}`;
const CONFIRM = `mutation ConfirmAdminTotp($code: String!) {
  confirmAdminTotp(code: $code) { enabled userErrors { field message code } }
}`;

export async function renderAccount() {
  document.title = "Account Setting · Admin";
  const viewer = (await gql(VIEWER)).viewer;
  let totp = null;
  try {
    totp = (await gql(TOTP_STATUS)).viewer;
  } catch (error) {
    if (!(error instanceof ApiError)) throw error; // a server without two-factor sign-in: no section for it
  }
  if (totp && totp.totpRequired && !totp.totpEnabled) messages.notify("notice", TOTP_REQUIRED);
  let history = null;
  try {
    history = (await gql(SIGN_INS)).viewer.signInHistory;
  } catch (error) {
    if (!(error instanceof ApiError)) throw error; // a server without an audit trail: no history to show
  }
  return h(
    "section",
    { class: "account-setting", "aria-labelledby": "page-title" },
    h("div", { class: "page-header" }, h("h1", { id: "page-title", text: "Account Setting" })),
    passwordForm(viewer),
    totp === null ? null : twoFactor(totp.totpEnabled),
    history === null ? null : signInHistory(history),
  );
}

function when(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

/** Your own latest sign-ins, from the audit trail: when, how it ended, from where and with what. */
function signInHistory(history) {
  const rows = history.length
    ? history.map((entry) =>
        h(
          "tr",
          { class: `outcome-${entry.outcome.toLowerCase()}` },
          h("td", { dataset: { label: "Time" } }, h("time", { datetime: entry.occurredAt, text: when(entry.occurredAt) })),
          h("td", { class: "col-result", dataset: { label: "Result" }, text: SIGN_IN_OUTCOMES[entry.outcome] || entry.outcome }),
          h("td", { class: "col-ip", dataset: { label: "IP Address" }, text: entry.clientIp || "" }),
          h("td", { class: "col-browser", dataset: { label: "Browser" }, text: entry.userAgent || "" }),
        ),
      )
    : h("tr", { class: "empty" }, h("td", { colspan: "4", text: "No sign-ins yet." }));
  return h(
    "section",
    { class: "fieldset sign-in-history", "aria-labelledby": "sign-in-history-title" },
    h("h2", { id: "sign-in-history-title", text: "Sign-in History" }),
    h("p", { class: "field-note", text: "Your latest sign-ins to this account, failed ones too. Not you? Change your password." }),
    h(
      "div",
      { class: "grid-wrap" },
      h(
        "table",
        { class: "grid", "aria-label": "Sign-in history" },
        h("thead", {}, h("tr", {}, ["Time", "Result", "IP Address", "Browser"].map((c) => h("th", { scope: "col", text: c })))),
        h("tbody", {}, rows),
      ),
    ),
  );
}

function passwordForm(viewer) {
  const username = field({
    label: "User Name",
    control: h("input", { type: "text", name: "username", value: viewer.name, readOnly: true, autocomplete: "username" }),
  });
  const newPassword = field({
    label: "New Password",
    control: h("input", { type: "password", name: "newPassword", autocomplete: "new-password" }),
    note: "Must be at least 7 characters. Both numeric and alphabetic.",
    required: true,
  });
  const confirmation = field({
    label: "Password Confirmation",
    control: h("input", { type: "password", name: "passwordConfirmation", autocomplete: "new-password" }),
    required: true,
  });
  const password = yourPasswordField();
  const targets = {
    newPassword: { field: newPassword },
    passwordConfirmation: { field: confirmation },
    currentPassword: { field: password },
  };
  const save = h("button", { type: "submit", class: "primary" }, "Save Account");
  const form = h(
    "form",
    { class: "account-form", novalidate: true, "aria-label": "Account Information" },
    h(
      "fieldset",
      { class: "fieldset" },
      h("legend", { text: "Account Information" }),
      username.row,
      newPassword.row,
      confirmation.row,
    ),
    identityFieldset(password),
    h("div", { class: "actions" }, save),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    messages.clear();
    clearErrors(targets);
    const problems = [];
    if (!newPassword.control.value) problems.push({ field: ["newPassword"], message: REQUIRED });
    else if (newPassword.control.value !== confirmation.control.value) {
      problems.push({ field: ["passwordConfirmation"], message: PASSWORDS_DIFFER });
    }
    if (!password.value()) problems.push({ field: ["currentPassword"], message: REQUIRED });
    if (showUserErrors(problems, targets)) return;
    save.disabled = true;
    try {
      const result = (
        await gql(CHANGE_PASSWORD, { currentPassword: password.value(), newPassword: newPassword.control.value })
      ).changeAdminPassword;
      if (result.userErrors.length) {
        if (result.userErrors.some(isPasswordError)) password.control.value = "";
        showUserErrors(result.userErrors, targets);
        return;
      }
      for (const f of [newPassword, confirmation]) f.control.value = "";
      password.clear();
      messages.notify("success", ACCOUNT_SAVED);
    } catch (error) {
      messages.reportError(error);
    } finally {
      save.disabled = false;
    }
  });
  return form;
}

function twoFactor(enabled) {
  const status = h("p", { class: "totp-status", "aria-live": "polite" });
  const content = h("div", { class: "totp-setup" });
  const start = h("button", { type: "button", class: "secondary", onclick: () => enroll() });
  const showStatus = (enabled) => {
    status.textContent = enabled ? TOTP_ENABLED : "Two-factor sign-in is off.";
    start.textContent = "Set Up Two-Factor Sign-In";
    start.hidden = enabled; // while it is on, the server refuses a new set-up
  };
  showStatus(enabled);

  async function enroll() {
    messages.clear();
    let enrolment = null;
    const done = await confirmWithPassword({
      title: "Two-Factor Sign-In",
      message: "Enter your password to set up two-factor sign-in.",
      confirmLabel: "Continue",
      action: async (currentPassword) => {
        const result = (await gql(ENROLL, { currentPassword })).enrollAdminTotp;
        enrolment = result;
        return result.userErrors;
      },
    });
    if (done && enrolment) showEnrolment(enrolment);
  }

  function showEnrolment({ otpauthUri, secret }) {
    const readOnly = (label, name, value) =>
      field({
        label,
        control: h("input", { type: "text", name, value, readOnly: true, class: "token", spellcheck: "false", autocomplete: "off" }),
      });
    const code = field({
      label: "Verification Code",
      control: h("input", { type: "text", name: "totpCode", inputmode: "numeric", autocomplete: "one-time-code", maxlength: "10" }),
      required: true,
    });
    const confirm = h("button", { type: "submit", class: "primary" }, "Confirm");
    const form = h(
      "form",
      { class: "totp-form", novalidate: true, "aria-label": "Confirm two-factor sign-in" },
      h("p", { text: TOTP_INTRO }),
      readOnly("Secret Key", "totpSecret", secret).row,
      readOnly("Authenticator Address (otpauth)", "otpauthUri", otpauthUri).row,
      code.row,
      h("div", { class: "actions" }, confirm),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      messages.clear();
      code.setError("");
      if (!code.control.value.trim()) {
        code.setError(REQUIRED);
        code.control.focus();
        return;
      }
      confirm.disabled = true;
      try {
        const result = (await gql(CONFIRM, { code: code.control.value.trim() })).confirmAdminTotp;
        if (result.userErrors.length) {
          code.setError(result.userErrors[0].message);
          code.control.focus();
          return;
        }
        replace(content);
        showStatus(result.enabled);
        messages.notify("success", TOTP_ENABLED);
      } catch (error) {
        messages.reportError(error);
      } finally {
        confirm.disabled = false;
      }
    });
    replace(content, form);
    code.control.focus();
  }

  return h(
    "section",
    { class: "fieldset two-factor", "aria-labelledby": "two-factor-title" },
    h("h2", { id: "two-factor-title", text: "Two-Factor Sign-In" }),
    status,
    h("div", { class: "actions" }, start),
    content,
  );
}
