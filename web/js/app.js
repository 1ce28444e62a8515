// The admin console: sign-in, layout and hash routing. Every view talks to /graphql through api.js.

import { AuthError, gql, onUnauthenticated, session } from "./api.js";
import { h, replace } from "./dom.js";
import * as messages from "./messages.js";
import { ALL_RESOURCES } from "./tree.js";
import { renderAccount } from "./views/account.js";
import { renderActionLogs } from "./views/action-logs.js";
import { renderConfig } from "./views/config.js";
import { renderIntegrationForm } from "./views/integration-form.js";
import { renderIntegrations } from "./views/integrations.js";
import { renderLockedUsers } from "./views/locked-users.js";
import { renderRoleForm } from "./views/role-form.js";
import { renderRoles } from "./views/roles.js";
import { renderUserForm } from "./views/user-form.js";
import { renderUsers } from "./views/users.js";
import { renderSignIn } from "./views/signin.js";

const root = document.getElementById("app");
let layout = null;

const INTEGRATIONS = "Magento_Integration::integrations";
const USERS = "Magento_User::acl_users";
const ROLES = "Magento_User::acl_roles";
const ACTION_LOGS = "Magento_Logging::magento_logging";
const CONFIG_SYSTEM = "Magento_Config::config_system";

/** [hash pattern, view, the resource the page needs (none: every admin)]. */
const ROUTES = [
  [/^#\/integrations\/new$/, () => renderIntegrationForm(null), INTEGRATIONS],
  [/^#\/integrations\/edit\/(.+)$/, (m) => renderIntegrationForm(decodeURIComponent(m[1])), INTEGRATIONS],
  [/^#\/integrations$/, () => renderIntegrations(), INTEGRATIONS],
  [/^#\/config\/webapi$/, () => renderConfig("webapi", layout.viewer.resources), "Magento_Webapi::config_webapi"],
  [/^#\/config\/oauth$/, () => renderConfig("oauth", layout.viewer.resources), "Magento_Integration::config_oauth"],
  [
    /^#\/config\/rate-limits$/,
    () => renderConfig("rate-limits", layout.viewer.resources),
    "Magento_Webapi::config_webapi",
  ],
  [/^#\/config\/caching$/, () => renderConfig("caching", layout.viewer.resources), "Magento_Webapi::config_webapi"],
  [/^#\/users$/, () => renderUsers(), USERS],
  [/^#\/users\/new$/, () => renderUserForm(null), USERS],
  [/^#\/users\/edit\/(.+)$/, (m) => renderUserForm(decodeURIComponent(m[1])), USERS],
  [/^#\/roles$/, () => renderRoles(), ROLES],
  [/^#\/roles\/new$/, () => renderRoleForm(null), ROLES],
  [/^#\/roles\/edit\/(.+)$/, (m) => renderRoleForm(decodeURIComponent(m[1])), ROLES],
  [/^#\/locked-users$/, () => renderLockedUsers(), "Magento_User::locks"],
  [/^#\/action-logs$/, () => renderActionLogs(), ACTION_LOGS],
  [/^#\/config\/action-logs$/, () => renderConfig("action-logs", layout.viewer.resources), CONFIG_SYSTEM],
  [/^#\/account$/, () => renderAccount(), null],
];

export const RESET_MESSAGE = "One or more integrations have been reset because of a change to their xml configs.";

/** Menu entries: [href, title, the ACL resource the admin's role must hold to see and open it]. */
const NAV = [
  {
    title: "System",
    groups: [
      { title: "Extensions", links: [["#/integrations", "Integrations", "Magento_Integration::integrations"]] },
      {
        title: "Permissions",
        links: [
          ["#/users", "All Users", "Magento_User::acl_users"],
          ["#/locked-users", "Locked Users", "Magento_User::locks"],
          ["#/roles", "User Roles", "Magento_User::acl_roles"],
        ],
      },
      { title: "Action Logs", links: [["#/action-logs", "Report", ACTION_LOGS]] },
    ],
  },
  {
    title: "Stores",
    groups: [
      {
        title: "Configuration: Services",
        links: [
          ["#/config/webapi", "Magento Web API", "Magento_Webapi::config_webapi"],
          ["#/config/oauth", "OAuth", "Magento_Integration::config_oauth"],
          ["#/config/rate-limits", "Rate Limits", "Magento_Webapi::config_webapi"],
          ["#/config/caching", "HTTP Caching", "Magento_Webapi::config_webapi"],
        ],
      },
      {
        title: "Configuration: Advanced",
        links: [["#/config/action-logs", "Action Logs Archiving", CONFIG_SYSTEM]],
      },
    ],
  },
];

const ACCOUNT_PAGE = "#/account";

/** Whether a role holding `resources` may use `resource` (`Magento_Backend::all` holds everything). */
export function allows(resources, resource) {
  return resources.includes(ALL_RESOURCES) || resources.includes(resource);
}

function buildLayout(viewer) {
  const page = h("div", { id: "page", class: "page" });
  const region = h("div", { id: "messages", class: "messages", "aria-live": "polite" });
  const systemMessages = h("div", { class: "system-messages", "aria-label": "System messages", role: "region", hidden: true });
  const navLinks = [];
  const sections = NAV.map((section) => {
    const groups = section.groups
      .map((group) => ({ ...group, links: group.links.filter(([, , resource]) => allows(viewer.resources, resource)) }))
      .filter((group) => group.links.length);
    if (!groups.length) return null;
    return h(
      "div",
      { class: "nav-section" },
      h("h2", { class: "nav-title", text: section.title }),
      groups.map((group) =>
        h(
          "div",
          { class: "nav-group" },
          h("h3", { class: "nav-group-title", text: group.title }),
          h(
            "ul",
            {},
            group.links.map(([href, text]) => {
              const a = h("a", { href, text });
              navLinks.push(a);
              return h("li", {}, a);
            }),
          ),
        ),
      ),
    );
  });
  const nav = h("nav", { class: "sidebar", "aria-label": "Main menu" }, sections);
  const main = h("main", { id: "main", class: "main", tabindex: "-1" }, systemMessages, region, page);
  const header = h(
    "header",
    { class: "topbar" },
    h("a", { class: "skip-link", href: "#main", onclick: skipToMain }, "Skip to content"),
    h("a", { class: "brand", href: "#/" }, "Integrations Admin"),
    h(
      "div",
      { class: "account" },
      h("span", { class: "account-name", "aria-label": "Signed in as", text: viewer.name }),
      h("a", { class: "account-setting-link", href: ACCOUNT_PAGE }, "Account Setting"),
      h("button", { type: "button", class: "secondary", id: "sign-out", onclick: signOut }, "Sign Out"),
    ),
  );
  replace(root, header, h("div", { class: "shell" }, nav, main));
  messages.attach(region);
  const home = navLinks.length ? navLinks[0].getAttribute("href") : ACCOUNT_PAGE;
  return { page, main, navLinks, viewer, home, systemMessages };
}

/** Magento's system message while a config-file integration is Reset (it must be reauthorized). */
async function showSystemMessages() {
  if (!allows(layout.viewer.resources, "Magento_Integration::integrations")) return;
  const box = layout.systemMessages;
  try {
    const data = await gql("query SystemMessages { reset: integrations(first: 0, status: RESET) { totalCount } }");
    const reset = data.reset ? data.reset.totalCount : 0;
    const [before, after] = RESET_MESSAGE.split("integrations");
    replace(
      box,
      reset
        ? h("div", { class: "message message-notice", role: "status" }, before, h("a", { href: "#/integrations" }, "integrations"), after)
        : null,
    );
    box.hidden = !reset;
  } catch {
    // A notice is not worth an error message of its own; the page reports real failures.
  }
}

function skipToMain(event) {
  event.preventDefault();
  document.getElementById("main").focus();
}

async function route() {
  if (!session.token) {
    showSignIn();
    return;
  }
  if (!layout) {
    let viewer;
    try {
      const data = await gql("query Viewer { viewer { kind name resources } }");
      viewer = data.viewer;
      if (viewer.kind !== "ADMIN") {
        session.clear();
        showSignIn("Sign in with an admin account.");
        return;
      }
    } catch (error) {
      if (!(error instanceof AuthError)) showSignIn(error.message);
      return;
    }
    layout = buildLayout(viewer);
  }
  const hash = location.hash;
  const match = ROUTES.map(([re, view, resource]) => [hash.match(re), view, resource]).find(([m]) => m);
  // No page, or one the admin's role does not allow: go to the first page it does (hashchange routes again).
  if (!match || (match[2] && !allows(layout.viewer.resources, match[2]))) {
    location.replace(layout.home);
    return;
  }
  for (const a of layout.navLinks) {
    if (hash.startsWith(a.getAttribute("href"))) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  messages.showQueued();
  showSystemMessages();
  replace(layout.page, h("p", { class: "loading", text: "Loading…" }));
  const [m, view] = match;
  try {
    const content = await view(m);
    if (content && location.hash === hash) replace(layout.page, content);
  } catch (error) {
    if (error instanceof AuthError) return;
    replace(layout.page);
    messages.notify("error", error.message);
  }
}

function showSignIn(message) {
  layout = null;
  for (const dialog of document.querySelectorAll("dialog")) dialog.close();
  document.title = "Admin";
  replace(
    root,
    renderSignIn({
      message,
      onSignedIn: () => route(),
    }),
  );
}

async function signOut() {
  try {
    await gql("mutation SignOut { revokeAdminToken { revoked } }");
  } catch {
    // The token is dropped below whatever the server says.
  }
  session.clear();
  // The next admin to sign in starts on their own first page, not on the page this one left.
  history.replaceState(null, "", location.pathname + location.search);
  showSignIn({ type: "success", text: "You have logged out." });
}

onUnauthenticated((message) => showSignIn(message));
window.addEventListener("hashchange", route);
route();
