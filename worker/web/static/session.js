// Signing in and staying signed in (Supabase Auth or the local stand-in), and the API called with the token.
import { $ } from "./dom.js";
import { state } from "./state.js";

const TOKEN_KEY = "customer-memory.session";

// What happens when the shopper signs in or out: app.js routes to the view that fits.
let onSessionChange = () => {};
export function whenSignedInOrOut(callback) {
  onSessionChange = callback;
}

// -- the API ---------------------------------------------------------------------------------------------------------
class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export async function api(method, path, body) {
  await freshSession();
  const headers = { Authorization: `Bearer ${state.session.access_token}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (response.status === 401) {
    const problem = await response.json().catch(() => ({}));
    signOut(problem.message || "Your session has ended: sign in again.");
    throw new ApiError(401, problem.message || "Signed out.");
  }
  if (!response.ok) {
    const problem = await response.json().catch(() => ({}));
    throw new ApiError(response.status, problem.message || `The server answered ${response.status}.`);
  }
  return response;
}

// -- session -----------------------------------------------------------------------------------------------------
// Supabase Auth gives a short-lived access token and a refresh token: the page trades the refresh token for a new
// pair (GoTrue's grant_type=refresh_token) before the access token expires, and before any call made too close to
// its expiry (a background tab's timers may have been held back). The local sign-in gives no refresh token: its
// session simply ends. A refresh token is used once (GoTrue rotates it), so one exchange at a time.
const REFRESH_MARGIN_SECONDS = 60;

export function loadSession() {
  try {
    const session = JSON.parse(sessionStorage.getItem(TOKEN_KEY) || "null");
    if (session && (session.expires_at * 1000 > Date.now() || session.refresh_token)) return session;
  } catch (error) {
    // an unreadable session is no session
  }
  sessionStorage.removeItem(TOKEN_KEY);
  return null;
}

function saveSession(answer, email) {
  const now = Math.floor(Date.now() / 1000);
  const expiresAt = answer.expires_at || now + (answer.expires_in || 3600);
  state.session = {
    access_token: answer.access_token,
    refresh_token: answer.refresh_token || null,
    expires_at: expiresAt,
    // Refresh this long before expiry: a minute, or half the token's life if it is shorter.
    margin: Math.min(REFRESH_MARGIN_SECONDS, Math.max(1, Math.floor((expiresAt - now) / 2))),
    email: (answer.user && answer.user.email) || email,
  };
  sessionStorage.setItem(TOKEN_KEY, JSON.stringify(state.session));
  scheduleRefresh();
}

function authHeaders() {
  const headers = { "Content-Type": "application/json" };
  if (state.config.anon_key) headers.apikey = state.config.anon_key;
  return headers;
}

export function scheduleRefresh() {
  window.clearTimeout(state.refreshTimer);
  const session = state.session;
  if (!session || !session.refresh_token) return;
  state.refreshTimer = window.setTimeout(() => freshSession().catch(() => {}), Math.max(0, refreshAt(session) - Date.now()));
}

function refreshAt(session) {
  return (session.expires_at - (session.margin ?? REFRESH_MARGIN_SECONDS)) * 1000;
}

async function freshSession() {
  const session = state.session;
  if (!session || !session.refresh_token || Date.now() < refreshAt(session)) return;
  state.refreshing = state.refreshing || refreshSession(session).finally(() => { state.refreshing = null; });
  await state.refreshing;
}

async function refreshSession(session) {
  let response;
  try {
    response = await fetch(`${state.config.auth_url}/token?grant_type=refresh_token`, {
      method: "POST",
      headers: authHeaders(),
      body: JSON.stringify({ refresh_token: session.refresh_token }),
    });
  } catch (failure) {
    // Auth unreachable for now: the token may still be good; try again shortly.
    if (session.expires_at * 1000 > Date.now()) state.refreshTimer = window.setTimeout(() => freshSession().catch(() => {}), 5000);
    return;
  }
  const answer = await response.json().catch(() => ({}));
  if (state.session !== session) return; // signed out (or in again) meanwhile
  if (!response.ok || !answer.access_token) {
    signOut("Your session has ended: sign in again.");
    throw new ApiError(401, "Signed out.");
  }
  saveSession(answer, session.email);
}

export async function signIn(event) {
  event.preventDefault();
  const error = $("sign-in-error");
  error.textContent = "";
  const email = $("email").value.trim();
  const password = $("password").value;
  if (!email || !password) {
    error.textContent = "Enter your email and your password.";
    return;
  }
  const button = event.submitter || event.target.querySelector("button");
  button.disabled = true;
  try {
    // Supabase Auth's password grant, or this server's local stand-in for it: the same request either way.
    const response = await fetch(`${state.config.auth_url}/token?grant_type=password`, {
      method: "POST",
      headers: authHeaders(),
      body: JSON.stringify({ email, password }),
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      error.textContent = answer.msg || answer.error_description || answer.message || "Signing in failed.";
      $("password").focus();
      return;
    }
    saveSession(answer, email);
    $("password").value = "";
    onSessionChange();
  } catch (failure) {
    error.textContent = "The sign-in service could not be reached. Try again in a moment.";
  } finally {
    button.disabled = false;
  }
}

export function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  window.clearTimeout(state.refreshTimer);
  state.session = null;
  state.listing = null;
  state.chat = [];
  state.learningWatch += 1;  // a watch for the last chat message ends with the session
  $("chat-learning").hidden = true;
  // Nothing of the shopper stays on the page, hidden or not.
  for (const id of ["chat-log", "sections", "chart-grid", "memories-summary", "pending-notice"]) $(id).replaceChildren();
  if (window.location.pathname !== "/") history.pushState({}, "", "/");
  onSessionChange();
  if (message) $("sign-in-error").textContent = message;
}
