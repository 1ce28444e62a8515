// System > Permissions > User Roles: the roles grid.

import { cell, pagedGrid } from "../grid.js";
import { h } from "../dom.js";

const GRID = `query AdminRoles($first: Int, $after: String) {
  adminRoles(first: $first, after: $after) {
    edges { node { id name resourceAccess userCount } }
    pageInfo { hasNextPage endCursor }
    totalCount
  }
}`;

const state = { pageSize: "20", cursors: [null] };

export async function renderRoles() {
  document.title = "Roles · Admin";
  const grid = pagedGrid({
    query: GRID,
    key: "adminRoles",
    label: "Roles",
    columns: [
      ["Role", "col-name"],
      ["Resource Access", "col-access"],
      ["Users", "col-users"],
    ],
    state,
    row: (role) => [
      cell(
        "col-name",
        null,
        h("a", { class: "name", href: `#/roles/edit/${encodeURIComponent(role.id)}`, "aria-label": `Edit role ${role.name}` }, role.name),
      ),
      cell("col-access", "Resource Access", role.resourceAccess === "ALL" ? "All" : "Custom"),
      cell("col-users", "Users", String(role.userCount)),
    ],
  });
  await grid.load();
  return h(
    "section",
    { class: "roles", "aria-labelledby": "page-title" },
    h(
      "div",
      { class: "page-header" },
      h("h1", { id: "page-title", text: "Roles" }),
      h("a", { class: "button primary", href: "#/roles/new" }, "Add New Role"),
    ),
    grid.element,
  );
}
