// System > Extensions > Integrations: the grid (search, status filter, paging) and its row actions.

import { gql } from "../api.js";
import { startActivation } from "../activation.js";
import { openDialog } from "../dialog.js";
import { field, h, replace, select } from "../dom.js";
import * as messages from "../messages.js";
import { isPasswordError, yourPasswordField } from "../your-password.js";

export const STATUS_LABELS = { INACTIVE: "Inactive", ACTIVE: "Active", RESET: "Reset" };
export const NOT_SECURE = "Integration not secure";
export const NO_RECORDS = "We couldn't find any records.";
export const DELETE_CONFIRM = "Are you sure you want to delete this integration? You can't undo this action.";
export const UNINSTALL_TITLE = "Uninstall the extension to remove this integration";
export const NO_LONGER_DECLARED = "No longer in the integrations file";
export const FILE_PROBLEMS_TITLE = "The integrations file has problems";

const GRID = `query Integrations($first: Int, $after: String, $status: IntegrationStatus, $search: String) {
  integrations(first: $first, after: $after, status: $status, search: $search) {
    edges { cursor node { id name email status setupType declaredInFile isSecure isTokenExchange } }
    pageInfo { hasNextPage endCursor }
  }
  integrationsFileProblems
}`;

const DELETE = `mutation DeleteIntegration($id: ID!, $currentPassword: String) {
  deleteIntegration(id: $id, currentPassword: $currentPassword) { deletedId userErrors { field message code } }
}`;

const PAGE_SIZES = ["20", "30", "50", "100"];

// Kept across visits, so Back from an edit page returns to the same search and page.
const state = { search: "", status: "", pageSize: "20", cursors: [null] };

export async function renderIntegrations() {
  document.title = "Integrations · Admin";
  const body = h("tbody");
  const pager = h("div", { class: "pager" });
  const fileProblems = h("div", { class: "file-problems", role: "alert", hidden: true });
  const searchBox = field({
    label: "Search by name or email",
    control: h("input", { type: "search", name: "search", value: state.search, autocomplete: "off" }),
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
    state.status = statusFilter.control.value;
    state.cursors = [null];
    load().catch(messages.reportError);
  });

  function resetFilter() {
    state.search = "";
    state.status = "";
    state.cursors = [null];
    searchBox.control.value = "";
    statusFilter.control.value = "";
    load().catch(messages.reportError);
  }

  const table = h(
    "table",
    { class: "grid", "aria-label": "Integrations" },
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        ["Name", "Status", "Activate", "Edit", "Delete"].map((c) => h("th", { scope: "col", text: c })),
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
      });
    } finally {
      body.removeAttribute("aria-busy");
    }
    showFileProblems(data.integrationsFileProblems || []);
    const connection = data.integrations;
    const edges = connection ? connection.edges : [];
    if (!edges.length && state.cursors.length > 1) {
      // The page emptied (e.g. its last row was deleted): go back one page.
      state.cursors.pop();
      return load();
    }
    replace(body, edges.length ? edges.map((e) => row(e.node)) : emptyRow());
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
    return h("tr", { class: "empty" }, h("td", { colspan: "5", text: NO_RECORDS }));
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
      nameCell,
      h("td", { class: "col-status", dataset: { label: "Status" }, text: STATUS_LABELS[node.status] || node.status }),
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
    fileProblems,
    filters,
    h("div", { class: "grid-wrap" }, table),
    pager,
  );
}
