// New / Edit Integration: the Integration Info and API tabs (and Activity and Webhooks, once saved), Save and
// Save & Activate.

import { fieldKey, gql } from "../api.js";
import {
  credentialFields,
  loadResourceTree,
  loadTokenEndpoint,
  OAUTH1,
  OAUTH1_TITLE,
  OAUTH2,
  OAUTH2_TITLE,
  startActivation,
} from "../activation.js";
import { field, h, select, uid } from "../dom.js";
import * as messages from "../messages.js";
import { ALL_RESOURCES, ResourceTree } from "../tree.js";
import { rotateSecret } from "../rotate-secret.js";
import { IDENTITY_VERIFICATION, yourPasswordField } from "../your-password.js";
import { activityPanel } from "./integration-activity.js";
import { webhooksPanel } from "./webhooks.js";

export const CALLBACK_NOTE =
  "Enter URL where Oauth credentials can be sent when using Oauth for token exchange. We strongly recommend using https://.";
export const IDENTITY_NOTE =
  "URL to redirect user to link their 3rd party account with this Magento integration credentials.";

const FIELDS =
  "id name email callbackUrl identityLinkUrl status setupType resourceAccess resources rateLimitBucketSize rateLimitRestoreRate " +
  "authMethods secretRotatedAt previousSecretExpiresAt";
export const AUTH_METHODS_REQUIRED = "Choose at least one authentication method.";
const AUTH_METHODS_NOTE = "How the third party signs in: Magento's OAuth 1.0a, OAuth 2.0 client credentials, or both.";
const RATE_LIMIT_NOTE = "Leave empty to use the store's setting (Stores > Configuration > Rate Limits).";

const LOAD = `query EditIntegration($id: ID!) {
  integration(id: $id) { ${FIELDS} credentials { consumerKey consumerSecret accessToken accessTokenSecret } }
}`;

const CREATE = `mutation CreateIntegration($input: CreateIntegrationInput!) {
  createIntegration(input: $input) { integration { id name status } userErrors { field message code } }
}`;

const UPDATE = `mutation UpdateIntegration($input: UpdateIntegrationInput!) {
  updateIntegration(input: $input) { integration { id name status } userErrors { field message code } }
}`;

/** "Previous secret valid until <time>" while a rotation's overlap lasts, else nothing. */
export function previousSecretText(expiresAt) {
  if (!expiresAt) return "";
  const until = new Date(expiresAt);
  return until > new Date() ? `Previous secret valid until ${until.toLocaleString()}` : "";
}

/**
 * The Authentication methods: a checkbox each, at least one required. Shaped like a field ({ row, control,
 * setError }) so userErrors find it; `control` is the first box (focused on an error).
 */
function authMethodsField(chosen) {
  const labelId = uid("auth-methods");
  const error = h("p", { class: "field-error", id: `${labelId}-error`, hidden: true, role: "alert" });
  const note = h("p", { class: "field-note", id: `${labelId}-note`, text: AUTH_METHODS_NOTE });
  const boxes = [
    [OAUTH1, OAUTH1_TITLE],
    [OAUTH2, OAUTH2_TITLE],
  ].map(([value, label]) => {
    const box = h("input", { type: "checkbox", name: "authMethods", value, id: uid("auth-method"), checked: chosen.includes(value) });
    return { box, row: h("div", { class: "choice" }, box, h("label", { for: box.id }, label)) };
  });
  const group = h(
    "div",
    { class: "field-control choices", role: "group", "aria-labelledby": labelId, "aria-describedby": `${note.id} ${error.id}` },
    boxes.map((b) => b.row),
    error,
    note,
  );
  const row = h("div", { class: "field" }, h("span", { class: "field-label required", id: labelId, text: "Methods" }), group);
  return {
    row,
    control: boxes[0].box,
    boxes: boxes.map((b) => b.box),
    chosen: () => boxes.filter((b) => b.box.checked).map((b) => b.box.value),
    setError(text) {
      error.textContent = text || "";
      error.hidden = !text;
      row.classList.toggle("has-error", Boolean(text));
      if (text) group.setAttribute("aria-invalid", "true");
      else group.removeAttribute("aria-invalid");
    },
  };
}

export async function renderIntegrationForm(id) {
  const [tree, integration, tokenEndpoint] = await Promise.all([
    loadResourceTree(),
    id ? gql(LOAD, { id }).then((d) => d.integration) : Promise.resolve(null),
    loadTokenEndpoint(),
  ]);
  if (id && !integration) {
    messages.flash("error", "This integration no longer exists.");
    location.hash = "#/integrations";
    return null;
  }
  const readOnly = Boolean(integration && integration.setupType === "CONFIG");
  const title = !integration
    ? "New Integration"
    : readOnly
      ? `View "${integration.name}" Integration`
      : `Edit "${integration.name}" Integration`;
  document.title = `${title} · Admin`;
  const value = (key) => (integration && integration[key]) || "";

  // --- Integration Info
  const name = field({
    label: "Name",
    control: h("input", { type: "text", name: "name", maxlength: "255", value: value("name") }),
    required: true,
  });
  const email = field({
    label: "Email",
    control: h("input", { type: "email", name: "email", maxlength: "254", value: value("email") }),
  });
  const callbackUrl = field({
    label: "Callback URL",
    control: h("input", { type: "url", name: "callbackUrl", value: value("callbackUrl") }),
    note: CALLBACK_NOTE,
  });
  const identityLinkUrl = field({
    label: "Identity link URL",
    control: h("input", { type: "url", name: "identityLinkUrl", value: value("identityLinkUrl") }),
    note: IDENTITY_NOTE,
  });
  const infoFields = { name, email, callbackUrl, identityLinkUrl };
  const numberValue = (key) => (integration && integration[key] != null ? String(integration[key]) : "");
  const bucketSize = field({
    label: "Bucket Size (points)",
    control: h("input", { type: "text", inputmode: "numeric", name: "rateLimitBucketSize", value: numberValue("rateLimitBucketSize") }),
    note: RATE_LIMIT_NOTE,
  });
  const restoreRate = field({
    label: "Restore Rate (points per second)",
    control: h("input", { type: "text", inputmode: "numeric", name: "rateLimitRestoreRate", value: numberValue("rateLimitRestoreRate") }),
    note: RATE_LIMIT_NOTE,
  });
  const rateFields = { rateLimitBucketSize: bucketSize, rateLimitRestoreRate: restoreRate };
  const authMethods = authMethodsField(integration ? integration.authMethods : [OAUTH1]);
  const infoPanel = [
    h("fieldset", { class: "fieldset" }, h("legend", { text: "General" }), Object.values(infoFields).map((f) => f.row)),
    h("fieldset", { class: "fieldset auth-methods" }, h("legend", { text: "Authentication" }), authMethods.row),
    h("fieldset", { class: "fieldset" }, h("legend", { text: "Rate Limit" }), Object.values(rateFields).map((f) => f.row)),
  ];
  const yourPassword = yourPasswordField();
  if (!readOnly) {
    infoPanel.push(
      h("fieldset", { class: "fieldset" }, h("legend", { text: IDENTITY_VERIFICATION }), yourPassword.row),
    );
  }
  if (integration && integration.credentials) {
    const details = h("div", { class: "integration-details" });
    const secretStatus = h("p", { class: "secret-status", role: "status" });
    const showDetails = (newSecret, expiresAt) => {
      // A rotation changes only the consumer secret (the client secret); the tokens stay.
      if (newSecret) integration.credentials = { ...integration.credentials, consumerSecret: newSecret };
      details.replaceChildren(...credentialFields(integration.credentials, integration.authMethods, tokenEndpoint));
      secretStatus.textContent = previousSecretText(expiresAt);
      secretStatus.hidden = !secretStatus.textContent;
    };
    showDetails(null, integration.previousSecretExpiresAt);
    const actions = [];
    if (!readOnly && integration.status === "ACTIVE") {
      const rotate = h("button", { type: "button", class: "secondary", name: "rotate-secret", text: "Rotate secret" });
      rotate.addEventListener("click", async () => {
        const rotated = await rotateSecret(integration, tokenEndpoint);
        if (rotated) showDetails(rotated.credentials.consumerSecret, rotated.integration.previousSecretExpiresAt);
      });
      actions.push(h("div", { class: "details-actions" }, rotate));
    }
    infoPanel.push(
      h("fieldset", { class: "fieldset" }, h("legend", { text: "Integration Details" }), secretStatus, details, actions),
    );
  }

  // --- API
  const stored = integration ? integration.resources : [];
  const access = field({
    label: "Resource Access",
    control: select(
      [
        ["CUSTOM", "Custom"],
        ["ALL", "All"],
      ],
      integration && stored.includes(ALL_RESOURCES) ? "ALL" : "CUSTOM",
      { name: "resourceAccess" },
    ),
  });
  const resourceTree = new ResourceTree(tree, {
    checked: stored.includes(ALL_RESOURCES) ? [] : stored,
    readOnly,
    label: "Resources",
  });
  const resourcesError = h("p", { class: "field-error", id: "resources-error", hidden: true, role: "alert" });
  const treeBlock = h(
    "div",
    { class: "resources" },
    h("h3", { class: "resources-title", id: "resources-title", text: "Resources" }),
    resourcesError,
    resourceTree.element,
  );
  const syncAccess = () => {
    treeBlock.hidden = access.control.value === "ALL";
  };
  access.control.addEventListener("change", syncAccess);
  syncAccess();
  const apiPanel = [
    h("fieldset", { class: "fieldset" }, h("legend", { text: "Available APIs" }), access.row, treeBlock),
  ];

  // --- Activity (read when the tab is first shown)
  const activity = integration
    ? activityPanel(integration, tree, {
        onTrimmed: (resources) => {
          // The API tab shows the trimmed grant; saving the form keeps it.
          integration.resources = resources;
          access.control.value = "CUSTOM";
          resourceTree.setChecked(resources);
          syncAccess();
        },
      })
    : null;
  let activityShown = false;

  // --- tabs
  const tabs = [
    { key: "info", label: "Integration Info", content: infoPanel },
    { key: "api", label: "API", content: apiPanel },
  ];
  if (activity) tabs.push({ key: "activity", label: "Activity", content: activity.element });
  // Webhooks belong to a saved integration; they are saved on their own (each change asks for Your Password).
  if (integration) tabs.push({ key: "webhooks", label: "Webhooks", content: webhooksPanel(integration) });
  const tabList = h("div", { class: "tabs", role: "tablist", "aria-label": "Integration", "aria-orientation": "vertical" });
  const panels = h("div", { class: "tab-panels" });
  for (const tab of tabs) {
    tab.button = h(
      "button",
      {
        type: "button",
        role: "tab",
        id: `tab-${tab.key}`,
        "aria-controls": `panel-${tab.key}`,
        onclick: () => showTab(tab.key),
        onkeydown: (event) => {
          if (!["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight"].includes(event.key)) return;
          event.preventDefault();
          const i = tabs.indexOf(tab);
          const next = tabs[(i + (event.key === "ArrowUp" || event.key === "ArrowLeft" ? -1 : 1) + tabs.length) % tabs.length];
          showTab(next.key);
          next.button.focus();
        },
      },
      tab.label,
    );
    tab.panel = h("div", { role: "tabpanel", id: `panel-${tab.key}`, "aria-labelledby": `tab-${tab.key}`, class: "tab-panel" }, tab.content);
    tabList.append(tab.button);
    panels.append(tab.panel);
  }
  function showTab(key) {
    for (const tab of tabs) {
      const on = tab.key === key;
      tab.button.setAttribute("aria-selected", String(on));
      tab.button.tabIndex = on ? 0 : -1;
      tab.panel.hidden = !on;
    }
    if (key === "activity" && activity && !activityShown) {
      activityShown = true;
      activity.load().catch(messages.reportError);
    }
  }
  showTab("info");

  if (readOnly) {
    for (const f of [...Object.values(infoFields), ...Object.values(rateFields)]) f.control.disabled = true;
    for (const box of authMethods.boxes) box.disabled = true;
    access.control.disabled = true;
  }

  // --- saving
  const buttons = [h("a", { class: "button secondary", href: "#/integrations" }, "Back")];
  const saveButton = h("button", { type: "submit", class: "primary", name: "save" }, "Save");
  const saveActivate = h("button", { type: "button", class: "primary", name: "save-activate" }, "Save & Activate");
  if (!readOnly) {
    if (!integration || integration.status === "INACTIVE") buttons.push(saveActivate);
    buttons.push(saveButton);
  }

  function clearErrors() {
    for (const f of [...Object.values(infoFields), ...Object.values(rateFields), authMethods, access, yourPassword]) {
      f.setError("");
    }
    resourcesError.hidden = true;
    resourcesError.textContent = "";
  }

  function showErrors(userErrors) {
    const targets = {
      "input.name": [name, "info"],
      "input.email": [email, "info"],
      "input.callbackUrl": [callbackUrl, "info"],
      "input.identityLinkUrl": [identityLinkUrl, "info"],
      "input.rateLimitBucketSize": [bucketSize, "info"],
      "input.rateLimitRestoreRate": [restoreRate, "info"],
      "input.authMethods": [authMethods, "info"],
      "input.resourceAccess": [access, "api"],
      "input.currentPassword": [yourPassword, "info"],
    };
    let first = null;
    for (const error of userErrors) {
      const key = fieldKey(error);
      if (targets[key]) {
        const [target, tab] = targets[key];
        target.setError(error.message);
        first = first || [tab, target.control];
      } else if (key === "input.resources") {
        resourcesError.textContent = error.message;
        resourcesError.hidden = false;
        first = first || ["api", resourcesError];
      } else {
        messages.notify("error", error.message);
      }
    }
    if (first) {
      showTab(first[0]);
      if (first[1].focus) first[1].focus();
    }
  }

  function collect() {
    const text = (f) => f.control.value.trim() || null;
    const input = {
      name: name.control.value.trim(),
      email: text(email),
      callbackUrl: text(callbackUrl),
      identityLinkUrl: text(identityLinkUrl),
      resourceAccess: access.control.value,
      authMethods: authMethods.chosen(),
    };
    for (const [key, f] of Object.entries(rateFields)) {
      const raw = f.control.value.trim();
      // Empty: the store's setting (0 clears an integration's own value); anything else the server checks.
      input[key] = raw === "" ? (integration ? 0 : null) : /^-?\d{1,10}$/.test(raw) ? Number(raw) : -1;
    }
    if (input.resourceAccess === "CUSTOM") input.resources = resourceTree.checked();
    if (integration) input.id = integration.id;
    input.currentPassword = yourPassword.control.value;
    return input;
  }

  async function save(activate) {
    messages.clear();
    clearErrors();
    const missing = [];
    if (!name.control.value.trim()) missing.push({ field: ["input", "name"], message: "This is a required field." });
    if (!authMethods.chosen().length) missing.push({ field: ["input", "authMethods"], message: AUTH_METHODS_REQUIRED });
    if (missing.length) {
      showErrors(missing);
      return;
    }
    for (const b of [saveButton, saveActivate]) b.disabled = true;
    const input = collect();
    try {
      const data = await gql(integration ? UPDATE : CREATE, { input });
      const result = integration ? data.updateIntegration : data.createIntegration;
      if (result.userErrors.length) {
        showErrors(result.userErrors);
        return;
      }
      const saved = result.integration;
      messages.flash("success", `The integration '${saved.name}' has been saved.`);
      location.hash = "#/integrations";
      if (activate) {
        // Wait for the grid, then open the permissions dialog for the saved integration.
        window.addEventListener(
          "integrations:shown",
          (event) =>
            startActivation(saved, {
              reauthorize: saved.status !== "INACTIVE",
              onFinished: event.detail.reload,
              currentPassword: input.currentPassword, // just confirmed: not asked again
            }),
          { once: true },
        );
      }
    } catch (error) {
      messages.reportError(error);
    } finally {
      for (const b of [saveButton, saveActivate]) b.disabled = false;
    }
  }

  saveActivate.addEventListener("click", () => save(true));
  const form = h(
    "form",
    { class: "integration-form", novalidate: true, "aria-labelledby": "page-title" },
    h("div", { class: "page-header" }, h("h1", { id: "page-title", text: title }), h("div", { class: "page-actions" }, buttons)),
    h("div", { class: "tabbed" }, tabList, panels),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!readOnly) save(false);
  });
  return form;
}
