// The Webhooks tab of the integration page: its subscriptions (events, target URL, selection), added, edited and
// deleted with Your Password; the signing secret shown once (on creation and rotation); test deliveries; and each
// subscription's delivery log, where a finished delivery can be sent again.

import { fieldKey, gql } from "../api.js";
import { openDialog } from "../dialog.js";
import { field, h, replace, uid } from "../dom.js";
import * as messages from "../messages.js";
import { confirmWithPassword, isPasswordError, requirePassword, yourPasswordField } from "../your-password.js";

const FIELDS =
  "id events targetUrl query isActive consecutiveFailures disabledAt disabledReason secretRotatedAt previousSecretExpiresAt";
const USER_ERRORS = "userErrors { field message code }";
const LOAD = `query IntegrationWebhooks($id: ID!) {
  webhookEvents { type payloadType requiredResources description subscribable }
  webhookSubscriptions(integrationId: $id) { ${FIELDS} }
}`;
const CREATE = `mutation CreateWebhookSubscription($input: CreateWebhookSubscriptionInput!) {
  createWebhookSubscription(input: $input) { subscription { ${FIELDS} secret } ${USER_ERRORS} }
}`;
const UPDATE = `mutation UpdateWebhookSubscription($input: UpdateWebhookSubscriptionInput!) {
  updateWebhookSubscription(input: $input) { subscription { ${FIELDS} } ${USER_ERRORS} }
}`;
const DELETE = `mutation DeleteWebhookSubscription($id: ID!, $currentPassword: String) {
  deleteWebhookSubscription(id: $id, currentPassword: $currentPassword) { deletedId ${USER_ERRORS} }
}`;
const ROTATE = `mutation RotateWebhookSecret($id: ID!, $overlapSeconds: Int, $currentPassword: String) {
  rotateWebhookSecret(id: $id, overlapSeconds: $overlapSeconds, currentPassword: $currentPassword) {
    subscription { ${FIELDS} secret } ${USER_ERRORS}
  }
}`;
const SEND_TEST = `mutation SendTestWebhook($id: ID!) { sendTestWebhook(subscriptionId: $id) { delivery { id } ${USER_ERRORS} } }`;
const DELIVERIES = `query WebhookDeliveries($id: ID!, $after: String) {
  webhookDeliveries(subscriptionId: $id, first: 20, after: $after) {
    edges { node {
      id event webhookId status attemptCount responseStatus latencyMs lastError nextAttemptAt occurredAt
      attempts { number startedAt responseStatus latencyMs error succeeded }
    } }
    pageInfo { hasNextPage endCursor }
    totalCount
  }
}`;
const REDELIVER = `mutation RedeliverWebhook($id: ID!) { redeliverWebhook(deliveryId: $id) { delivery { id status } ${USER_ERRORS} } }`;

export const WEBHOOKS_NOTE =
  "Events are POSTed to the target URL, signed to the Standard Webhooks specification with the subscription's " +
  "secret; each payload holds the fields its GraphQL selection asks for, as far as the integration's resources allow.";
export const SECRET_TEXT = "Give this signing secret to the receiver now: it is not shown again.";
export const DEFAULT_QUERY = "subscription {\n  event {\n    type\n    occurredAt\n  }\n}";
const QUERY_NOTE =
  "A GraphQL subscription document, e.g. subscription { event { ... on ProductUpdated { product { sku price } } } }. " +
  "Selecting data the integration's resources do not cover is refused.";
const URL_NOTE =
  "http:// or https://. Private and loopback addresses are reached only when listed in Stores > Configuration > OAuth > " +
  "Private callback allow-list.";
const OVERLAP_NOTE = "For this many hours deliveries also carry a signature made with the old secret (0: none).";
const STATUS_TEXT = { PENDING: "Pending", DELIVERED: "Delivered", FAILED: "Failed", SKIPPED: "Skipped" };

const when = (value) => (value ? new Date(value).toLocaleString() : "");

/** The tab's content for an existing integration (loaded on first show, and again after every change). */
export function webhooksPanel(integration) {
  const list = h("div", { class: "webhook-list" }, h("p", { text: "Loading…" }));
  const log = h("section", { class: "webhook-deliveries", hidden: true, "aria-live": "polite" });
  const add = h("button", { type: "button", class: "primary", name: "add-webhook", text: "Add Webhook" });
  let catalogue = [];

  async function load() {
    try {
      const data = await gql(LOAD, { id: integration.id });
      catalogue = data.webhookEvents;
      render(data.webhookSubscriptions || []);
    } catch (error) {
      messages.reportError(error);
    }
  }

  function render(subscriptions) {
    if (!subscriptions.length) {
      replace(list, h("p", { class: "empty", text: "No webhooks yet." }));
      return;
    }
    const rows = subscriptions.map((s) =>
      h(
        "tr",
        { dataset: { id: s.id } },
        h("td", { class: "target", dataset: { label: "Target URL" }, text: s.targetUrl }),
        h("td", { class: "events", dataset: { label: "Events" }, text: s.events.join(", ") }),
        h(
          "td",
          { class: "status", dataset: { label: "Status" } },
          s.isActive ? "Active" : "Disabled",
          s.disabledReason ? h("span", { class: "field-note", text: ` ${s.disabledReason}` }) : null,
          s.consecutiveFailures ? h("span", { class: "field-note", text: ` ${s.consecutiveFailures} failed in a row` }) : null,
        ),
        h(
          "td",
          { class: "actions", dataset: { label: "Actions" } },
          button("Edit", () => edit(s)),
          button("Send test", () => sendTest(s)),
          button("Deliveries", () => showDeliveries(s)),
          button("Rotate secret", () => rotate(s)),
          button("Delete", () => remove(s)),
        ),
      ),
    );
    const table = h(
      "table",
      { class: "grid webhooks" },
      h("thead", {}, h("tr", {}, ["Target URL", "Events", "Status", "Actions"].map((t) => h("th", { scope: "col", text: t })))),
      h("tbody", {}, rows),
    );
    replace(list, h("div", { class: "grid-wrap" }, table));
  }

  function button(label, onclick) {
    return h("button", { type: "button", class: "secondary small", text: label, onclick });
  }

  async function sendTest(subscription) {
    messages.clear();
    try {
      const result = (await gql(SEND_TEST, { id: subscription.id })).sendTestWebhook;
      if (result.userErrors.length) {
        for (const error of result.userErrors) messages.notify("error", error.message);
        return;
      }
      messages.notify("success", "A test delivery is on its way; its result shows in the deliveries.");
      await showDeliveries(subscription);
    } catch (error) {
      messages.reportError(error);
    }
  }

  async function showDeliveries(subscription) {
    log.hidden = false;
    const refresh = button("Refresh", () => showDeliveries(subscription));
    let data;
    try {
      data = (await gql(DELIVERIES, { id: subscription.id })).webhookDeliveries;
    } catch (error) {
      messages.reportError(error);
      return;
    }
    const heading = h("h3", { text: `Deliveries to ${subscription.targetUrl}` });
    if (!data || !data.edges.length) {
      replace(log, heading, refresh, h("p", { class: "empty", text: "No deliveries yet." }));
      return;
    }
    const rows = data.edges.map(({ node: d }) =>
      h(
        "tr",
        { dataset: { id: d.id, status: d.status } },
        h("td", { dataset: { label: "Event" }, text: d.event }),
        h("td", { class: "delivery-status", dataset: { label: "Status" }, text: STATUS_TEXT[d.status] || d.status }),
        h("td", { dataset: { label: "Attempts" }, text: String(d.attemptCount) }),
        h("td", { dataset: { label: "Response" }, text: d.responseStatus == null ? "" : String(d.responseStatus) }),
        h("td", { dataset: { label: "Latency" }, text: d.latencyMs == null ? "" : `${d.latencyMs} ms` }),
        h("td", { dataset: { label: "Next attempt" }, text: d.status === "PENDING" ? when(d.nextAttemptAt) : "" }),
        h(
          "td",
          { class: "delivery-detail", dataset: { label: "Details" } },
          d.lastError ? h("span", { class: "delivery-error", text: d.lastError }) : null,
          attemptsDetail(d),
        ),
        h("td", { dataset: { label: "" } }, d.status === "PENDING" ? null : button("Retry", () => redeliver(subscription, d))),
      ),
    );
    const table = h(
      "table",
      { class: "grid deliveries" },
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          ["Event", "Status", "Attempts", "Response", "Latency", "Next attempt", "Details", ""].map((t) => h("th", { scope: "col", text: t })),
        ),
      ),
      h("tbody", {}, rows),
    );
    replace(log, heading, refresh, h("p", { class: "field-note", text: `${data.totalCount} deliveries, newest first.` }), h("div", { class: "grid-wrap" }, table));
  }

  function attemptsDetail(delivery) {
    if (!delivery.attempts.length) return null;
    const items = delivery.attempts.map((a) =>
      h(
        "li",
        {},
        `#${a.number} ${when(a.startedAt)}: `,
        a.succeeded ? `HTTP ${a.responseStatus}` : a.error || "failed",
        a.latencyMs == null ? "" : ` (${a.latencyMs} ms)`,
      ),
    );
    return h("details", {}, h("summary", { text: `webhook-id ${delivery.webhookId}` }), h("ol", { class: "attempts" }, items));
  }

  async function redeliver(subscription, delivery) {
    messages.clear();
    try {
      const result = (await gql(REDELIVER, { id: delivery.id })).redeliverWebhook;
      for (const error of result.userErrors) messages.notify("error", error.message);
      if (!result.userErrors.length) messages.notify("success", "The delivery will be sent again now.");
    } catch (error) {
      messages.reportError(error);
    }
    await showDeliveries(subscription);
  }

  async function remove(subscription) {
    const deleted = await confirmWithPassword({
      message: `Delete the webhook to ${subscription.targetUrl}? Its pending deliveries are not sent.`,
      action: async (currentPassword) =>
        (await gql(DELETE, { id: subscription.id, currentPassword })).deleteWebhookSubscription.userErrors,
    });
    if (deleted) {
      messages.notify("success", "The webhook has been deleted.");
      log.hidden = true;
      await load();
    }
  }

  async function edit(subscription) {
    if (await subscriptionDialog(integration, catalogue, subscription)) await load();
  }

  async function rotate(subscription) {
    if (await rotateDialog(subscription)) await load();
  }

  add.addEventListener("click", async () => {
    if (await subscriptionDialog(integration, catalogue, null)) await load();
  });
  load();
  return h(
    "div",
    { class: "webhooks-panel" },
    h("fieldset", { class: "fieldset" }, h("legend", { text: "Webhooks" }), h("p", { class: "field-note", text: WEBHOOKS_NOTE }), h("div", { class: "details-actions" }, add), list),
    log,
  );
}

/** The events, a checkbox each (with what each needs), shaped like a field for userErrors. */
function eventsField(catalogue, chosen) {
  const labelId = uid("webhook-events");
  const error = h("p", { class: "field-error", id: `${labelId}-error`, hidden: true, role: "alert" });
  const boxes = catalogue
    .filter((e) => e.subscribable)
    .map((e) => {
      const box = h("input", { type: "checkbox", name: "events", value: e.type, id: uid("event"), checked: chosen.includes(e.type) });
      const needs = e.requiredResources.length ? ` (needs ${e.requiredResources.join(", ")})` : "";
      return { box, row: h("div", { class: "choice" }, box, h("label", { for: box.id }, `${e.type}: ${e.description}${needs}`)) };
    });
  const group = h("div", { class: "field-control choices", role: "group", "aria-labelledby": labelId }, boxes.map((b) => b.row), error);
  const row = h("div", { class: "field" }, h("span", { class: "field-label required", id: labelId, text: "Events" }), group);
  return {
    row,
    control: boxes[0] ? boxes[0].box : group,
    chosen: () => boxes.filter((b) => b.box.checked).map((b) => b.box.value),
    setError(text) {
      error.textContent = text || "";
      error.hidden = !text;
      row.classList.toggle("has-error", Boolean(text));
    },
  };
}

/** Add (subscription null) or edit a subscription; resolves true once saved. */
function subscriptionDialog(integration, catalogue, subscription) {
  return new Promise((resolve) => {
    const events = eventsField(catalogue, subscription ? subscription.events : []);
    const targetUrl = field({
      label: "Target URL",
      control: h("input", { type: "url", name: "targetUrl", value: subscription ? subscription.targetUrl : "" }),
      note: URL_NOTE,
      required: true,
    });
    const query = field({
      label: "Selection",
      control: h("textarea", { name: "query", rows: "7", spellcheck: "false", class: "code" }),
      note: QUERY_NOTE,
      required: true,
    });
    query.control.value = subscription ? subscription.query : DEFAULT_QUERY;
    const activeBox = h("input", { type: "checkbox", name: "isActive", id: uid("active"), checked: subscription ? subscription.isActive : true });
    const active = { row: h("div", { class: "field" }, h("span", { class: "field-label" }), h("div", { class: "field-control choice" }, activeBox, h("label", { for: activeBox.id }, "Active"))), control: activeBox, setError() {} };
    const password = yourPasswordField();
    const targets = { "input.events": events, "input.targetUrl": targetUrl, "input.query": query, "input.isActive": active, "input.currentPassword": password };
    let saved = null;
    const form = h("form", { class: "dialog-form webhook-form", novalidate: true }, events.row, targetUrl.row, query.row, active.row, password.row);
    const dialog = openDialog({
      title: subscription ? "Edit Webhook" : "Add Webhook",
      className: "webhook-dialog",
      body: form,
      buttons: [{ label: "Cancel" }, { label: "Save", primary: true, onClick: () => submit() }],
      onClose: () => {
        if (saved && saved.secret) showSecret("Signing Secret", saved.secret, () => resolve(true));
        else resolve(Boolean(saved));
      },
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      submit();
    });

    async function submit() {
      for (const target of Object.values(targets)) target.setError("");
      if (!requirePassword(password)) return;
      const input = {
        events: events.chosen(),
        targetUrl: targetUrl.control.value.trim(),
        query: query.control.value,
        isActive: activeBox.checked,
        currentPassword: password.value(),
      };
      dialog.setBusy(true);
      let result;
      try {
        const data = subscription
          ? await gql(UPDATE, { input: { ...input, id: subscription.id } })
          : await gql(CREATE, { input: { ...input, integrationId: integration.id } });
        result = subscription ? data.updateWebhookSubscription : data.createWebhookSubscription;
      } catch (error) {
        dialog.close();
        messages.reportError(error);
        return;
      } finally {
        dialog.setBusy(false);
      }
      if (result.userErrors.length) {
        let first = null;
        for (const error of result.userErrors) {
          const target = targets[fieldKey(error)];
          if (target) {
            target.setError(error.message);
            first = first || target;
          } else messages.notify("error", error.message);
        }
        if (result.userErrors.some(isPasswordError)) password.control.value = "";
        if (first && first.control.focus) first.control.focus();
        return;
      }
      saved = result.subscription;
      messages.notify("success", "The webhook has been saved.");
      dialog.close();
    }
  });
}

/** Ask the overlap and Your Password, rotate, show the new secret; resolves true once rotated. */
function rotateDialog(subscription) {
  return new Promise((resolve) => {
    const overlap = field({
      label: "Overlap (hours)",
      control: h("input", { type: "text", inputmode: "numeric", name: "overlapHours", value: "24" }),
      note: OVERLAP_NOTE,
      required: true,
    });
    const password = yourPasswordField();
    let rotated = null;
    const form = h("form", { class: "dialog-form", novalidate: true }, overlap.row, password.row);
    const dialog = openDialog({
      title: "Rotate Signing Secret",
      className: "rotate-secret",
      body: form,
      buttons: [{ label: "Cancel" }, { label: "Rotate", primary: true, onClick: () => submit() }],
      onClose: () => {
        if (rotated) showSecret("New Signing Secret", rotated.secret, () => resolve(true));
        else resolve(false);
      },
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      submit();
    });

    async function submit() {
      overlap.setError("");
      const hours = /^\d{1,3}$/.test(overlap.control.value.trim()) ? Number(overlap.control.value.trim()) : NaN;
      if (!(hours >= 0 && hours <= 720)) {
        overlap.setError("Please enter a whole number of hours from 0 to 720.");
        return;
      }
      if (!requirePassword(password)) return;
      dialog.setBusy(true);
      let result;
      try {
        result = (await gql(ROTATE, { id: subscription.id, overlapSeconds: hours * 3600, currentPassword: password.value() })).rotateWebhookSecret;
      } catch (error) {
        dialog.close();
        messages.reportError(error);
        return;
      } finally {
        dialog.setBusy(false);
      }
      const wrong = result.userErrors.find(isPasswordError);
      if (wrong) {
        password.setError(wrong.message);
        password.control.value = "";
        return;
      }
      for (const error of result.userErrors) messages.notify("error", error.message);
      if (!result.userErrors.length) rotated = result.subscription;
      dialog.close();
    }
  });
}

function showSecret(title, secret, onDone) {
  const shown = field({
    label: "Secret",
    control: h("input", { type: "text", name: "webhook-secret", value: secret, readOnly: true, class: "token", spellcheck: "false", autocomplete: "off" }),
  });
  openDialog({
    title,
    className: "tokens-dialog webhook-secret",
    body: h("div", { class: "tokens" }, h("p", { text: SECRET_TEXT }), shown.row),
    buttons: [{ label: "Done", primary: true }],
    onClose: onDone,
  });
}
