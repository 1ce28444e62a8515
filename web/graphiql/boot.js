// Boots GraphiQL from this origin's own files (the page's CSP forbids inline script and other origins) and
// signs in with the form above the editor: the password goes to generateAdminToken in a POST body, never
// into a URL; the token is kept for this tab in sessionStorage (the admin console's session, shared) and
// added to GraphiQL's requests as an Authorization header, never written to GraphiQL's own storage.
"use strict";

(function () {
  const ENDPOINT = new URL(window.location.pathname, window.location.origin).href;
  const TOKEN_KEY = "integrations-admin-token"; // the admin console's key: one session per tab
  const SESSION_EXPIRED = "Your session has expired. Please sign in again.";

  const SIGN_IN = `mutation SignIn($username: String!, $password: String!) {
  generateAdminToken(username: $username, password: $password) { token expiresAt }
}`;
  const SIGN_OUT = "mutation SignOut { revokeAdminToken { revoked } }";

  const DEFAULT_QUERY = `# Sign in above (the first admin is "admin", with the password printed on first start),
# then pick an operation with the Run button (or put the cursor in one and press Ctrl-Enter).

query Viewer {
  viewer { kind resources }
}

query Products {
  products(first: 5) {
    edges { node { sku name price } }
    pageInfo { hasNextPage endCursor }
  }
}

query Settings {
  config {
    webApiSecurity { allowAnonymousGuestAccess }
    oauth { consumerExpirationPeriod adminTokenLifetime }
  }
}
`;

  const $ = (id) => document.getElementById(id);
  let sessionChanged = () => {};
  const form = $("sign-in");
  const signedIn = $("signed-in");
  const status = $("status");

  const session = {
    get token() {
      return sessionStorage.getItem(TOKEN_KEY);
    },
    start(token) {
      sessionStorage.setItem(TOKEN_KEY, token);
    },
    clear() {
      sessionStorage.removeItem(TOKEN_KEY);
    },
  };

  function say(message, isError = false) {
    status.textContent = message;
    status.classList.toggle("error", isError);
  }

  function showState() {
    const token = session.token;
    form.hidden = Boolean(token);
    signedIn.hidden = !token;
  }

  async function post(body, token) {
    const headers = { "Content-Type": "application/json", Accept: "application/json" };
    if (token) headers.Authorization = `Bearer ${token}`;
    return fetch(ENDPOINT, {
      method: "POST",
      headers,
      body: JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
    });
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const username = $("username").value.trim();
    const password = $("password").value;
    say("Signing in…");
    let body;
    try {
      body = await (await post({ query: SIGN_IN, variables: { username, password }, operationName: "SignIn" })).json();
    } catch {
      say("The server could not be reached. Please try again.", true);
      return;
    }
    const issued = body && body.data && body.data.generateAdminToken;
    if (!issued) {
      const message = (body && body.errors && body.errors[0] && body.errors[0].message) || "Sign-in failed.";
      say(message, true);
      return;
    }
    $("password").value = "";
    session.start(issued.token);
    $("signed-in-text").textContent = `Signed in as ${username} (until ${new Date(issued.expiresAt).toLocaleString()})`;
    say("");
    showState();
    sessionChanged();
  });

  $("sign-out").addEventListener("click", async () => {
    const token = session.token;
    session.clear();
    showState();
    if (token) {
      try {
        await post({ query: SIGN_OUT, operationName: "SignOut" }, token);
      } catch {
        // The token is forgotten here either way; it also expires by itself.
      }
    }
    say("Signed out.");
    sessionChanged();
  });

  /** GraphiQL's fetcher: its own headers (from the headers pane), plus the session's token unless it names one. */
  async function fetcher(params, options) {
    const headers = { "Content-Type": "application/json", Accept: "application/json", ...(options && options.headers) };
    const token = session.token;
    const named = Object.keys(headers).some((name) => name.toLowerCase() === "authorization");
    if (token && !named) headers.Authorization = `Bearer ${token}`;
    const response = await fetch(ENDPOINT, {
      method: "POST",
      headers,
      body: JSON.stringify(params),
      credentials: "omit",
      cache: "no-store",
    });
    if (response.status === 401 && token && !named) {
      session.clear();
      showState();
      say(SESSION_EXPIRED, true);
    }
    return response.json();
  }

  showState();
  if (session.token) $("signed-in-text").textContent = "Signed in (the admin console's session)";

  const host = $("graphiql");
  if (!window.React || !window.ReactDOM || !window.GraphiQL) {
    host.textContent = "GraphiQL could not be loaded from this server.";
    return;
  }
  host.textContent = "";
  const root = ReactDOM.createRoot(host);

  /** (Re)render GraphiQL. A new fetcher makes it fetch the schema again: who may introspect can change with
   * signing in or out (the INTROSPECTION setting). */
  function render() {
    root.render(
      React.createElement(GraphiQL, {
        fetcher: (params, options) => fetcher(params, options),
        defaultQuery: DEFAULT_QUERY,
        defaultEditorToolsVisibility: true,
        isHeadersEditorEnabled: true,
        // Headers typed into the editor stay in memory: a token there is never written to localStorage.
        shouldPersistHeaders: false,
        inputValueDeprecation: true,
      }),
    );
  }
  sessionChanged = render;
  render();
})();
