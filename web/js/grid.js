// A paged grid over a GraphQL connection (Magento's admin grids): "N records found", the rows, and the
// pager (per page, previous, next). Used by the Permissions screens and Action Logs; the integrations grid has its
// own filters and sorting.

import { gql } from "./api.js";
import { h, replace, select } from "./dom.js";
import * as messages from "./messages.js";

export const NO_RECORDS = "We couldn't find any records.";
const PAGE_SIZES = ["20", "30", "50", "100"];

/**
 * `query` takes $first and $after and selects `key` as a connection with `edges { node }`, `pageInfo
 * { hasNextPage endCursor }` and `totalCount`. `columns`: [header, cell class]; `row(node)` returns the
 * cells (<td>s) of a node. `state` ({pageSize, cursors}) is kept by the caller across visits; `variables()`, when
 * given, adds the query's other variables (a page's filters). Returns { element, load(), reload() }.
 */
export function pagedGrid({ query, key, label, columns, row, state, variables = () => ({}) }) {
  const body = h("tbody");
  const found = h("p", { class: "records-found", "aria-live": "polite" });
  const pager = h("div", { class: "pager" });
  const table = h(
    "table",
    { class: "grid", "aria-label": label },
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        columns.map(([header, className]) => h("th", { scope: "col", class: className, text: header })),
      ),
    ),
    body,
  );

  async function load() {
    body.setAttribute("aria-busy", "true");
    let data;
    try {
      data = await gql(query, {
        ...variables(),
        first: Number(state.pageSize),
        after: state.cursors[state.cursors.length - 1],
      });
    } finally {
      body.removeAttribute("aria-busy");
    }
    const connection = data[key];
    if (!connection) throw new Error("You are not allowed to see this page.");
    if (!connection.edges.length && state.cursors.length > 1) {
      state.cursors.pop(); // the page emptied (its last row was deleted): back one page
      return load();
    }
    replace(
      body,
      connection.edges.length
        ? connection.edges.map((edge) => h("tr", { dataset: { id: edge.node.id } }, row(edge.node)))
        : h("tr", { class: "empty" }, h("td", { colspan: String(columns.length), text: NO_RECORDS })),
    );
    found.textContent = `${connection.totalCount} records found`;
    renderPager(connection.pageInfo);
    return data;
  }

  function reload() {
    load().catch(messages.reportError);
  }

  function renderPager(pageInfo) {
    const pageNumber = state.cursors.length;
    const size = select(
      PAGE_SIZES.map((s) => [s, s]),
      state.pageSize,
      { id: `${key}-page-size`, name: "pageSize" },
    );
    size.addEventListener("change", () => {
      state.pageSize = size.value;
      state.cursors = [null];
      reload();
    });
    replace(
      pager,
      h("label", { for: size.id }, "Per page"),
      size,
      h(
        "button",
        {
          type: "button",
          class: "secondary",
          disabled: pageNumber === 1,
          onclick: () => {
            state.cursors.pop();
            reload();
          },
        },
        "Previous page",
      ),
      h("span", { class: "page-number", text: `Page ${pageNumber}` }),
      h(
        "button",
        {
          type: "button",
          class: "secondary",
          disabled: !pageInfo.hasNextPage,
          onclick: () => {
            state.cursors.push(pageInfo.endCursor);
            reload();
          },
        },
        "Next page",
      ),
    );
  }

  return { element: h("div", { class: "paged-grid" }, found, h("div", { class: "grid-wrap" }, table), pager), load, reload };
}

/** A grid cell; `label` names the value on narrow windows, where each row is a card. */
export function cell(className, label, content) {
  return h(
    "td",
    { class: className, dataset: label ? { label } : undefined },
    typeof content === "string" ? h("span", { text: content }) : content,
  );
}
