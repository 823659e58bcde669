// The JSON API as the signed-in person: the session cookie goes by itself, the CSRF token in a
// header on every change. Every rule lives in the API; this only carries requests and answers.

let csrfToken = null;
let current = null;

export const ROLES = ["author", "editor", "admin"];

export function atLeast(role) {
  return current !== null && ROLES.indexOf(current.user.role) >= ROLES.indexOf(role);
}

export function me() {
  return current;
}

export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }
}

function signInAgain() {
  const next = location.pathname + location.search;
  location.assign(`/admin/signin?next=${encodeURIComponent(next)}`);
}

/** Who is signed in; sends the browser to the sign-in page when nobody is. */
export async function session() {
  const response = await fetch("/v1/auth/session", { credentials: "same-origin" });
  if (response.status === 401) {
    signInAgain();
    throw new ApiError(401, { detail: "signed out" });
  }
  current = await response.json();
  csrfToken = current.csrf_token;
  return current;
}

/** One API call: the parsed answer, its status and ETag; an ApiError for a problem. */
export async function api(method, path, { body, headers = {}, keepalive = false } = {}) {
  const init = { method, credentials: "same-origin", headers: { Accept: "application/json", ...headers }, keepalive };
  if (method !== "GET" && csrfToken) init.headers["X-CSRF-Token"] = csrfToken;
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (response.status === 401 && path !== "/v1/auth/session") {
    signInAgain();
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return { status: response.status, data, etag: response.headers.get("ETag") };
}

const leaving = [];

/** Work to finish while still signed in (save my copy, release my lock) before signing out. */
export function beforeSignOut(hook) {
  leaving.push(hook);
}

export async function signOut() {
  await Promise.allSettled(leaving.map((hook) => hook()));
  try {
    await api("DELETE", "/v1/auth/session");
  } finally {
    location.assign("/admin/signin");
  }
}
