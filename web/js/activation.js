// Activate / Reauthorize: the permissions dialog, then the tokens dialog (manual integrations) or the
// identity link popup (token exchange), as Magento's integration.js does.

import { gql } from "./api.js";
import { openDialog } from "./dialog.js";
import { field, h } from "./dom.js";
import * as messages from "./messages.js";
import { grantedTree, TREE_QUERY } from "./tree.js";
import { isPasswordError, yourPasswordField } from "./your-password.js";

export const APPROVE_TEXT = "The integration you selected asks you to approve access to the following:";
export const NO_PERMISSIONS = "No permissions requested";
export const TOKENS_TITLE = "Integration Tokens for Extensions";
export const POPUP_BLOCKED = "Popup Blocker is enabled! Please add this site to your exception list.";
export const POPUP_POLL_MS = 500;
export const OAUTH1 = "OAUTH1";
export const OAUTH2 = "OAUTH2_CLIENT_CREDENTIALS";
export const OAUTH1_TITLE = "OAuth 1.0a (Magento)";
export const OAUTH2_TITLE = "OAuth 2.0 client credentials";
export const OAUTH2_NOTE =
  "POST grant_type=client_credentials to the token endpoint, authenticating with the client ID and secret " +
  "(HTTP Basic); use the access token as Authorization: Bearer.";

const METADATA_URL = new URL("../.well-known/oauth-authorization-server", document.baseURI).href;
const TOKEN_URL_GUESS = new URL("../oauth2/token", document.baseURI).href;

const DETAILS = `query ActivationDetails($id: ID!) {
  integration(id: $id) { id name status isTokenExchange resources authMethods }
}`;

const OUTCOME = `integration { id name status }
  credentials { consumerKey consumerSecret accessToken accessTokenSecret }
  identityLinkUrl successCallbackUrl
  userErrors { field message code }`;

const AUTHORIZE = `mutation AuthorizeIntegration($id: ID!, $currentPassword: String) {
  authorizeIntegration(id: $id, currentPassword: $currentPassword) { ${OUTCOME} }
}`;
const REAUTHORIZE = `mutation ReauthorizeIntegration($id: ID!, $currentPassword: String) {
  reauthorizeIntegration(id: $id, currentPassword: $currentPassword) { ${OUTCOME} }
}`;

let treeCache = null;
let tokenEndpointCache = null;

/** The resource tree (fetched once per page load). */
export async function loadResourceTree() {
  if (!treeCache) {
    const data = await gql(TREE_QUERY);
    treeCache = data.resourceTree || [];
  }
  return treeCache;
}

/**
 * The OAuth 2.0 token endpoint third parties use (`<store>/oauth2/token`), from the store's RFC 8414 metadata:
 * its address is the store's public one (STORE_BASE_URL), which may differ from the one the admin browses.
 */
export function loadTokenEndpoint() {
  if (!tokenEndpointCache) {
    tokenEndpointCache = fetch(METADATA_URL, { credentials: "omit", cache: "no-store" })
      .then((response) => (response.ok ? response.json() : {}))
      .then((metadata) => metadata.token_endpoint || TOKEN_URL_GUESS)
      .catch(() => TOKEN_URL_GUESS);
  }
  return tokenEndpointCache;
}

/**
 * Start activating `node` ({id, name}). `onFinished` runs when the flow ends (grid refresh). The dialog
 * asks for Your Password unless `currentPassword` is given (Save & Activate has just had it).
 */
export async function startActivation(node, { reauthorize = false, onFinished = () => {}, currentPassword = null } = {}) {
  messages.clear();
  let integration;
  let tree;
  try {
    [integration, tree] = await Promise.all([
      gql(DETAILS, { id: node.id }).then((d) => d.integration),
      loadResourceTree(),
    ]);
  } catch (error) {
    messages.reportError(error);
    return;
  }
  if (!integration) {
    messages.notify("error", "This integration no longer exists.");
    onFinished();
    return;
  }
  const granted = grantedTree(tree, integration.resources);
  const body = granted
    ? [
        h("p", { class: "approve", text: APPROVE_TEXT }),
        h("div", { class: "permissions" }, h("h3", { text: "API" }), granted),
      ]
    : [h("p", { class: "approve", text: NO_PERMISSIONS })];
  const yourPassword = currentPassword === null ? yourPasswordField() : null;
  if (yourPassword) body.push(yourPassword.row);
  const dialog = openDialog({
    title: integration.name,
    className: "permissions-dialog",
    body,
    buttons: [
      { label: "Cancel" },
      {
        label: reauthorize ? "Reauthorize" : "Allow",
        primary: true,
        onClick: async (dialog) => {
          dialog.setBusy(true);
          if (yourPassword) yourPassword.setError("");
          let outcome;
          try {
            const password = yourPassword ? yourPassword.control.value : currentPassword;
            const data = await gql(reauthorize ? REAUTHORIZE : AUTHORIZE, { id: integration.id, currentPassword: password });
            outcome = reauthorize ? data.reauthorizeIntegration : data.authorizeIntegration;
          } catch (error) {
            dialog.close();
            messages.reportError(error);
            onFinished();
            return;
          }
          const wrong = yourPassword && outcome.userErrors.find(isPasswordError);
          if (wrong) {
            // Shown beside the field; the dialog stays open for another try.
            dialog.setBusy(false);
            yourPassword.setError(wrong.message);
            yourPassword.control.focus();
            return;
          }
          dialog.close();
          finish(integration, outcome, reauthorize, onFinished);
        },
      },
    ],
  });
  if (yourPassword) yourPassword.control.focus();
}

function finish(integration, outcome, reauthorize, onFinished) {
  const name = (outcome.integration && outcome.integration.name) || integration.name;
  if (outcome.userErrors.length) {
    for (const error of outcome.userErrors) messages.notify("error", error.message);
    onFinished();
  } else if (outcome.identityLinkUrl) {
    messages.notify(
      "notice",
      reauthorize
        ? `Integration '${name}' has been sent for re-authorization.`
        : `Integration '${name}' has been sent for activation.`,
    );
    openIdentityLink(outcome.identityLinkUrl, outcome.successCallbackUrl, onFinished);
  } else if (outcome.credentials) {
    showTokens(outcome.credentials, integration.authMethods, () => {
      messages.notify(
        "success",
        reauthorize ? `The integration '${name}' has been re-authorized.` : `The integration '${name}' has been activated.`,
      );
      onFinished();
    });
  } else if (outcome.integration && outcome.integration.status === "ACTIVE") {
    // An OAuth 2.0-only integration with a callback URL: its client credentials went there, not to this page.
    messages.notify(
      "success",
      `The integration '${name}' has been ${reauthorize ? "re-authorized" : "activated"}; ` +
        "its client credentials were sent to its callback URL.",
    );
    onFinished();
  } else {
    onFinished();
  }
}

/** A read-only credential field (selectable, not spell-checked). */
function tokenField(label, value, name) {
  return field({
    label,
    control: h("input", {
      type: "text",
      name,
      value: value || "",
      readOnly: true,
      class: "token",
      spellcheck: "false",
      autocomplete: "off",
    }),
  }).row;
}

/**
 * The read-only credentials, as the tokens dialog and the edit page show them: Magento's four for OAuth 1.0a,
 * and for OAuth 2.0 client credentials the client ID and secret (the consumer key and secret) with the token
 * endpoint. `authMethods` is the integration's; with both, each group has its heading. `withTokens: false` leaves
 * out the OAuth 1.0a access token (a secret rotation does not change it).
 */
export function credentialFields(credentials, authMethods = [OAUTH1], tokenEndpoint = TOKEN_URL_GUESS, { withTokens = true } = {}) {
  const oauth1 = authMethods.includes(OAUTH1);
  const oauth2 = authMethods.includes(OAUTH2);
  const groups = [];
  if (oauth1) {
    groups.push(
      h(
        "div",
        { class: "credentials oauth1" },
        oauth2 ? h("h3", { class: "credentials-title", text: OAUTH1_TITLE }) : null,
        [
          ["Consumer Key", credentials.consumerKey, "consumer-key"],
          ["Consumer Secret", credentials.consumerSecret, "consumer-secret"],
          ...(withTokens
            ? [
                ["Access Token", credentials.accessToken, "access-token"],
                ["Access Token Secret", credentials.accessTokenSecret, "access-token-secret"],
              ]
            : []),
        ].map(([label, value, name]) => tokenField(label, value, name)),
      ),
    );
  }
  if (oauth2) {
    groups.push(
      h(
        "div",
        { class: "credentials oauth2" },
        h("h3", { class: "credentials-title", text: OAUTH2_TITLE }),
        tokenField("Client ID", credentials.consumerKey, "client-id"),
        tokenField("Client Secret", credentials.consumerSecret, "client-secret"),
        tokenField("Token Endpoint", tokenEndpoint, "token-endpoint"),
        h("p", { class: "field-note", text: OAUTH2_NOTE }),
      ),
    );
  }
  return groups;
}

async function showTokens(credentials, authMethods, onDone) {
  const tokenEndpoint = await loadTokenEndpoint();
  openDialog({
    title: TOKENS_TITLE,
    className: "tokens-dialog",
    body: h("div", { class: "tokens" }, credentialFields(credentials, authMethods || [OAUTH1], tokenEndpoint)),
    buttons: [{ label: "Done", primary: true }],
    onClose: onDone,
  });
}

/**
 * Open the identity link (the server already added oauth_consumer_key and success_call_back) and
 * refresh the grid when the popup closes or comes back to the success callback URL.
 *
 * The third party's page must not reach back into the console (reverse tabnabbing), yet the console
 * needs a handle to notice that the popup closed or came back. So the popup opens blank (same origin),
 * its opener is cut, and only then is it sent to the third party: there `window.opener` is null, and
 * the console's Referrer-Policy (no-referrer) keeps the console's address out of the request.
 */
export function openIdentityLink(url, successUrl, onFinished) {
  const width = 680;
  const height = 510;
  const left = Math.max(0, Math.round(window.screenX + (window.outerWidth - width) / 2));
  const top = Math.max(0, Math.round(window.screenY + (window.outerHeight - height) / 2));
  let popup = null;
  try {
    popup = window.open("", "", `top=${top},left=${left},width=${width},height=${height},scrollbars=no`);
    if (popup) {
      popup.opener = null;
      popup.location.replace(url);
      popup.focus();
    }
  } catch {
    popup = null;
  }
  if (!popup) {
    window.alert(POPUP_BLOCKED);
    onFinished();
    return;
  }
  const timer = window.setInterval(() => {
    let done = popup.closed;
    if (!done && successUrl) {
      try {
        done = popup.location.href.startsWith(successUrl);
      } catch {
        // Still on the third party's origin: its location cannot be read.
      }
    }
    if (done) {
      window.clearInterval(timer);
      if (!popup.closed) popup.close();
      onFinished();
    }
  }, POPUP_POLL_MS);
}
