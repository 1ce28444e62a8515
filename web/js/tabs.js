// Vertical form tabs (Magento's left-hand tabs on edit pages), with arrow-key navigation.

import { h } from "./dom.js";

/**
 * `tabs`: [{key, label, content}]. Returns { element, show(key) }; the first tab is shown.
 */
export function tabbed(label, tabs) {
  const list = h("div", { class: "tabs", role: "tablist", "aria-label": label, "aria-orientation": "vertical" });
  const panels = h("div", { class: "tab-panels" });
  for (const tab of tabs) {
    tab.button = h(
      "button",
      {
        type: "button",
        role: "tab",
        id: `tab-${tab.key}`,
        "aria-controls": `panel-${tab.key}`,
        onclick: () => show(tab.key),
        onkeydown: (event) => {
          if (!["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight"].includes(event.key)) return;
          event.preventDefault();
          const back = event.key === "ArrowUp" || event.key === "ArrowLeft";
          const next = tabs[(tabs.indexOf(tab) + (back ? -1 : 1) + tabs.length) % tabs.length];
          show(next.key);
          next.button.focus();
        },
      },
      tab.label,
    );
    tab.panel = h(
      "div",
      { role: "tabpanel", id: `panel-${tab.key}`, "aria-labelledby": `tab-${tab.key}`, class: "tab-panel" },
      tab.content,
    );
    list.append(tab.button);
    panels.append(tab.panel);
  }
  function show(key) {
    for (const tab of tabs) {
      const on = tab.key === key;
      tab.button.setAttribute("aria-selected", String(on));
      tab.button.tabIndex = on ? 0 : -1;
      tab.panel.hidden = !on;
    }
  }
  show(tabs[0].key);
  return { element: h("div", { class: "tabbed" }, list, panels), show };
}
