// System > Action Logs > Report: the audit trail, newest first, with filters (who, what, on what, when) and
// paging. Each event's details open in place; nothing here can change an event.

import { gql } from "../api.js";
import { field, h, select } from "../dom.js";
import { cell, pagedGrid } from "../grid.js";
import * as messages from "../messages.js";

export const ACTOR_TYPES = { ADMIN: "Admin", INTEGRATION: "Integration", SYSTEM: "System", GUEST: "Guest" };
export const TARGET_TYPES = {
  integration: "Integration",
  admin_user: "Admin user",
  admin_role: "Role",
  config: "Configuration",
  encryption_key: "Encryption key",
  audit_log: "Action log",
};

const GRID = `query ActionLogs($first: Int!, $after: String, $filter: AuditEventFilter) {
  auditEvents(filter: $filter, first: $first, after: $after) {
    edges { node { id occurredAt actorType actorId actorName action targetType targetId details clientIp userAgent } }
    pageInfo { hasNextPage endCursor }
    totalCount
  }
}`;
const ACTIONS = "query AuditActions { auditActions }";

// Kept across visits, so coming back shows the same filters and page.
const state = { filter: {}, pageSize: "20", cursors: [null] };

/** The start of a local calendar day (`yyyy-mm-dd`) as an instant, `days` later. */
function dayStart(date, days = 0) {
  const [year, month, day] = date.split("-").map(Number);
  return new Date(year, month - 1, day + days).toISOString();
}

function when(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

/** Action groups (`integration.`) first, then every action, for the Action filter. */
function actionOptions(actions) {
  const groups = [...new Set(actions.map((a) => a.split(".")[0]))].map((g) => [`${g}.`, `${g}: every action`]);
  return [["", "Any"], ...groups, ...actions.map((a) => [a, a])];
}

function actorText(event) {
  const kind = ACTOR_TYPES[event.actorType] || event.actorType;
  return event.actorName ? `${kind}: ${event.actorName}` : kind;
}

function targetText(event) {
  if (!event.targetType) return "";
  const kind = TARGET_TYPES[event.targetType] || event.targetType;
  const name = event.details && typeof event.details.name === "string" ? event.details.name : null;
  if (name) return `${kind}: ${name}`;
  return event.targetType === "config" && event.targetId ? `${kind}: ${event.targetId}` : kind;
}

function detailsCell(event) {
  const text = JSON.stringify(event.details, null, 2);
  return h(
    "details",
    { class: "event-details" },
    h("summary", { text: "View" }),
    h("pre", { text }),
    h("p", { class: "event-origin", text: [event.userAgent, event.targetId].filter(Boolean).join(" · ") }),
  );
}

export async function renderActionLogs() {
  document.title = "Action Logs · Admin";
  const actions = (await gql(ACTIONS)).auditActions;
  if (!actions) throw new Error("You are not allowed to see this page.");
  const f = state.filter;
  const actorType = field({
    label: "Actor",
    control: select([["", "Any"], ...Object.entries(ACTOR_TYPES)], f.actorType || "", { name: "actorType" }),
  });
  const action = field({ label: "Action", control: select(actionOptions(actions), f.action || "", { name: "action" }) });
  const targetType = field({
    label: "Target",
    control: select([["", "Any"], ...Object.entries(TARGET_TYPES)], f.targetType || "", { name: "targetType" }),
  });
  const targetId = field({
    label: "Target ID",
    control: h("input", { type: "text", name: "targetId", value: f.targetId || "", autocomplete: "off" }),
  });
  const from = field({ label: "From", control: h("input", { type: "date", name: "from", value: f.fromDate || "" }) });
  const to = field({ label: "To", control: h("input", { type: "date", name: "to", value: f.toDate || "" }) });
  const controls = [actorType, action, targetType, targetId, from, to];

  const grid = pagedGrid({
    query: GRID,
    key: "auditEvents",
    label: "Action Logs",
    columns: [
      ["ID", "col-id"],
      ["Time", "col-time"],
      ["Actor", "col-actor"],
      ["Action", "col-action"],
      ["Target", "col-target"],
      ["IP Address", "col-ip"],
      ["Details", "col-details"],
    ],
    state,
    variables: () => ({ filter: filterInput(state.filter) }),
    row: (event) => [
      cell("col-id", "ID", event.id),
      h("td", { class: "col-time", dataset: { label: "Time" } }, h("time", { datetime: event.occurredAt, text: when(event.occurredAt) })),
      cell("col-actor", "Actor", actorText(event)),
      cell("col-action", "Action", h("code", { class: "action", text: event.action })),
      cell("col-target", "Target", targetText(event)),
      cell("col-ip", "IP Address", event.clientIp || ""),
      cell("col-details", null, detailsCell(event)),
    ],
  });

  function apply(filter) {
    state.filter = filter;
    state.cursors = [null];
    grid.reload();
  }

  const form = h(
    "form",
    { class: "grid-filters", role: "search", "aria-label": "Filter action logs" },
    controls.map((c) => c.row),
    h(
      "div",
      { class: "filter-actions" },
      h("button", { type: "submit", class: "primary" }, "Search"),
      h("button", { type: "button", class: "secondary", onclick: reset }, "Reset Filter"),
    ),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    messages.clear();
    to.setError("");
    if (from.control.value && to.control.value && to.control.value < from.control.value) {
      to.setError("The end of the range is before its start.");
      to.control.focus();
      return;
    }
    apply({
      actorType: actorType.control.value,
      action: action.control.value,
      targetType: targetType.control.value,
      targetId: targetId.control.value.trim(),
      fromDate: from.control.value,
      toDate: to.control.value,
    });
  });

  function reset() {
    for (const c of controls) c.control.value = "";
    to.setError("");
    apply({});
  }

  await grid.load();
  return h(
    "section",
    { class: "action-logs", "aria-labelledby": "page-title" },
    h("div", { class: "page-header" }, h("h1", { id: "page-title", text: "Action Logs Report" })),
    form,
    grid.element,
  );
}

/** The page's filter as `AuditEventFilter` (the To date is inclusive: up to the start of the next day). */
function filterInput(filter) {
  const input = {};
  for (const key of ["actorType", "action", "targetType", "targetId"]) if (filter[key]) input[key] = filter[key];
  if (filter.fromDate) input.from = dayStart(filter.fromDate);
  if (filter.toDate) input.to = dayStart(filter.toDate, 1);
  return Object.keys(input).length ? input : null;
}
