// The admin console: sign-in, layout and hash routing. Every view talks to /graphql through api.js.

import { AuthError, gql, onUnauthenticated, session } from "./api.js";
import { h, replace } from "./dom.js";
import * as messages from "./messages.js";
import { renderConfig } from "./views/config.js";
import { renderIntegrationForm } from "./views/integration-form.js";
import { renderIntegrations } from "./views/integrations.js";
import { renderSignIn } from "./views/signin.js";

const root = document.getElementById("app");
let layout = null;

const ROUTES = [
  [/^#\/integrations\/new$/, () => renderIntegrationForm(null)],
  [/^#\/integrations\/edit\/(.+)$/, (m) => renderIntegrationForm(decodeURIComponent(m[1]))],
  [/^#\/integrations$/, () => renderIntegrations()],
  [/^#\/config\/(webapi|oauth)$/, (m) => renderConfig(m[1])],
];

const NAV = [
  {
    title: "System",
    groups: [{ title: "Extensions", links: [["#/integrations", "Integrations"]] }],
  },
  {
    title: "Stores",
    groups: [
      {
        title: "Configuration: Services",
        links: [
          ["#/config/webapi", "Magento Web API"],
          ["#/config/oauth", "OAuth"],
        ],
      },
    ],
  },
];

function buildLayout(viewerName) {
  const page = h("div", { id: "page", class: "page" });
  const region = h("div", { id: "messages", class: "messages", "aria-live": "polite" });
  const navLinks = [];
  const nav = h(
    "nav",
    { class: "sidebar", "aria-label": "Main menu" },
    NAV.map((section) =>
      h(
        "div",
        { class: "nav-section" },
        h("h2", { class: "nav-title", text: section.title }),
        section.groups.map((group) =>
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
      ),
    ),
  );
  const main = h("main", { id: "main", class: "main", tabindex: "-1" }, region, page);
  const header = h(
    "header",
    { class: "topbar" },
    h("a", { class: "skip-link", href: "#main", onclick: skipToMain }, "Skip to content"),
    h("a", { class: "brand", href: "#/integrations" }, "Integrations Admin"),
    h(
      "div",
      { class: "account" },
      h("span", { class: "account-name", "aria-label": "Signed in as", text: viewerName }),
      h("button", { type: "button", class: "secondary", id: "sign-out", onclick: signOut }, "Sign Out"),
    ),
  );
  replace(root, header, h("div", { class: "shell" }, nav, main));
  messages.attach(region);
  return { page, main, navLinks, viewerName };
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
    let name = "";
    try {
      const data = await gql("query Viewer { viewer { kind name } }");
      if (data.viewer.kind !== "ADMIN") {
        session.clear();
        showSignIn("Sign in with an admin account.");
        return;
      }
      name = data.viewer.name;
    } catch (error) {
      if (!(error instanceof AuthError)) showSignIn(error.message);
      return;
    }
    layout = buildLayout(name);
  }
  const hash = location.hash || "#/integrations";
  const match = ROUTES.map(([re, view]) => [hash.match(re), view]).find(([m]) => m);
  if (!match) {
    location.replace("#/integrations");
    return;
  }
  for (const a of layout.navLinks) {
    if (hash.startsWith(a.getAttribute("href"))) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  messages.showQueued();
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
      onSignedIn: () => {
        if (!location.hash || location.hash === "#/") location.hash = "#/integrations";
        route();
      },
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
  showSignIn({ type: "success", text: "You have logged out." });
}

onUnauthenticated((message) => showSignIn(message));
window.addEventListener("hashchange", route);
route();
