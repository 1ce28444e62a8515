// The GraphQL client and the admin session (a bearer token kept for this tab in sessionStorage).

const ENDPOINT = new URL("../graphql", document.baseURI).href;
const TOKEN_KEY = "integrations-admin-token";

export const SESSION_EXPIRED = "Your session has expired. Please sign in again.";
export const GENERIC_ERROR = "Sorry, something went wrong. Please try again later.";

/** The request was refused because the admin token is no longer valid; the app is back at sign-in. */
export class AuthError extends Error {}

/** A GraphQL or transport error, with a message fit to show. */
export class ApiError extends Error {
  constructor(message, errors = []) {
    super(message);
    this.errors = errors;
  }
}

export const session = {
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

let unauthenticated = () => {};

/** Called with a message when the server answers 401 to a request made with the session's token. */
export function onUnauthenticated(handler) {
  unauthenticated = handler;
}

/**
 * POST a GraphQL document. Returns `data`; throws ApiError for GraphQL errors (the first message),
 * AuthError after an HTTP 401 (the session is ended and the app shows sign-in).
 */
export async function gql(query, variables = {}, { authenticated = true } = {}) {
  const headers = { "Content-Type": "application/json", Accept: "application/json" };
  const token = authenticated ? session.token : null;
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(ENDPOINT, {
      method: "POST",
      headers,
      body: JSON.stringify({ query, variables }),
      credentials: "omit",
      cache: "no-store",
    });
  } catch {
    throw new ApiError("The server could not be reached. Please try again later.");
  }
  if (response.status === 401 && token) {
    session.clear();
    unauthenticated(SESSION_EXPIRED);
    throw new AuthError(SESSION_EXPIRED);
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError(GENERIC_ERROR);
  }
  if (body.errors && body.errors.length) {
    throw new ApiError(body.errors[0].message || GENERIC_ERROR, body.errors);
  }
  if (!response.ok || !body.data) throw new ApiError(GENERIC_ERROR);
  return body.data;
}

/** "input.name" style key of a userError's field path (null when it has none). */
export function fieldKey(error) {
  return error.field && error.field.length ? error.field.join(".") : null;
}
