// Modal dialogs on the native <dialog> element (focus stays inside; Escape closes).

import { h, uid } from "./dom.js";

/**
 * Open a modal. `buttons`: [{label, primary?, onClick(dialog)}]; a button without onClick closes.
 * Returns {element, close(), setBusy(busy)}.
 */
export function openDialog({ title, body, buttons = [], className, onClose }) {
  const titleId = uid("dialog-title");
  const footerButtons = buttons.map((b) =>
    h("button", {
      type: "button",
      class: b.primary ? "primary" : "secondary",
      dataset: { role: b.role || "" },
      onclick: () => (b.onClick ? b.onClick(api) : api.close()),
      text: b.label,
    }),
  );
  const element = h(
    "dialog",
    { class: ["modal", className], "aria-labelledby": titleId },
    h(
      "div",
      { class: "modal-header" },
      h("h2", { id: titleId, text: title }),
      h("button", { type: "button", class: "modal-close", "aria-label": "Close", onclick: () => api.close() }, "×"),
    ),
    h("div", { class: "modal-body" }, body),
    footerButtons.length ? h("div", { class: "modal-footer" }, footerButtons) : null,
  );
  const api = {
    element,
    close() {
      if (element.open) element.close();
    },
    setBusy(busy) {
      for (const b of footerButtons) b.disabled = busy;
      element.setAttribute("aria-busy", String(busy));
    },
  };
  element.addEventListener("close", () => {
    element.remove();
    if (onClose) onClose();
  });
  document.body.append(element);
  element.showModal();
  const primary = footerButtons.find((b) => b.classList.contains("primary"));
  if (primary) primary.focus();
  return api;
}

/** Magento's confirm modal ("Are you sure?"): resolves true for OK, false otherwise. */
export function confirmDialog(message, title = "Are you sure?") {
  return new Promise((resolve) => {
    let answer = false;
    openDialog({
      title,
      className: "confirm",
      body: h("p", { text: message }),
      buttons: [
        { label: "Cancel" },
        {
          label: "OK",
          primary: true,
          onClick: (d) => {
            answer = true;
            d.close();
          },
        },
      ],
      onClose: () => resolve(answer),
    });
  });
}
