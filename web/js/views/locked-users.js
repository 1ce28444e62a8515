// System > Permissions > Locked Users: admins locked out by failed sign-ins, with Unlock.

import { gql } from "../api.js";
import { h, replace } from "../dom.js";
import { cell, NO_RECORDS } from "../grid.js";
import * as messages from "../messages.js";

const GRID = `query LockedUsers { lockedAdminUsers { user { id username } lockExpiresAt failuresCount } }`;
const UNLOCK = `mutation UnlockAdminUser($id: ID!) { unlockAdminUser(id: $id) { userErrors { field message code } } }`;

/** Magento's mass-unlock message. */
export function unlockedMessage(count) {
  return `Unlocked ${count} user(s).`;
}

function when(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

export async function renderLockedUsers() {
  document.title = "Locked Users · Admin";
  const body = h("tbody");
  const found = h("p", { class: "records-found", "aria-live": "polite" });
  const table = h(
    "table",
    { class: "grid", "aria-label": "Locked Users" },
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        ["User Name", "Failures", "Locked Until", "Action"].map((c) => h("th", { scope: "col", text: c })),
      ),
    ),
    body,
  );

  async function load() {
    const locks = (await gql(GRID)).lockedAdminUsers;
    if (!locks) throw new Error("You are not allowed to see this page.");
    found.textContent = `${locks.length} records found`;
    replace(
      body,
      locks.length
        ? locks.map((lock) =>
            h(
              "tr",
              { dataset: { id: lock.user.id } },
              cell("col-name", null, h("span", { class: "name", text: lock.user.username })),
              cell("col-failures", "Failures", String(lock.failuresCount)),
              h("td", { class: "col-expires", dataset: { label: "Locked Until" } }, h("time", { datetime: lock.lockExpiresAt, text: when(lock.lockExpiresAt) })),
              cell(
                "col-unlock",
                null,
                h(
                  "button",
                  { type: "button", class: "link-button", "aria-label": `Unlock ${lock.user.username}`, onclick: () => unlock(lock) },
                  "Unlock",
                ),
              ),
            ),
          )
        : h("tr", { class: "empty" }, h("td", { colspan: "4", text: NO_RECORDS })),
    );
  }

  async function unlock(lock) {
    messages.clear();
    try {
      const result = (await gql(UNLOCK, { id: lock.user.id })).unlockAdminUser;
      if (result.userErrors.length) {
        for (const e of result.userErrors) messages.notify("error", e.message);
      } else {
        messages.notify("success", unlockedMessage(1));
      }
      await load();
    } catch (error) {
      messages.reportError(error);
    }
  }

  await load();
  return h(
    "section",
    { class: "locked-users", "aria-labelledby": "page-title" },
    h("div", { class: "page-header" }, h("h1", { id: "page-title", text: "Locked Users" })),
    found,
    h("div", { class: "grid-wrap" }, table),
  );
}
