// System > Permissions > All Users: the users grid.

import { h } from "../dom.js";
import { cell, pagedGrid } from "../grid.js";

const GRID = `query AdminUsers($first: Int, $after: String) {
  adminUsers(first: $first, after: $after) {
    edges { node { id username firstName lastName email isActive role { id name } } }
    pageInfo { hasNextPage endCursor }
    totalCount
  }
}`;

const state = { pageSize: "20", cursors: [null] };

export async function renderUsers() {
  document.title = "Users · Admin";
  const grid = pagedGrid({
    query: GRID,
    key: "adminUsers",
    label: "Users",
    columns: [
      ["User Name", "col-name"],
      ["First Name", "col-first-name"],
      ["Last Name", "col-last-name"],
      ["Email", "col-email"],
      ["Role", "col-role"],
      ["Status", "col-status"],
    ],
    state,
    row: (user) => [
      cell(
        "col-name",
        null,
        h(
          "a",
          { class: "name", href: `#/users/edit/${encodeURIComponent(user.id)}`, "aria-label": `Edit user ${user.username}` },
          user.username,
        ),
      ),
      cell("col-first-name", "First Name", user.firstName),
      cell("col-last-name", "Last Name", user.lastName),
      cell("col-email", "Email", user.email),
      cell("col-role", "Role", user.role ? user.role.name : ""),
      cell("col-status", "Status", user.isActive ? "Active" : "Inactive"),
    ],
  });
  await grid.load();
  return h(
    "section",
    { class: "users", "aria-labelledby": "page-title" },
    h(
      "div",
      { class: "page-header" },
      h("h1", { id: "page-title", text: "Users" }),
      h("a", { class: "button primary", href: "#/users/new" }, "Add New User"),
    ),
    grid.element,
  );
}
