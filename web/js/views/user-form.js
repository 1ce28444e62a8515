// New / Edit User: User Info (account, Your Password) and User Role (one role, chosen from the roles).

import { ApiError, gql } from "../api.js";
import { field, h, select, uid } from "../dom.js";
import { clearErrors, deleteThrough, editForm, saveThrough, showUserErrors } from "../forms.js";
import * as messages from "../messages.js";
import { identityFieldset, yourPasswordField } from "../your-password.js";
import { tabbed } from "../tabs.js";

export const USER_SAVED = "You saved the user.";
export const USER_DELETED = "You deleted the user.";
export const DELETE_CONFIRM = "Are you sure you want to do this?";
export const PASSWORDS_DIFFER = "Please enter the same value again.";
export const REQUIRED = "This is a required field.";

const LOAD = `query EditUser($id: ID!) {
  adminUser(id: $id) { id username email firstName lastName isActive role { id name } }
}`;
const ROLES = `query RoleChoices { adminRoleChoices { id name } }`;
const CREATE = `mutation CreateAdminUser($input: CreateAdminUserInput!) {
  createAdminUser(input: $input) { user { id username } userErrors { field message code } }
}`;
const UPDATE = `mutation UpdateAdminUser($input: UpdateAdminUserInput!) {
  updateAdminUser(input: $input) { user { id username } userErrors { field message code } }
}`;
const DELETE = `mutation DeleteAdminUser($id: ID!, $currentPassword: String) {
  deleteAdminUser(id: $id, currentPassword: $currentPassword) { deletedId userErrors { field message code } }
}`;

/** Every role (id, name), or null when the admin's role may not list them (All Users). */
async function loadRoles() {
  try {
    return (await gql(ROLES)).adminRoleChoices;
  } catch (error) {
    if (error instanceof ApiError) return null;
    throw error;
  }
}

export async function renderUserForm(id) {
  const [user, roleList] = await Promise.all([id ? gql(LOAD, { id }).then((d) => d.adminUser) : null, loadRoles()]);
  if (id && !user) {
    messages.flash("error", "This user no longer exists.");
    location.hash = "#/users";
    return null;
  }
  const title = user ? `Edit User '${user.username}'` : "New User";
  document.title = `${title} · Admin`;
  const value = (key) => (user && user[key]) || "";

  // --- User Info
  const text = (label, name, type, autocomplete, required = true) =>
    field({
      label,
      control: h("input", { type, name, value: value(name), autocomplete, maxlength: "255" }),
      required,
    });
  const username = text("User Name", "username", "text", "off");
  const firstName = text("First Name", "firstName", "text", "off");
  const lastName = text("Last Name", "lastName", "text", "off");
  const email = text("Email", "email", "email", "off");
  const newPassword = field({
    label: user ? "New Password" : "Password",
    control: h("input", { type: "password", name: "password", autocomplete: "new-password" }),
    note: "Must be at least 7 characters. Both numeric and alphabetic.",
    required: !user,
  });
  const confirmation = field({
    label: "Password Confirmation",
    control: h("input", { type: "password", name: "passwordConfirmation", autocomplete: "new-password" }),
    required: !user,
  });
  const active = field({
    label: "This account is",
    control: select(
      [
        ["1", "Active"],
        ["0", "Inactive"],
      ],
      user && !user.isActive ? "0" : "1",
      { name: "isActive" },
    ),
  });
  const password = yourPasswordField();
  const info = [
    h(
      "fieldset",
      { class: "fieldset" },
      h("legend", { text: "Account Information" }),
      [username, firstName, lastName, email, newPassword, confirmation, active].map((f) => f.row),
    ),
    identityFieldset(password),
  ];

  // --- User Role
  const currentRole = user && user.role ? user.role.id : null;
  const choices = roleList || (user && user.role ? [user.role] : []);
  const roleError = h("p", { class: "field-error", id: uid("role-error"), hidden: true, role: "alert" });
  const radios = choices.map((role) => {
    const radio = h("input", {
      type: "radio",
      name: "roleId",
      id: uid("role"),
      value: role.id,
      checked: role.id === currentRole,
      "aria-describedby": roleError.id,
    });
    return { role, radio, row: h("div", { class: "role-choice" }, radio, h("label", { for: radio.id, text: role.name })) };
  });
  const roleGroup = h(
    "fieldset",
    { class: "fieldset role-choices" },
    h("legend", { text: "User Role" }),
    roleError,
    radios.length ? radios.map((r) => r.row) : h("p", { class: "field-note", text: "You are not allowed to list the roles." }),
  );
  const roleTarget = {
    control: radios.length ? radios[0].radio : roleError,
    setError(message) {
      roleError.textContent = message || "";
      roleError.hidden = !message;
    },
  };
  const chosenRole = () => (radios.find((r) => r.radio.checked) || {}).role;

  const tabs = tabbed("User Information", [
    { key: "user-info", label: "User Info", content: info },
    { key: "user-role", label: "User Role", content: roleGroup },
  ]);
  const targets = {
    "input.username": { field: username, tab: "user-info" },
    "input.firstName": { field: firstName, tab: "user-info" },
    "input.lastName": { field: lastName, tab: "user-info" },
    "input.email": { field: email, tab: "user-info" },
    "input.password": { field: newPassword, tab: "user-info" },
    "input.passwordConfirmation": { field: confirmation, tab: "user-info" },
    "input.isActive": { field: active, tab: "user-info" },
    "input.currentPassword": { field: password, tab: "user-info" },
    "input.roleId": { field: roleTarget, tab: "user-role" },
  };

  /** Magento's client-side checks: required fields, matching passwords, a role. */
  function localProblems() {
    const problems = [];
    for (const [key, f] of [
      ["username", username],
      ["firstName", firstName],
      ["lastName", lastName],
      ["email", email],
    ]) {
      if (!f.control.value.trim()) problems.push({ field: ["input", key], message: REQUIRED });
    }
    if (!user && !newPassword.control.value) problems.push({ field: ["input", "password"], message: REQUIRED });
    if (newPassword.control.value !== confirmation.control.value) {
      problems.push({ field: ["input", "passwordConfirmation"], message: PASSWORDS_DIFFER });
    }
    if (!chosenRole()) problems.push({ field: ["input", "roleId"], message: "Please select a role." });
    if (!password.value()) problems.push({ field: ["input", "currentPassword"], message: REQUIRED });
    return problems;
  }

  const saveButton = h("button", { type: "submit", class: "primary" }, "Save User");
  const buttons = [
    h("a", { class: "button secondary", href: "#/users" }, "Back"),
    h("button", { type: "button", class: "secondary", onclick: () => reset() }, "Reset"),
  ];
  if (user) buttons.push(h("button", { type: "button", class: "secondary", onclick: () => remove() }, "Delete User"));
  buttons.push(saveButton);

  function reset() {
    messages.clear();
    clearErrors(targets);
    for (const [f, key] of [
      [username, "username"],
      [firstName, "firstName"],
      [lastName, "lastName"],
      [email, "email"],
    ]) {
      f.control.value = value(key);
    }
    newPassword.control.value = "";
    confirmation.control.value = "";
    active.control.value = user && !user.isActive ? "0" : "1";
    password.clear();
    for (const r of radios) r.radio.checked = r.role.id === currentRole;
  }

  async function save() {
    messages.clear();
    clearErrors(targets);
    const problems = localProblems();
    if (problems.length) {
      showUserErrors(problems, targets, tabs.show);
      return;
    }
    const input = {
      username: username.control.value.trim(),
      firstName: firstName.control.value.trim(),
      lastName: lastName.control.value.trim(),
      email: email.control.value.trim(),
      roleId: chosenRole().id,
      isActive: active.control.value === "1",
      currentPassword: password.value(),
    };
    if (newPassword.control.value) input.password = newPassword.control.value;
    if (user) input.id = user.id;
    await saveThrough({
      run: async () => {
        const data = await gql(user ? UPDATE : CREATE, { input });
        return user ? data.updateAdminUser : data.createAdminUser;
      },
      saveButton,
      password,
      targets,
      showTab: tabs.show,
      saved: USER_SAVED,
      back: "#/users",
    });
  }

  function remove() {
    return deleteThrough({
      message: DELETE_CONFIRM,
      run: async (currentPassword) => (await gql(DELETE, { id: user.id, currentPassword })).deleteAdminUser.userErrors,
      deleted: USER_DELETED,
      back: "#/users",
    });
  }

  return editForm("user-form", title, buttons, tabs, save);
}
