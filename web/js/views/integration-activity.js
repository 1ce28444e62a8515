// The Activity tab of an integration's edit page: when and from where it was last used, its calls and denials
// per day (an inline SVG chart), per resource, and the granted resources it has not used, with "Trim grant"
// (trimIntegrationGrant, after Your Password).

import { gql } from "../api.js";
import { dailyChart } from "../chart.js";
import { h, replace, select } from "../dom.js";
import * as messages from "../messages.js";
import { confirmWithPassword } from "../your-password.js";

export const NEVER_USED = "Never used";
export const NO_CALLS = "No calls were counted in the days kept.";
export const ALL_USED = "Every granted resource was used in this period.";
export const TRIM_LABEL = "Trim grant";
export const COUNTING_NOTE =
  "Counted by each server process and written every few seconds: the latest seconds may not show yet. " +
  "Days are UTC.";

const CHART_PERIODS = [
  ["7", "Last 7 days"],
  ["30", "Last 30 days"],
  ["90", "Last 90 days"],
];
const UNUSED_PERIODS = [
  ["30", "30 days"],
  ["60", "60 days"],
  ["90", "90 days"],
];

const ACTIVITY = `query IntegrationActivity($id: ID!, $days: Int!, $unusedDays: Int!) {
  integration(id: $id) {
    id
    activity {
      lastUsedAt lastUsedFrom calls denied
      byResource { resource calls denied lastUsedAt }
      daily(days: $days) { date calls denied }
    }
    unusedResources(days: $unusedDays)
  }
}`;

const TRIM = `mutation TrimIntegrationGrant($id: ID!, $days: Int!, $currentPassword: String) {
  trimIntegrationGrant(id: $id, days: $days, currentPassword: $currentPassword) {
    integration { id resourceAccess resources }
    removedResources
    userErrors { field message code }
  }
}`;

function when(iso) {
  return iso ? new Date(iso).toLocaleString() : "";
}

/** id -> title of every node of the resource tree (for naming resources as the API tab does). */
function titles(tree) {
  const found = new Map();
  const walk = (nodes) => {
    for (const node of nodes || []) {
      found.set(node.id, node.title);
      walk(node.children);
    }
  };
  walk(tree);
  return found;
}

/**
 * The tab's content for `integration` ({id, name, setupType}). `tree` is the resource tree (for titles);
 * `onTrimmed(resources)` is told the new grant after a trim. Returns { element, load() }; load() (re)reads.
 */
export function activityPanel(integration, tree, { onTrimmed = () => {} } = {}) {
  const names = titles(tree);
  const resourceName = (id) => (names.has(id) ? `${names.get(id)} (${id})` : id);
  const readOnly = integration.setupType === "CONFIG";
  const chartPeriod = select(CHART_PERIODS, "30", { id: "activity-chart-days", name: "chartDays" });
  const unusedPeriod = select(UNUSED_PERIODS, "90", { id: "activity-unused-days", name: "unusedDays" });
  const summary = h("dl", { class: "activity-summary" });
  const chart = h("figure", { class: "activity-figure" });
  const resources = h("div", { class: "activity-resources" });
  const unused = h("div", { class: "activity-unused" });
  const trimButton = h("button", { type: "button", class: "secondary", name: "trim-grant", text: TRIM_LABEL });
  let current = null;

  const element = h(
    "div",
    { class: "activity" },
    h("fieldset", { class: "fieldset" }, h("legend", { text: "Last Use" }), summary, h("p", { class: "field-note", text: COUNTING_NOTE })),
    h(
      "fieldset",
      { class: "fieldset" },
      h("legend", { text: "Calls per Day" }),
      h("div", { class: "activity-period" }, h("label", { for: chartPeriod.id }, "Period"), chartPeriod),
      chart,
      h(
        "p",
        { class: "chart-legend" },
        h("span", { class: "legend-calls", text: "Allowed" }),
        h("span", { class: "legend-denied", text: "Denied" }),
      ),
    ),
    h("fieldset", { class: "fieldset" }, h("legend", { text: "Calls per Resource" }), resources),
    h(
      "fieldset",
      { class: "fieldset" },
      h("legend", { text: "Unused Resources" }),
      h("div", { class: "activity-period" }, h("label", { for: unusedPeriod.id }, "Not used in the last"), unusedPeriod),
      unused,
      readOnly ? null : h("div", { class: "details-actions" }, trimButton),
    ),
  );

  async function load() {
    element.setAttribute("aria-busy", "true");
    try {
      const data = await gql(ACTIVITY, {
        id: integration.id,
        days: Number(chartPeriod.value),
        unusedDays: Number(unusedPeriod.value),
      });
      current = data.integration;
    } finally {
      element.removeAttribute("aria-busy");
    }
    if (!current) return;
    const activity = current.activity;
    replace(
      summary,
      h("dt", { text: "Last used" }),
      h("dd", { class: "last-used", text: activity.lastUsedAt ? when(activity.lastUsedAt) : NEVER_USED }),
      h("dt", { text: "From" }),
      h("dd", { class: "last-used-from", text: activity.lastUsedFrom || "—" }),
      h("dt", { text: "Calls allowed" }),
      h("dd", { class: "calls", text: String(activity.calls) }),
      h("dt", { text: "Calls denied" }),
      h("dd", { class: "denied", text: String(activity.denied) }),
    );
    replace(chart, dailyChart(activity.daily, { label: `Calls per day of ${integration.name}` }));
    showResources(activity.byResource);
    showUnused(current.unusedResources);
  }

  function showResources(rows) {
    if (!rows.length) {
      replace(resources, h("p", { class: "empty", text: NO_CALLS }));
      return;
    }
    const sorted = [...rows].sort((a, b) => b.calls + b.denied - (a.calls + a.denied) || a.resource.localeCompare(b.resource));
    replace(
      resources,
      h(
        "div",
        { class: "grid-wrap" },
        h(
          "table",
          { class: "grid", "aria-label": "Calls per resource" },
          h(
            "thead",
            {},
            h("tr", {}, ["Resource", "Allowed", "Denied", "Last Used"].map((c) => h("th", { scope: "col", text: c }))),
          ),
          h(
            "tbody",
            {},
            sorted.map((row) =>
              h(
                "tr",
                { dataset: { resource: row.resource } },
                h("td", { class: "col-resource", dataset: { label: "Resource" }, text: resourceName(row.resource) }),
                h("td", { class: "col-calls", dataset: { label: "Allowed" }, text: String(row.calls) }),
                h("td", { class: "col-denied", dataset: { label: "Denied" }, text: String(row.denied) }),
                h("td", { class: "col-last-used", dataset: { label: "Last Used" }, text: when(row.lastUsedAt) }),
              ),
            ),
          ),
        ),
      ),
    );
  }

  function showUnused(ids) {
    trimButton.disabled = ids.length === 0;
    replace(
      unused,
      ids.length
        ? h("ul", { class: "unused-resources", "aria-label": "Unused resources" }, ids.map((id) => h("li", { dataset: { id }, text: resourceName(id) })))
        : h("p", { class: "empty", text: ALL_USED }),
    );
  }

  async function trim() {
    const days = Number(unusedPeriod.value);
    const count = current ? current.unusedResources.length : 0;
    let payload = null;
    const done = await confirmWithPassword({
      title: TRIM_LABEL,
      message:
        `Narrow the grant of '${integration.name}' to the resources it used in the last ${days} days? ` +
        `${count} unused resource${count === 1 ? "" : "s"} will no longer be granted; nothing is added.`,
      confirmLabel: "Trim",
      action: async (password) => {
        const data = await gql(TRIM, { id: integration.id, days, currentPassword: password });
        payload = data.trimIntegrationGrant;
        return payload.userErrors;
      },
    });
    if (!done || !payload) return;
    messages.notify("success", `The grant of the integration '${integration.name}' has been trimmed.`);
    onTrimmed(payload.integration.resources);
    await load();
  }

  chartPeriod.addEventListener("change", () => load().catch(messages.reportError));
  unusedPeriod.addEventListener("change", () => load().catch(messages.reportError));
  trimButton.addEventListener("click", () => trim().catch(messages.reportError));
  return { element, load };
}
