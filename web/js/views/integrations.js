// System > Extensions > Integrations: the grid (search, column filters and sorting, paging), its notices
// and its row actions.

import { gql } from "../api.js";
import { startActivation } from "../activation.js";
import { openDialog } from "../dialog.js";
import { field, h, replace, select } from "../dom.js";
import * as messages from "../messages.js";
import { isPasswordError, yourPasswordField } from "../your-password.js";

export const STATUS_LABELS = { INACTIVE: "Inactive", ACTIVE: "Active", RESET: "Reset" };
export const NOT_SECURE = "Integration not secure";
export const NO_RECORDS = "We couldn't find any records.";
export const NEVER_USED = "Never";
export const DELETE_CONFIRM = "Are you sure you want to delete this integration? You can't undo this action.";
export const UNINSTALL_TITLE = "Uninstall the extension to remove this integration";
export const NO_LONGER_DECLARED = "No longer in the integrations file";
export const FILE_PROBLEMS_TITLE = "The integrations file has problems";
export const HTTPS_WARNING =
  "Warning! Integrations not using HTTPS are insecure and potentially expose private or personally identifiable information";

const GRID = `query Integrations($first: Int, $after: String, $status: IntegrationStatus, $search: String, $name: String,
    $email: String, $sort: IntegrationSort) {
  integrations(first: $first, after: $after, status: $status, search: $search, name: $name, email: $email, sort: $sort) {
    edges { cursor node { id name email status setupType declaredInFile isSecure isTokenExchange activity { lastUsedAt } } }
    pageInfo { hasNextPage endCursor }
    totalCount
  }
  insecure: integrations(first: 0, isSecure: false) { totalCount }
  integrationsFileProblems
}`;

/** Sortable columns: [sort field, header, cell class]. */
const COLUMNS = [
  ["ID", "ID", "col-id"],
  ["NAME", "Name", "col-name"],
  ["EMAIL", "Email", "col-email"],
  ["STATUS", "Status", "col-status"],
];

const DELETE = `mutation DeleteIntegration($id: ID!, $currentPassword: String) {
  deleteIntegration(id: $id, currentPassword: $currentPassword) { deletedId userErrors { field message code } }
}`;

const PAGE_SIZES = ["20", "30", "50", "100"];

// Kept across visits, so Back from an edit page returns to the same search, sort and page.
const state = {
  search: "",
  name: "",
  email: "",
  status: "",
  sort: { field: "NAME", direction: "ASC" },
  pageSize: "20",
  cursors: [null],
};

export async function renderIntegrations() {
  document.title = "Integrations · Admin";
  const body = h("tbody");
  const pager = h("div", { class: "pager" });
  const found = h("p", { class: "records-found", "aria-live": "polite" });
  const fileProblems = h("div", { class: "file-problems", role: "alert", hidden: true });
  const httpsWarning = h("div", { class: "message message-notice https-warning", role: "status", hidden: true }, HTTPS_WARNING);
  const searchBox = field({
    label: "Search by name or email",
    control: h("input", { type: "search", name: "search", value: state.search, autocomplete: "off" }),
  });
  const nameFilter = field({
    label: "Name",
    control: h("input", { type: "text", name: "name", value: state.name, autocomplete: "off" }),
  });
  const emailFilter = field({
    label: "Email",
    control: h("input", { type: "text", name: "email", value: state.email, autocomplete: "off" }),
  });
  const statusFilter = field({
    label: "Status",
    control: select(
      [["", "Any"], ...Object.entries(STATUS_LABELS)],
      state.status,
      { name: "status" },
    ),
  });
  const filters = h(
    "form",
    { class: "grid-filters", role: "search", "aria-label": "Filter integrations" },
    searchBox.row,
    nameFilter.row,
    emailFilter.row,
    statusFilter.row,
    h(
      "div",
      { class: "filter-actions" },
      h("button", { type: "submit", class: "primary" }, "Search"),
      h("button", { type: "button", class: "secondary", onclick: resetFilter }, "Reset Filter"),
    ),
  );
  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    state.search = searchBox.control.value.trim();
    state.name = nameFilter.control.value.trim();
    state.email = emailFilter.control.value.trim();
    state.status = statusFilter.control.value;
    state.cursors = [null];
    load().catch(messages.reportError);
  });

  function resetFilter() {
    state.search = "";
    state.name = "";
    state.email = "";
    state.status = "";
    state.cursors = [null];
    for (const f of [searchBox, nameFilter, emailFilter, statusFilter]) f.control.value = "";
    load().catch(messages.reportError);
  }

  // Magento's grid headers: a click sorts by the column, a second click reverses it.
  const headers = COLUMNS.map(([key, label, className]) => {
    const button = h("button", { type: "button", class: "sort", onclick: () => sortBy(key) }, label);
    return { key, th: h("th", { scope: "col", class: ["sortable", className] }, button) };
  });
  function showSort() {
    for (const { key, th } of headers) {
      if (key === state.sort.field) th.setAttribute("aria-sort", state.sort.direction === "ASC" ? "ascending" : "descending");
      else th.removeAttribute("aria-sort");
    }
  }
  function sortBy(key) {
    const same = state.sort.field === key;
    state.sort = { field: key, direction: same && state.sort.direction === "ASC" ? "DESC" : "ASC" };
    state.cursors = [null];
    showSort();
    load().catch(messages.reportError);
  }
  showSort();

  const table = h(
    "table",
    { class: "grid", "aria-label": "Integrations" },
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        headers.map((c) => c.th),
        h("th", { scope: "col", class: "col-last-used", text: "Last Used" }),
        ["Activate", "Edit", "Delete"].map((c) => h("th", { scope: "col", text: c })),
      ),
    ),
    body,
  );

  async function load() {
    body.setAttribute("aria-busy", "true");
    const after = state.cursors[state.cursors.length - 1];
    let data;
    try {
      data = await gql(GRID, {
        first: Number(state.pageSize),
        after,
        status: state.status || null,
        search: state.search || null,
        name: state.name || null,
        email: state.email || null,
        sort: state.sort,
      });
    } finally {
      body.removeAttribute("aria-busy");
    }
    showFileProblems(data.integrationsFileProblems || []);
    httpsWarning.hidden = !(data.insecure && data.insecure.totalCount > 0);
    const connection = data.integrations;
    const edges = connection ? connection.edges : [];
    if (!edges.length && state.cursors.length > 1) {
      // The page emptied (e.g. its last row was deleted): go back one page.
      state.cursors.pop();
      return load();
    }
    replace(body, edges.length ? edges.map((e) => row(e.node)) : emptyRow());
    const total = connection ? connection.totalCount : 0;
    found.textContent = `${total} records found`;
    renderPager(connection ? connection.pageInfo : { hasNextPage: false });
  }

  function showFileProblems(problems) {
    fileProblems.hidden = problems.length === 0;
    replace(
      fileProblems,
      h("strong", { text: FILE_PROBLEMS_TITLE }),
      h("ul", {}, problems.map((problem) => h("li", { text: problem }))),
    );
  }

  function emptyRow() {
    return h("tr", { class: "empty" }, h("td", { colspan: String(COLUMNS.length + 4), text: NO_RECORDS }));
  }

  function row(node) {
    const nameCell = h("td", { class: "col-name" }, h("span", { class: "name", text: node.name }));
    if (!node.isSecure) {
      nameCell.append(h("span", { class: "not-secure", title: NOT_SECURE, text: NOT_SECURE }));
    }
    // A config-file integration the file no longer declares is kept until an admin deletes it.
    const undeclared = node.setupType === "CONFIG" && !node.declaredInFile;
    if (undeclared) {
      nameCell.append(h("span", { class: "undeclared", text: NO_LONGER_DECLARED }));
    }
    const isConfig = node.setupType === "CONFIG";
    const activateLabel = node.status === "INACTIVE" ? "Activate" : "Reauthorize";
    const activate = h(
      "button",
      {
        type: "button",
        class: "link-button",
        "aria-label": `${activateLabel} ${node.name}`,
        onclick: () =>
          startActivation(node, {
            reauthorize: node.status !== "INACTIVE",
            onFinished: () => load().catch(messages.reportError),
          }),
      },
      activateLabel,
    );
    const edit = h(
      "a",
      { href: `#/integrations/edit/${encodeURIComponent(node.id)}`, "aria-label": `Edit ${node.name}` },
      isConfig ? "View" : "Edit",
    );
    const remove = h(
      "button",
      {
        type: "button",
        class: "link-button",
        "aria-label": `Delete ${node.name}`,
        disabled: isConfig && !undeclared,
        title: isConfig && !undeclared ? UNINSTALL_TITLE : null,
        onclick: () => deleteIntegration(node),
      },
      "Delete",
    );
    return h(
      "tr",
      { dataset: { id: node.id, status: node.status } },
      h("td", { class: "col-id", dataset: { label: "ID" }, text: databaseId(node.id) }),
      nameCell,
      h("td", { class: "col-email", dataset: { label: "Email" }, text: node.email || "" }),
      h("td", { class: "col-status", dataset: { label: "Status" }, text: STATUS_LABELS[node.status] || node.status }),
      h("td", { class: "col-last-used", dataset: { label: "Last Used" }, text: lastUsed(node) }),
      h("td", { class: "col-activate" }, activate),
      h("td", { class: "col-edit" }, edit),
      h("td", { class: "col-delete" }, remove),
    );
  }

  /** Magento's confirm modal, with Your Password: a wrong one is shown beside the field, the modal stays. */
  function deleteIntegration(node) {
    const yourPassword = yourPasswordField();
    openDialog({
      title: "Are you sure?",
      className: "confirm",
      body: [h("p", { text: DELETE_CONFIRM }), yourPassword.row],
      buttons: [
        { label: "Cancel" },
        {
          label: "OK",
          primary: true,
          onClick: async (dialog) => {
            dialog.setBusy(true);
            yourPassword.setError("");
            messages.clear();
            let result;
            try {
              result = (await gql(DELETE, { id: node.id, currentPassword: yourPassword.control.value })).deleteIntegration;
            } catch (error) {
              dialog.close();
              messages.reportError(error);
              return;
            }
            const wrong = result.userErrors.find(isPasswordError);
            if (wrong) {
              dialog.setBusy(false);
              yourPassword.setError(wrong.message);
              yourPassword.control.focus();
              return;
            }
            dialog.close();
            if (result.userErrors.length) {
              for (const e of result.userErrors) messages.notify("error", e.message);
            } else {
              messages.notify("success", `The integration '${node.name}' has been deleted.`);
            }
            await load().catch(messages.reportError);
          },
        },
      ],
    });
    yourPassword.control.focus();
  }

  function renderPager(pageInfo) {
    const pageNumber = state.cursors.length;
    const size = select(
      PAGE_SIZES.map((s) => [s, s]),
      state.pageSize,
      { id: "page-size", name: "pageSize" },
    );
    size.addEventListener("change", () => {
      state.pageSize = size.value;
      state.cursors = [null];
      load().catch(messages.reportError);
    });
    replace(
      pager,
      h("label", { for: "page-size" }, "Per page"),
      size,
      h(
        "button",
        {
          type: "button",
          class: "secondary",
          disabled: pageNumber === 1,
          onclick: () => {
            state.cursors.pop();
            load().catch(messages.reportError);
          },
        },
        "Previous page",
      ),
      h("span", { class: "page-number", "aria-live": "polite", text: `Page ${pageNumber}` }),
      h(
        "button",
        {
          type: "button",
          class: "secondary",
          disabled: !pageInfo.hasNextPage,
          onclick: () => {
            state.cursors.push(pageInfo.endCursor);
            load().catch(messages.reportError);
          },
        },
        "Next page",
      ),
    );
  }

  await load();
  // Lets "Save & Activate" open its dialog once the grid is on screen.
  setTimeout(() => {
    const reload = () => load().catch(messages.reportError);
    window.dispatchEvent(new CustomEvent("integrations:shown", { detail: { reload } }));
  }, 0);
  return h(
    "section",
    { class: "integrations", "aria-labelledby": "page-title" },
    h(
      "div",
      { class: "page-header" },
      h("h1", { id: "page-title", text: "Integrations" }),
      h("a", { class: "button primary", href: "#/integrations/new" }, "Add New Integration"),
    ),
    httpsWarning,
    fileProblems,
    filters,
    found,
    h("div", { class: "grid-wrap" }, table),
    pager,
  );
}

/** When an integration last called the API, in the admin's time zone ("Never" when it has not). */
export function lastUsed(node) {
  const at = node.activity && node.activity.lastUsedAt;
  return at ? new Date(at).toLocaleString() : NEVER_USED;
}

/** The number an integration's global id stands for ("Integration:7" in base64), as Magento's ID column shows. */
export function databaseId(globalId) {
  try {
    const [, number] = atob(globalId).split(":");
    return number || globalId;
  } catch {
    return globalId;
  }
}
