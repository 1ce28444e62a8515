// The ACL resource tree: checkboxes where checking a node checks its whole subtree, and ancestors of
// checked nodes show a partial (indeterminate) state, as Magento's roles tree does.

import { h, uid } from "./dom.js";

export const TREE_QUERY = `
  fragment ResourceNode on AclResource { id title }
  query ResourceTree {
    resourceTree {
      ...ResourceNode
      children { ...ResourceNode
        children { ...ResourceNode
          children { ...ResourceNode
            children { ...ResourceNode
              children { ...ResourceNode children { ...ResourceNode } } } } } }
    }
  }`;

export const ALL_RESOURCES = "Magento_Backend::all";

export class ResourceTree {
  /**
   * @param {Array} roots resourceTree nodes ({id, title, children})
   * @param {{checked?: Iterable<string>, readOnly?: boolean, label?: string}} options
   */
  constructor(roots, { checked = [], readOnly = false, label = "Resources" } = {}) {
    this.items = new Map();
    this.readOnly = readOnly;
    const list = h("ul", { class: "tree", "aria-label": label });
    for (const node of roots) list.append(this.#build(node, null).li);
    this.element = h(
      "div",
      { class: "tree-wrap" },
      h(
        "div",
        { class: "tree-actions" },
        h("button", { type: "button", class: "link-button", onclick: () => this.collapseAll() }, "Collapse all"),
        h("button", { type: "button", class: "link-button", onclick: () => this.expandAll() }, "Expand all"),
      ),
      list,
    );
    this.setChecked(checked);
  }

  #build(node, parent) {
    const children = node.children || [];
    const box = h("input", {
      type: "checkbox",
      id: uid("resource"),
      dataset: { id: node.id },
      disabled: this.readOnly,
    });
    const item = { node, parent, box, children: [], li: null, toggle: null, list: null };
    this.items.set(node.id, item);
    const row = h("div", { class: "tree-row" });
    if (children.length) {
      item.toggle = h("button", {
        type: "button",
        class: "tree-toggle",
        "aria-expanded": "true",
        "aria-label": `Collapse ${node.title}`,
        onclick: () => this.#setOpen(item, item.li.classList.contains("collapsed")),
      });
      row.append(item.toggle);
    } else {
      row.append(h("span", { class: "tree-spacer", "aria-hidden": "true" }));
    }
    row.append(box, h("label", { for: box.id, title: node.id }, node.title));
    item.li = h("li", { class: "tree-node", dataset: { id: node.id } }, row);
    if (children.length) {
      item.list = h("ul", { class: "tree-children" });
      for (const child of children) {
        const childItem = this.#build(child, item);
        item.children.push(childItem);
        item.list.append(childItem.li);
      }
      item.li.append(item.list);
    }
    box.addEventListener("change", () => this.#changed(item));
    return item;
  }

  #setOpen(item, open) {
    if (!item.toggle) return;
    item.li.classList.toggle("collapsed", !open);
    item.list.hidden = !open;
    item.toggle.setAttribute("aria-expanded", String(open));
    item.toggle.setAttribute("aria-label", `${open ? "Collapse" : "Expand"} ${item.node.title}`);
  }

  #changed(item) {
    const on = item.box.checked;
    for (const d of descendants(item)) d.box.checked = on;
    // A checked node stands for its whole subtree, so ancestors of an unchecked node cannot stay checked.
    if (!on) for (let a = item.parent; a; a = a.parent) a.box.checked = false;
    if (on) this.#setOpen(item, true);
    this.#refresh();
    this.element.dispatchEvent(new Event("change", { bubbles: true }));
  }

  #refresh() {
    const visit = (item) => {
      let below = false;
      for (const child of item.children) below = visit(child) || below;
      const partial = !item.box.checked && below;
      item.box.indeterminate = partial;
      item.li.classList.toggle("partial", partial);
      item.li.classList.toggle("checked", item.box.checked);
      return item.box.checked || below;
    };
    for (const item of this.items.values()) if (!item.parent) visit(item);
  }

  /** Check exactly `ids` (e.g. a stored grant's resources); ancestors become partial. */
  setChecked(ids) {
    const wanted = new Set(ids);
    const all = wanted.has(ALL_RESOURCES);
    for (const [id, item] of this.items) item.box.checked = all || wanted.has(id);
    this.#refresh();
  }

  /** The checked resource ids, in tree order. */
  checked() {
    return [...this.items.values()].filter((i) => i.box.checked).map((i) => i.node.id);
  }

  collapseAll() {
    for (const item of this.items.values()) this.#setOpen(item, false);
  }

  expandAll() {
    for (const item of this.items.values()) this.#setOpen(item, true);
  }
}

function* descendants(item) {
  for (const child of item.children) {
    yield child;
    yield* descendants(child);
  }
}

/**
 * A read-only list of the granted part of the tree (nodes held, and the ancestors leading to them),
 * as the activation dialog shows it. Returns null when nothing is granted.
 */
export function grantedTree(roots, held) {
  const granted = new Set(held);
  const all = granted.has(ALL_RESOURCES);
  const build = (nodes) => {
    const items = [];
    for (const node of nodes) {
      const sub = build(node.children || []);
      if (all || granted.has(node.id) || sub) {
        items.push(h("li", { class: "granted-node", dataset: { id: node.id } }, h("span", {}, node.title), sub));
      }
    }
    return items.length ? h("ul", { class: "granted-tree" }, items) : null;
  };
  return build(roots);
}
