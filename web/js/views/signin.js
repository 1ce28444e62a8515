// Sign in with generateAdminToken; the token is kept for this tab (sessionStorage).

import { ApiError, gql, session } from "../api.js";
import { field, h } from "../dom.js";

const SIGN_IN = `mutation SignIn($username: String!, $password: String!, $otp: String) {
  generateAdminToken(username: $username, password: $password, otp: $otp) { token expiresAt }
}`;

export const OTP_NOTE = "Only if you have set up two-factor sign-in: the code your authenticator app shows.";

/** `message`: a string (shown as an error) or {type, text}. */
export function renderSignIn({ message, onSignedIn }) {
  document.title = "Sign in · Admin";
  const username = field({
    label: "Username",
    control: h("input", { type: "text", name: "username", autocomplete: "username", autocapitalize: "off" }),
    required: true,
  });
  const password = field({
    label: "Password",
    control: h("input", { type: "password", name: "password", autocomplete: "current-password" }),
    required: true,
  });
  const otp = field({
    label: "Verification Code",
    control: h("input", {
      type: "text",
      name: "otp",
      inputmode: "numeric",
      autocomplete: "one-time-code",
      maxlength: "10",
      spellcheck: "false",
    }),
    note: OTP_NOTE,
  });
  const note = typeof message === "string" ? { type: "error", text: message } : message;
  const status = h("div", { class: "signin-messages", "aria-live": "polite" });
  if (note) status.append(messageBox(note));
  const submit = h("button", { type: "submit", class: "primary" }, "Sign in");
  const form = h(
    "form",
    { class: "signin-form", novalidate: true, "aria-labelledby": "signin-title" },
    h("h1", { id: "signin-title", text: "Welcome, please sign in" }),
    status,
    username.row,
    password.row,
    otp.row,
    h("div", { class: "actions" }, submit),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    username.setError(username.control.value.trim() ? "" : "This is a required field.");
    password.setError(password.control.value ? "" : "This is a required field.");
    if (!username.control.value.trim() || !password.control.value) return;
    submit.disabled = true;
    status.replaceChildren();
    try {
      const data = await gql(
        SIGN_IN,
        {
          username: username.control.value.trim(),
          password: password.control.value,
          otp: otp.control.value.replace(/\s/g, "") || null,
        },
        { authenticated: false },
      );
      session.start(data.generateAdminToken.token);
      onSignedIn();
    } catch (error) {
      status.append(messageBox({ type: "error", text: error instanceof ApiError ? error.message : String(error) }));
      password.control.value = "";
      otp.control.value = "";
      password.control.focus();
      submit.disabled = false;
    }
  });
  queueMicrotask(() => username.control.focus());
  return h("main", { class: "signin" }, form);
}

function messageBox({ type, text }) {
  return h("div", { class: `message message-${type}`, role: type === "error" ? "alert" : "status", text });
}
