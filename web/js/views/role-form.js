// New / Edit Role: Role Info (name, Your Password) and Role Resources (All or Custom, on the same resource
// tree as integrations).

import { gql } from "../api.js";
import { loadResourceTree } from "../activation.js";
import { field, h, select } from "../dom.js";
import { clearErrors, deleteThrough, editForm, saveThrough, showUserErrors } from "../forms.js";
import * as messages from "../messages.js";
import { identityFieldset, requirePassword, yourPasswordField } from "../your-password.js";
import { tabbed } from "../tabs.js";
import { ALL_RESOURCES, ResourceTree } from "../tree.js";

export const ROLE_SAVED = "You saved the role.";
export const ROLE_DELETED = "You deleted the role.";
export const DELETE_CONFIRM = "Are you sure you want to do this?";

const FIELDS = "id name resourceAccess resources userCount";
const LOAD = `query EditRole($id: ID!) { adminRole(id: $id) { ${FIELDS} } }`;
const CREATE = `mutation CreateAdminRole($input: CreateAdminRoleInput!) {
  createAdminRole(input: $input) { role { id name } userErrors { field message code } }
}`;
const UPDATE = `mutation UpdateAdminRole($input: UpdateAdminRoleInput!) {
  updateAdminRole(input: $input) { role { id name } userErrors { field message code } }
}`;
const DELETE = `mutation DeleteAdminRole($id: ID!, $currentPassword: String) {
  deleteAdminRole(id: $id, currentPassword: $currentPassword) { deletedId userErrors { field message code } }
}`;

export async function renderRoleForm(id) {
  const [tree, role] = await Promise.all([
    loadResourceTree(),
    id ? gql(LOAD, { id }).then((d) => d.adminRole) : Promise.resolve(null),
  ]);
  if (id && !role) {
    messages.flash("error", "This role no longer exists.");
    location.hash = "#/roles";
    return null;
  }
  const title = role ? `Edit Role '${role.name}'` : "New Role";
  document.title = `${title} · Admin`;

  // --- Role Info
  const name = field({
    label: "Role Name",
    control: h("input", { type: "text", name: "roleName", maxlength: "50", value: role ? role.name : "" }),
    required: true,
  });
  const password = yourPasswordField();
  const info = [
    h("fieldset", { class: "fieldset" }, h("legend", { text: "Role Information" }), name.row),
    identityFieldset(password),
  ];

  // --- Role Resources
  const all = Boolean(role && role.resourceAccess === "ALL");
  const access = field({
    label: "Resource Access",
    control: select(
      [
        ["CUSTOM", "Custom"],
        ["ALL", "All"],
      ],
      all ? "ALL" : "CUSTOM",
      { name: "resourceAccess" },
    ),
  });
  // The stored grant is expanded (each chosen node with its subtree), as the tree shows it.
  const saved = role && !all ? role.resources : [];
  const resourceTree = new ResourceTree(tree, { checked: saved, label: "Resources" });
  const resourcesError = h("p", { class: "field-error", id: "role-resources-error", hidden: true, role: "alert" });
  const treeBlock = h(
    "div",
    { class: "resources" },
    h("h3", { class: "resources-title", text: "Resources" }),
    resourcesError,
    resourceTree.element,
  );
  const syncAccess = () => {
    treeBlock.hidden = access.control.value === "ALL";
  };
  access.control.addEventListener("change", syncAccess);
  syncAccess();
  const resources = [
    h("fieldset", { class: "fieldset" }, h("legend", { text: "Roles Resources" }), access.row, treeBlock),
  ];

  const tabs = tabbed("Role Information", [
    { key: "role-info", label: "Role Info", content: info },
    { key: "role-resources", label: "Role Resources", content: resources },
  ]);

  const resourcesTarget = {
    setError(text) {
      resourcesError.textContent = text || "";
      resourcesError.hidden = !text;
    },
    control: resourcesError,
  };
  const targets = {
    "input.name": { field: name, tab: "role-info" },
    "input.currentPassword": { field: password, tab: "role-info" },
    "input.resourceAccess": { field: access, tab: "role-resources" },
    "input.resources": { field: resourcesTarget, tab: "role-resources" },
  };

  // --- buttons
  const saveButton = h("button", { type: "submit", class: "primary" }, "Save Role");
  const buttons = [
    h("a", { class: "button secondary", href: "#/roles" }, "Back"),
    h("button", { type: "button", class: "secondary", onclick: () => reset() }, "Reset"),
  ];
  if (role) {
    buttons.push(h("button", { type: "button", class: "secondary", onclick: () => remove() }, "Delete Role"));
  }
  buttons.push(saveButton);

  /** Back to the role as saved (Magento's Reset). */
  function reset() {
    messages.clear();
    clearErrors(targets);
    name.control.value = role ? role.name : "";
    password.clear();
    access.control.value = all ? "ALL" : "CUSTOM";
    resourceTree.setChecked(saved);
    syncAccess();
  }

  async function save() {
    messages.clear();
    clearErrors(targets);
    if (!name.control.value.trim()) {
      showUserErrors([{ field: ["input", "name"], message: "This is a required field." }], targets, tabs.show);
      return;
    }
    if (!password.value()) {
      tabs.show("role-info");
      requirePassword(password);
      return;
    }
    const input = {
      name: name.control.value.trim(),
      resourceAccess: access.control.value,
      currentPassword: password.value(),
    };
    if (input.resourceAccess === "CUSTOM") input.resources = resourceTree.checked();
    if (role) input.id = role.id;
    await saveThrough({
      run: async () => {
        const data = await gql(role ? UPDATE : CREATE, { input });
        return role ? data.updateAdminRole : data.createAdminRole;
      },
      saveButton,
      password,
      targets,
      showTab: tabs.show,
      saved: ROLE_SAVED,
      back: "#/roles",
    });
  }

  function remove() {
    return deleteThrough({
      message: DELETE_CONFIRM,
      run: async (currentPassword) => (await gql(DELETE, { id: role.id, currentPassword })).deleteAdminRole.userErrors,
      deleted: ROLE_DELETED,
      back: "#/roles",
    });
  }

  return editForm("role-form", title, buttons, tabs, save);
}
