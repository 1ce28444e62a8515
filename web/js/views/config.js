// Stores > Configuration > Services: Magento Web API (Web API Security), OAuth, Rate Limits (query cost and
// throttling) and HTTP Caching (how long caches may keep public GraphQL GET answers), and Advanced > System:
// Action Logs Archiving (the audit trail's lifetime). Each field has Magento's
// "Use system value" checkbox: ticked, nothing is stored for it and the default applies.

import { fieldKey, gql } from "../api.js";
import { field, h, select, uid } from "../dom.js";
import * as messages from "../messages.js";

export const GUEST_NOTE =
  "This feature applies only to CMS, Catalog and Store APIs. Please consult your developers for details on potential security risks.";
export const SAVED = "You saved the configuration.";
export const USE_SYSTEM_VALUE = "Use system value";

const YES_NO = [
  ["1", "Yes"],
  ["0", "No"],
];

/** Sections: [key, title, the resource the admin's role must hold]. */
const SECTIONS = [
  ["webapi", "Magento Web API", "Magento_Webapi::config_webapi"],
  ["oauth", "OAuth", "Magento_Integration::config_oauth"],
  ["rate-limits", "Rate Limits", "Magento_Webapi::config_webapi"],
  ["caching", "HTTP Caching", "Magento_Webapi::config_webapi"],
  ["action-logs", "Action Logs Archiving", "Magento_Config::config_system"],
];

/** Advanced > System > Action Logs Archiving: how long the audit trail keeps events. */
const ACTION_LOG_GROUPS = [
  [
    "Action Logs Archiving",
    [
      [
        "logEntryLifetime",
        "Log Entry Lifetime, Days",
        "Events older than this are deleted, oldest first, hourly; the deletion is itself an event, so the log " +
          "still verifies.",
      ],
    ],
  ],
];

/** HTTP caching of public GraphQL GET answers: [field, label, note, kind]. */
const CACHING_GROUPS = [
  [
    "Public GraphQL Answers",
    [
      [
        "publicMaxAge",
        "Max Age (seconds)",
        "How long browsers, proxies and CDNs may reuse an answer every guest would get alike. 0: they ask each time.",
      ],
      [
        "staleWhileRevalidate",
        "Stale While Revalidate (seconds)",
        "How much longer a cache may answer with its copy while it fetches a fresh one.",
      ],
    ],
  ],
];

/** Query cost and throttling groups and fields: [field, label, note, kind]. */
const RATE_LIMIT_GROUPS = [
  [
    "Query Cost",
    [
      [
        "maxQueryCost",
        "Maximum Query Cost",
        "Points. A costlier document is refused before it runs (MAX_COST_EXCEEDED). At least 100.",
      ],
    ],
  ],
  [
    "Throttling",
    [
      [
        "throttlingEnabled",
        "Throttle Requests by Cost",
        "One leaky bucket per integration, per admin user and per guest client address.",
        "flag",
      ],
      ["integrationBucketSize", "Integration Bucket Size", "Points; an integration may have its own."],
      ["integrationRestoreRate", "Integration Restore Rate", "Points per second."],
      ["adminBucketSize", "Admin Bucket Size", "Points; at least 100."],
      ["adminRestoreRate", "Admin Restore Rate", "Points per second."],
      ["guestBucketSize", "Guest Bucket Size", "Points per client address."],
      ["guestRestoreRate", "Guest Restore Rate", "Points per second."],
    ],
  ],
];

/** OAuth groups and fields: [field, label, note, kind]. */
const OAUTH_GROUPS = [
  [
    "Consumer Settings",
    [
      [
        "consumerExpirationPeriod",
        "Expiration Period",
        "Consumer key/secret will expire if not used within X seconds after Oauth token exchange starts.",
      ],
      [
        "consumerPostMaxRedirects",
        "OAuth consumer credentials HTTP Post maxredirects",
        "Number of maximum redirects for OAuth consumer credentials Post request.",
      ],
      [
        "consumerPostTimeout",
        "OAuth consumer credentials HTTP Post timeout",
        "Timeout for OAuth consumer credentials Post request within X seconds.",
      ],
      ["enableIntegrationAsBearer", "Allow OAuth Access Tokens to be used as standalone Bearer tokens", null, "flag"],
      [
        "allowHmacSha1",
        "Allow HMAC-SHA1 signatures",
        "For clients written before Magento 2.4.4. HMAC-SHA256 is always accepted.",
        "flag",
      ],
      [
        "privateCallbackAllowList",
        "Private callback allow-list",
        "One per line: host names, IP addresses or networks (CIDR) on a private network or loopback that callback " +
          "URLs may reach, e.g. an on-premise ERP. Link-local and cloud-metadata addresses are never reached.",
        "lines",
      ],
    ],
  ],
  [
    "Access Token Expiration",
    [
      ["adminTokenLifetime", "Admin Token Lifetime (hours)", null],
    ],
  ],
  [
    "Authentication Locks",
    [
      [
        "maxFailuresCount",
        "Maximum Login Failures to Lock Out Account",
        "Maximum Number of authentication failures to lock out account.",
      ],
      ["lockoutTime", "Lockout Time (seconds)", "Period of time in seconds after which account will be unlocked."],
    ],
  ],
  [
    "Cleanup Settings",
    [
      [
        "cleanupProbability",
        "Cleanup Probability",
        "Integer. Launch cleanup in X OAuth requests. 0 (not recommended) - to disable cleanup",
      ],
      ["cleanupExpirationPeriod", "Expiration Period", "Cleanup entries older than X minutes."],
    ],
  ],
  [
    "Integration Activity",
    [
      [
        "activityRetentionDays",
        "Activity Retention (days)",
        "Days of each integration's calls per resource and day that are kept (at least 90). Older days are " +
          "deleted; each integration's last use is kept.",
      ],
    ],
  ],
];

export async function renderConfig(section, resources = null) {
  document.title = `Configuration · Admin`;
  const content =
    section === "webapi"
      ? await webApiSection()
      : section === "rate-limits"
        ? await settingsSection(RATE_LIMIT_SECTION)
        : section === "action-logs"
          ? await settingsSection(ACTION_LOG_SECTION)
        : section === "caching"
          ? await settingsSection(CACHING_SECTION)
          : await settingsSection(OAUTH_SECTION);
  const holds = (resource) => !resources || resources.includes("Magento_Backend::all") || resources.includes(resource);
  const sectionNav = h(
    "nav",
    { class: "config-tabs", "aria-label": "Configuration sections" },
    h("h2", { class: "config-tabs-title", text: "Sections" }),
    h(
      "ul",
      {},
      SECTIONS.filter(([, , resource]) => holds(resource)).map(([key, label]) =>
        h(
          "li",
          {},
          h("a", { href: `#/config/${key}`, "aria-current": key === section ? "page" : null, text: label }),
        ),
      ),
    ),
  );
  return h(
    "section",
    { class: "config", "aria-labelledby": "page-title" },
    h("div", { class: "page-header" }, h("h1", { id: "page-title", text: "Configuration" })),
    h("div", { class: "config-layout" }, sectionNav, content),
  );
}

function configForm(title, groups, onSave) {
  const button = h("button", { type: "submit", class: "primary" }, "Save Config");
  const form = h(
    "form",
    { class: "config-form", novalidate: true, "aria-label": title },
    h("div", { class: "config-header" }, h("h2", { text: title }), button),
    groups,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    messages.clear();
    button.disabled = true;
    try {
      await onSave();
    } catch (error) {
      messages.reportError(error);
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

/**
 * Add Magento's "Use system value" checkbox under a field's control. Ticking it shows the system value and
 * disables the control; unticking lets the admin enter a stored value again. Returns `() => ticked`.
 */
function useSystemValue(f, { ticked, systemValue, show }) {
  const id = uid("use-system");
  const box = h("input", { type: "checkbox", id, name: `${f.control.name}-use-system`, checked: ticked });
  const sync = () => {
    if (box.checked) {
      show(systemValue);
      f.setError("");
    }
    f.control.disabled = box.checked;
  };
  box.addEventListener("change", sync);
  sync();
  f.control.parentElement.append(h("div", { class: "use-system" }, box, h("label", { for: id }, USE_SYSTEM_VALUE)));
  return () => box.checked;
}

function group(legend, rows) {
  return h("fieldset", { class: "fieldset config-group" }, h("legend", { text: legend }), rows);
}

async function webApiSection() {
  const data = await gql(`query WebApiSecurity { config { webApiSecurity {
    allowAnonymousGuestAccess usesSystemValue systemValue { allowAnonymousGuestAccess } } } }`);
  const current = data.config.webApiSecurity;
  if (!current) throw new Error("You are not allowed to see this section.");
  const guest = field({
    label: "Allow Anonymous Guest Access",
    control: select(YES_NO, current.allowAnonymousGuestAccess ? "1" : "0", { name: "allowAnonymousGuestAccess" }),
    note: GUEST_NOTE,
  });
  const usesSystem = useSystemValue(guest, {
    ticked: current.usesSystemValue.includes("allowAnonymousGuestAccess"),
    systemValue: current.systemValue.allowAnonymousGuestAccess,
    show: (value) => {
      guest.control.value = value ? "1" : "0";
    },
  });
  return configForm("Magento Web API", group("Web API Security", guest.row), async () => {
    guest.setError("");
    const result = (
      await gql(
        `mutation SetGuestAccess($allow: Boolean!, $useSystemValue: Boolean!) {
          setGuestAccess(allow: $allow, useSystemValue: $useSystemValue) {
            webApiSecurity { allowAnonymousGuestAccess } userErrors { field message code }
          }
        }`,
        { allow: guest.control.value === "1", useSystemValue: usesSystem() },
      )
    ).setGuestAccess;
    if (result.userErrors.length) {
      for (const e of result.userErrors) guest.setError(e.message);
      return;
    }
    guest.control.value = result.webApiSecurity.allowAnonymousGuestAccess ? "1" : "0";
    messages.notify("success", SAVED);
  });
}

const OAUTH_SECTION = {
  title: "OAuth",
  groups: OAUTH_GROUPS,
  field: "oauth",
  mutation: "updateOAuthConfig",
  input: "UpdateOAuthConfigInput",
};
const RATE_LIMIT_SECTION = {
  title: "Rate Limits",
  groups: RATE_LIMIT_GROUPS,
  field: "rateLimits",
  mutation: "updateRateLimitConfig",
  input: "UpdateRateLimitConfigInput",
};

const ACTION_LOG_SECTION = {
  title: "Action Logs Archiving",
  groups: ACTION_LOG_GROUPS,
  field: "actionLogs",
  mutation: "updateActionLogConfig",
  input: "UpdateActionLogConfigInput",
};

const CACHING_SECTION = {
  title: "HTTP Caching",
  groups: CACHING_GROUPS,
  field: "caching",
  mutation: "updateCachingConfig",
  input: "UpdateCachingConfigInput",
};

/** A section of numbers and yes/no settings, each with "Use system value". */
async function settingsSection({ title, groups: sectionGroups, field: name, mutation, input: inputType }) {
  const names = sectionGroups.flatMap(([, defs]) => defs.map((f) => f[0]));
  const data = await gql(`query SectionConfig { config { ${name} {
    ${names.join(" ")} usesSystemValue systemValue { ${names.join(" ")} } } } }`);
  const current = data.config[name];
  if (!current) throw new Error("You are not allowed to see this section.");
  const fields = {};
  const show = (f, value) => {
    if (f.kind === "lines") f.control.value = value.join("\n");
    else f.control.value = f.kind === "flag" ? (value ? "1" : "0") : String(value);
  };
  const groups = sectionGroups.map(([legend, defs]) =>
    group(
      legend,
      defs.map(([key, label, note, kind]) => {
        const control =
          kind === "flag"
            ? select(YES_NO, current[key] ? "1" : "0", { name: key })
            : kind === "lines"
              ? h("textarea", { name: key, rows: 4, spellcheck: "false" })
              : h("input", { type: "text", inputmode: "numeric", name: key, value: String(current[key]) });
        if (kind === "lines") control.value = current[key].join("\n");
        const f = { ...field({ label, control, note, required: kind === undefined }), kind };
        f.usesSystem = useSystemValue(f, {
          ticked: current.usesSystemValue.includes(key),
          systemValue: current.systemValue[key],
          show: (value) => show(f, value),
        });
        fields[key] = f;
        return f.row;
      }),
    ),
  );
  return configForm(title, groups, async () => {
    const input = { useSystemValue: [] };
    let invalid = null;
    for (const [key, f] of Object.entries(fields)) {
      f.setError("");
      if (f.usesSystem()) {
        input.useSystemValue.push(key);
        continue;
      }
      if (f.kind === "flag") {
        input[key] = f.control.value === "1";
        continue;
      }
      if (f.kind === "lines") {
        input[key] = f.control.value
          .split("\n")
          .map((line) => line.trim())
          .filter(Boolean);
        continue;
      }
      const raw = f.control.value.trim();
      if (!/^\d{1,9}$/.test(raw)) {
        f.setError(raw ? "Please enter a valid whole number." : "This is a required field.");
        invalid = invalid || f.control;
        continue;
      }
      input[key] = Number(raw);
    }
    if (invalid) {
      invalid.focus();
      return;
    }
    const result = (
      await gql(
        `mutation UpdateSection($input: ${inputType}!) {
          ${mutation}(input: $input) { ${name} { ${names.join(" ")} } userErrors { field message code } }
        }`,
        { input },
      )
    )[mutation];
    if (result.userErrors.length) {
      let first = null;
      for (const e of result.userErrors) {
        const key = (fieldKey(e) || "").replace(/^input\./, "");
        if (fields[key]) {
          // A list may have several bad entries: show every message.
          const shown = fields[key].error.hidden ? "" : `${fields[key].error.textContent} `;
          fields[key].setError(shown + e.message);
          first = first || fields[key].control;
        } else {
          messages.notify("error", e.message);
        }
      }
      if (first) first.focus();
      return;
    }
    for (const [key, f] of Object.entries(fields)) show(f, result[name][key]);
    messages.notify("success", SAVED);
  });
}
