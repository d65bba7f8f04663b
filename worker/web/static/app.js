// The shopper's memory page: plain JavaScript, no build step, nothing loaded from elsewhere.
// Everything the server sends is put on the page with textContent, never as HTML.
"use strict";

const TOKEN_KEY = "customer-memory.session";
const SECTION_NOTES = {
  allergies: "The assistant keeps these out of everything it suggests.",
  dietary: "Always respected, whatever else the assistant knows.",
  habits: "What your orders suggest you usually buy. The assistant treats these as habits, not rules, and asks before assuming.",
  insights: "Your household, goals and limits as you told us or confirmed, and habits your orders show. They shape suggestions, never over an allergy or a diet.",
};
const EVENT_WORDS = {
  cart_add: "Added to your cart",
  checkout: "Order",
  message: "You wrote",
  preference_stated: "You told us",
  swap: "Savings swap",
  question: "You asked",
  search: "You searched",
  view_item: "You looked at",
};

const state = { config: null, session: null, listing: null, chat: [], refreshTimer: null, refreshing: null, learningWatch: 0, patterns: [], orders: 0 };
const $ = (id) => document.getElementById(id);

// -- small helpers -------------------------------------------------------------------------------------------------
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "className") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function svg(tag, attributes = {}, ...children) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function words(key) {
  return String(key ?? "").replace(/[_-]+/g, " ");
}

function capitalised(text) {
  return text ? text[0].toUpperCase() + text.slice(1) : text;
}

const relative = new Intl.RelativeTimeFormat("en", { numeric: "auto" });
function ago(iso) {
  if (!iso) return "";
  const seconds = (new Date(iso).getTime() - Date.now()) / 1000;
  const steps = [["year", 31536000], ["month", 2592000], ["week", 604800], ["day", 86400], ["hour", 3600], ["minute", 60]];
  for (const [unit, size] of steps) {
    if (Math.abs(seconds) >= size) return relative.format(Math.round(seconds / size), unit);
  }
  return "just now";
}

const dateFormat = new Intl.DateTimeFormat("en", { dateStyle: "medium", timeStyle: "short" }); // made once: it is costly
function longDate(iso) {
  return iso ? dateFormat.format(new Date(iso)) : "";
}

const dayFormat = new Intl.DateTimeFormat("en", { dateStyle: "long" });
function longDay(iso) {
  return iso ? dayFormat.format(new Date(iso)) : "";
}

function timeElement(iso, prefix = "") {
  return el("time", { datetime: iso, title: longDate(iso) }, prefix + ago(iso));
}

function announce(message) {
  const status = $("status");
  status.textContent = "";
  // A fresh text node makes screen readers read the same message twice in a row, too.
  window.setTimeout(() => { status.textContent = message; }, 30);
}

// -- the API ---------------------------------------------------------------------------------------------------------
class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function api(method, path, body) {
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

function loadSession() {
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

function scheduleRefresh() {
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

async function signIn(event) {
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
    route();
  } catch (failure) {
    error.textContent = "The sign-in service could not be reached. Try again in a moment.";
  } finally {
    button.disabled = false;
  }
}

function signOut(message) {
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
  route();
  if (message) $("sign-in-error").textContent = message;
}

// -- routing -----------------------------------------------------------------------------------------------------
function show(view) {
  for (const name of ["sign-in", "memories", "chat"]) $(`view-${name}`).hidden = name !== view;
  const signedIn = view !== "sign-in";
  $("nav").hidden = !signedIn;
  $("account").hidden = !signedIn;
  for (const link of document.querySelectorAll(".tabs a")) {
    if (link.dataset.view === view) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

async function route() {
  if (!state.session) {
    state.session = loadSession();
    scheduleRefresh();
  }
  if (!state.session) {
    show("sign-in");
    document.title = "Sign in · Your shopping memory";
    $("email").focus();
    return;
  }
  $("account-email").textContent = state.session.email || "";
  const path = window.location.pathname;
  if (path === "/chat") {
    show("chat");
    document.title = "Ask the assistant · Your shopping memory";
    return;
  }
  show("memories");
  document.title = "What your assistant remembers · Your shopping memory";
  await loadMemories();
  const match = path.match(/^\/memories\/([0-9a-f-]{36})$/i);
  if (match) openMemory(match[1]);
}

function navigate(event) {
  const link = event.target.closest("a[href^='/']");
  if (!link || link.target || event.metaKey || event.ctrlKey || event.shiftKey || link.hasAttribute("download")) return;
  event.preventDefault();
  history.pushState({}, "", link.getAttribute("href"));
  $("status").textContent = "";
  route();
}

// -- memories ------------------------------------------------------------------------------------------------------
async function loadMemories() {
  const sections = $("sections");
  sections.setAttribute("aria-busy", "true");
  try {
    // Both asked at once; the list is drawn as soon as it comes, the charts (a picture of the orders, which
    // takes longer to count for a shopper with many) when theirs do. Without figures, the memories still show.
    const figures = api("GET", "/api/user/order-figures").then((response) => response.json()).catch(() => null);
    const listing = await (await api("GET", "/api/user/memories")).json();
    state.listing = listing;
    renderMemories(listing);
    performance.mark("memories-rendered");
    renderCharts(await figures);
  } catch (error) {
    if (error.status !== 401) announce(`Your memories could not be loaded: ${error.message}`);
  } finally {
    sections.removeAttribute("aria-busy");
  }
}

function renderMemories(listing) {
  const count = listing.count;
  $("memories-summary").textContent = count
    ? `${count} ${count === 1 ? "thing" : "things"} remembered about you, grouped the way your assistant reads them.`
    : "";
  $("empty").hidden = count > 0;
  $("clear-all").disabled = count === 0;
  const pending = listing.sections.flatMap((section) => section.memories).filter((memory) => memory.pending_change);
  $("pending-notice").hidden = pending.length === 0;
  $("pending-notice").textContent = pending.length === 1
    ? "You asked in chat to remove 1 allergy or diet. It stays in use until you confirm or keep it below."
    : `You asked in chat to remove ${pending.length} allergies or diets. They stay in use until you confirm or keep them below.`;
  const questions = listing.questions || [];
  // Stored patterns live with the charts of the orders they were measured on: what the assistant knows about how
  // the shopper shops, each explainable and deletable like any memory.
  const patterns = listing.sections.find((section) => section.section === "patterns");
  state.patterns = patterns ? patterns.memories : [];
  $("sections").replaceChildren(
    ...(questions.length ? [renderQuestions(questions)] : []),
    ...listing.sections.filter((section) => section !== patterns).map(renderSection),
  );
  $("charts-knows").replaceChildren(
    ...(patterns ? [el("ul", { className: "memory-list", role: "list" }, patterns.memories.map(renderMemory))] : []),
  );
  $("charts").hidden = state.patterns.length === 0 && !state.orders;
}

// Questions suggested from the orders ("Are you shopping for young children?"), above "About you": the assistant
// uses none of them until the shopper answers Yes; No dismisses one for good.
function renderQuestions(questions) {
  return el(
    "section",
    { className: "memory-section memory-section-questions", "aria-labelledby": "section-questions" },
    el("h2", { id: "section-questions" }, "Questions for you", el("span", { className: "count", "aria-label": `${questions.length} questions` }, questions.length)),
    el("p", { className: "section-note" }, "Your orders suggest these. Your assistant uses none of them unless you say Yes."),
    el("ul", { className: "memory-list", role: "list" }, questions.map(renderQuestion)),
  );
}

function renderQuestion(question) {
  const titleId = `question-${question.id}`;
  return el(
    "li",
    { className: "memory memory-question", id: `memory-${question.id}`, "data-memory-id": question.id, "data-key": question.memory_key, role: "group", "aria-labelledby": titleId },
    el(
      "div",
      { className: "memory-main" },
      el("h3", { className: "memory-title", id: titleId }, question.question),
      question.because ? el("p", { className: "memory-reason" }, question.because) : null,
    ),
    el(
      "div",
      { className: "memory-actions" },
      el("button", {
        type: "button",
        className: "button button-small",
        "data-action": "answer-yes",
        "aria-label": `Yes: ${question.question}`,
        onclick: () => changeAndReload("POST", `/api/user/memories/${question.id}/answer/yes`,
          `Thanks. Your assistant now knows: ${question.headline}.`, "Your answer could not be saved"),
      }, "Yes"),
      el("button", {
        type: "button",
        className: "button button-small button-quiet-danger",
        "data-action": "answer-no",
        "aria-label": `No: ${question.question}`,
        onclick: () => changeAndReload("POST", `/api/user/memories/${question.id}/answer/no`,
          "Thanks. We will not ask that again from your past orders.", "Your answer could not be saved"),
      }, "No"),
    ),
  );
}

function renderSection(section) {
  const id = `section-${section.section}`;
  return el(
    "section",
    { className: `memory-section memory-section-${section.section}`, "aria-labelledby": id },
    el("h2", { id }, section.title, el("span", { className: "count", "aria-label": `${section.memories.length} items` }, section.memories.length)),
    SECTION_NOTES[section.section] ? el("p", { className: "section-note" }, SECTION_NOTES[section.section]) : null,
    el("ul", { className: "memory-list", role: "list" }, section.memories.map(renderMemory)),
  );
}

// A favourite whose buy-again window has started: likely to run out soon. Words, not only a colour.
function dueBadge() {
  return el("span", { className: "badge badge-due" }, "Due now");
}

function confidenceLevel(memory) {
  if (memory.source === "explicit" || memory.source === "confirmed") return 4;
  const value = Number(memory.confidence);
  return value >= 0.9 ? 4 : value >= 0.75 ? 3 : value >= 0.6 ? 2 : 1;
}

function renderMemory(memory) {
  const evidenceId = `evidence-${memory.id}`;
  const level = confidenceLevel(memory);
  const why = el("button", {
    type: "button",
    className: "button button-small",
    "aria-expanded": "false",
    "aria-controls": evidenceId,
    "data-action": "why",
    onclick: () => toggleEvidence(memory, why),
  }, "Why?");
  const remove = el("button", {
    type: "button",
    className: "button button-small button-quiet-danger",
    "data-action": "delete",
    "aria-label": `Delete “${memory.headline}”`,
    onclick: () => confirmDelete(memory),
  }, "Delete");
  return el(
    "li",
    {
      className: memory.pending_change ? "memory memory-pending" : memory.status === "ended" ? "memory memory-ended" : "memory",
      id: `memory-${memory.id}`,
      "data-memory-id": memory.id,
      "data-key": memory.memory_key,
    },
    el(
      "div",
      { className: "memory-main" },
      el("h3", { className: "memory-title" }, memory.headline, memory.due_now ? [" ", dueBadge()] : null),
      el(
        "p",
        { className: "memory-meta" },
        el(
          "span",
          { className: `confidence confidence-${level}`, title: `Confidence ${Number(memory.confidence).toFixed(2)}` },
          el("span", { className: "meter", "aria-hidden": "true" }, [1, 2, 3, 4].map((step) => el("i", { className: step <= level ? "on" : "" }))),
          memory.confidence_words,
        ),
        el("span", { className: `source source-${memory.source}` }, memory.source_words),
      ),
      memory.reason && memory.reason !== memory.headline ? el("p", { className: "memory-reason" }, memory.reason) : null,
      // A favourite bought repeatedly: when it is usually bought again, in the words of the prompt's line.
      memory.timing_words ? el("p", { className: memory.due_now ? "memory-timing memory-timing-due" : "memory-timing" }, `Buy again: ${memory.timing_words}`) : null,
      el("p", { className: "memory-when" }, timeElement(memory.last_confirmed_at, "Last confirmed ")),
    ),
    el("div", { className: "memory-actions" }, why, remove),
    memory.pending_change ? renderPendingChange(memory) : null,
    memory.ended_words ? el("p", { className: "ended-words" }, memory.ended_words) : null,
    el("div", { className: "evidence", id: evidenceId, hidden: true, role: "region", "aria-label": `Why we think “${memory.headline}”` }),
  );
}

// A removal the shopper asked for in chat (an allergy or a diet): still in use until they answer here.
function renderPendingChange(memory) {
  const change = memory.pending_change;
  const noteId = `pending-${memory.id}`;
  const asked = change.message
    ? el("p", { className: "pending-asked" }, "You wrote “", change.message, "” ", timeElement(change.requested_at), ".")
    : null;
  return el(
    "div",
    { className: "pending", role: "group", "aria-labelledby": noteId },
    el("p", { className: "pending-words", id: noteId }, memory.pending_words),
    asked,
    el(
      "div",
      { className: "pending-actions" },
      el("button", {
        type: "button",
        className: "button button-small button-danger",
        "data-action": "confirm-removal",
        "aria-label": `Confirm: remove “${memory.headline}”`,
        onclick: () => confirmRemoval(memory),
      }, "Confirm removal"),
      el("button", {
        type: "button",
        className: "button button-small",
        "data-action": "keep",
        "aria-label": `Keep “${memory.headline}”`,
        onclick: () => keepMemory(memory),
      }, "Keep it"),
    ),
  );
}

async function toggleEvidence(memory, button) {
  const panel = $(`evidence-${memory.id}`);
  const open = button.getAttribute("aria-expanded") === "true";
  button.setAttribute("aria-expanded", String(!open));
  panel.hidden = open;
  if (open || panel.dataset.loaded) return;
  panel.replaceChildren(el("p", { className: "muted" }, "Looking up the evidence…"));
  try {
    const explained = await (await api("GET", `/api/user/memories/${memory.id}`)).json();
    panel.replaceChildren(...renderEvidence(explained));
    panel.dataset.loaded = "true";
  } catch (error) {
    panel.replaceChildren(el("p", { className: "form-error" }, `The evidence could not be loaded: ${error.message}`));
  }
}

function openMemory(memoryId) {
  const card = $(`memory-${memoryId}`);
  if (!card) {
    announce("That memory is not here any more: it may have been deleted.");
    return;
  }
  const button = card.querySelector("[data-action='why']");
  if (button.getAttribute("aria-expanded") !== "true") button.click();
  card.classList.add("highlight");
  card.scrollIntoView({ block: "center" });
  button.focus({ preventScroll: true });
}

function renderEvidence(explained) {
  const evidence = explained.evidence || {};
  const parts = [];
  const memory = explained.memory || {};
  parts.push(el("h4", {}, "Why we think this"));
  if (memory.reason) parts.push(el("p", {}, memory.reason));
  const timing = (explained.presented || {}).timing_words;
  if (timing) parts.push(el("p", { className: "timing" }, `Buy again: ${timing}`));
  const figures = evidence.figures || evidence.supporting_data;
  if (figures && Object.keys(figures).length) {
    parts.push(
      el("dl", { className: "figures" }, Object.entries(figures).filter(([key]) => key !== "interaction_ids").flatMap(([key, value]) => [
        el("dt", {}, capitalised(words(key))),
        el("dd", {}, typeof value === "object" ? JSON.stringify(value) : String(value)),
      ])),
    );
  }
  const events = evidence.interactions || [];
  const orders = evidence.orders || [];
  const total = evidence.interaction_count ?? evidence.order_count ?? events.length + orders.length;
  if (events.length || orders.length) {
    const shown = events.length + orders.length;
    parts.push(el("p", { className: "muted" }, shown < total ? `The latest ${shown} of ${total} things behind it:` : `${total} ${total === 1 ? "thing" : "things"} behind it:`));
    parts.push(el("ul", { className: "evidence-list" }, events.map(renderEvent), orders.map(renderOrder)));
  } else if (!figures) {
    parts.push(el("p", { className: "muted" }, "No recorded events behind it: it came from what you told us."));
  }
  return parts;
}

function renderEvent(event) {
  const detail = event.detail || {};
  let summary = words(event.interaction_key);
  if (event.interaction_type === "checkout") {
    const items = Array.isArray(detail.items) ? detail.items : [];
    const names = items.map((item) => `${item.name || item.sku}${item.quantity > 1 ? ` ×${item.quantity}` : ""}`);
    summary = names.length ? names.join(", ") : `${detail.item_count ?? "?"} items`;
  } else if (detail.content) {
    summary = `“${detail.content}”`;
  } else if (event.interaction_type === "cart_add" && detail.name) {
    summary = detail.name;
  }
  return el(
    "li",
    {},
    el("strong", {}, EVENT_WORDS[event.interaction_type] || capitalised(words(event.interaction_type))),
    " ",
    timeElement(detail.placed_at || event.created_at),
    el("span", { className: "evidence-detail" }, summary),
  );
}

function renderOrder(order) {
  const total = order.total !== null && order.total !== undefined ? ` · $${Number(order.total).toFixed(2)}` : "";
  return el(
    "li",
    {},
    el("strong", {}, "Order"),
    " ",
    timeElement(order.placed_at || order.created_at),
    el("span", { className: "evidence-detail" }, `${order.item_count ?? "?"} items${total}`),
  );
}

// -- deleting ------------------------------------------------------------------------------------------------------
// The one confirmation step for removing one memory: `act` runs only if the shopper presses the confirm button.
function askToConfirm(title, text, [confirmLabel, cancelLabel], act) {
  const dialog = $("confirm-delete");
  $("confirm-delete-title").textContent = title;
  $("confirm-delete-text").textContent = text;
  $("confirm-delete-button").textContent = confirmLabel;
  dialog.querySelector("button[value='cancel']").textContent = cancelLabel;
  dialog.returnValue = "";
  dialog.onclose = async () => {
    if (dialog.returnValue === "confirm") await act();
  };
  dialog.showModal();
}

async function changeAndReload(method, path, done, failed) {
  try {
    await api(method, path);
    announce(done);
    await loadMemories();
    $("memories-title").focus();
  } catch (error) {
    announce(`${failed}: ${error.message}`);
  }
}

function confirmDelete(memory) {
  askToConfirm(
    `Delete “${memory.headline}”?`,
    memory.source === "explicit"
      ? "Your assistant will forget what you told it. Tell it again any time to bring it back."
      : "Your assistant will forget it and will not learn it again from your past shopping.",
    ["Delete", "Keep it"],
    () => changeAndReload(
      "DELETE",
      `/api/user/memories/${memory.id}`,
      `Deleted “${memory.headline}”. Your assistant no longer remembers it.`,
      `“${memory.headline}” could not be deleted`,
    ),
  );
}

function confirmRemoval(memory) {
  const safety = memory.memory_type === "allergy"
    ? "The assistant will stop keeping it out of what it suggests."
    : "The assistant will stop respecting it in what it suggests.";
  askToConfirm(
    `Remove “${memory.headline}”?`,
    `You asked in chat to remove this. ${safety} Tell it again any time to bring it back.`,
    ["Remove", "Cancel"],
    () => changeAndReload(
      "POST",
      `/api/user/memories/${memory.id}/pending-change/confirm`,
      `Removed “${memory.headline}”, as you asked. Your assistant no longer uses it.`,
      `“${memory.headline}” could not be removed`,
    ),
  );
}

function keepMemory(memory) {
  changeAndReload(
    "POST",
    `/api/user/memories/${memory.id}/pending-change/reject`,
    `Kept “${memory.headline}”. Your assistant goes on using it.`,
    `“${memory.headline}” could not be kept`,
  );
}

function confirmClear() {
  const listing = state.listing;
  if (!listing) return;
  const dialog = $("confirm-clear");
  const input = $("confirm-clear-input");
  const button = $("confirm-clear-button");
  const lines = listing.sections.map((section) => el("li", {}, `${section.title}: ${section.memories.length}`));
  $("confirm-clear-text").replaceChildren(
    el("p", {}, `This permanently deletes all ${listing.count} memories your assistant has about you:`),
    el("ul", {}, lines),
    el("p", {}, "and every event they were learned from: your cart adds, orders, swaps and chat messages, archived ones included. It cannot be undone. Export first if you want a copy."),
  );
  input.value = "";
  button.disabled = true;
  input.oninput = () => { button.disabled = input.value.trim().toLowerCase() !== "delete everything"; };
  dialog.returnValue = "";
  dialog.onclose = async () => {
    if (dialog.returnValue !== "confirm") return;
    try {
      const counts = await (await api("DELETE", "/api/user/memories")).json();
      const removed = counts.preferences + counts.patterns + counts.insights;
      const events = counts.interactions + counts.archived_interactions;
      announce(`Deleted ${removed} memories and ${events} recorded events. Your assistant starts afresh.`);
      await loadMemories();
      $("memories-title").focus();
    } catch (error) {
      announce(`Your memories could not be deleted: ${error.message}`);
    }
  };
  dialog.showModal();
}

// -- export ----------------------------------------------------------------------------------------------------------
async function exportMemories() {
  try {
    const response = await api("GET", "/api/user/memories/export");
    const disposition = response.headers.get("Content-Disposition") || "";
    const name = (disposition.match(/filename="([^"]+)"/) || [])[1] || "customer-memory-export.json";
    const url = URL.createObjectURL(await response.blob());
    const link = el("a", { href: url, download: name, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    window.setTimeout(() => URL.revokeObjectURL(url), 10000);
    announce(`Downloaded ${name}: everything stored about you, as JSON.`);
  } catch (error) {
    announce(`The export failed: ${error.message}`);
  }
}

// -- charts (inline SVG) -------------------------------------------------------------------------------------------
// The stored patterns (what the assistant knows, listed above the charts by renderMemories) and the plain counts
// of the shopper's own orders they were measured on (GET /api/user/order-figures).
const DAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

function hourLabel(hour) {
  return hour === 0 ? "12am" : hour === 12 ? "noon" : hour < 12 ? `${hour}am` : `${hour - 12}pm`;
}

function renderCharts(figures) {
  const orders = figures ? figures.orders : 0;
  state.orders = orders;
  const known = (state.patterns || []).length;
  $("charts").hidden = orders === 0 && known === 0;
  $("charts-note").textContent = known
    ? "Each is measured on your own orders of the last 90 days and kept only where it is truer of you than of " +
      "shoppers in general. Ask why, or delete it: it is not learned again from the same orders."
    : "Nothing about how you shop stands out from shoppers in general yet, so your assistant assumes nothing about it.";
  if (orders === 0) {
    $("chart-grid").replaceChildren();
    $("charts-figures").textContent = "";
    return;
  }
  $("charts-figures").textContent =
    `From your orders in the last ${figures.window_days} days: ` + // the SQL's window
    `your ${orders} ${orders === 1 ? "order" : "orders"} since ${longDay(figures.since)}, each at its own local time.`;
  const hours = figures.by_hour.map((count, hour) => [
    hour % 6 === 0 ? hourLabel(hour) : "", count, `${hourLabel(hour)} to ${hourLabel((hour + 1) % 24)}`,
  ]);
  const days = figures.by_weekday.map((count, index) => [DAY_NAMES[index].slice(0, 3), count, DAY_NAMES[index]]);
  const categories = figures.categories.map((c) => [capitalised(words(c.category)), c.orders / orders]);
  const charts = [columnChart("Time of day", hours, "orders"), columnChart("Day of the week", days, "orders")];
  if (categories.length) charts.push(barChart("Categories in your orders", categories));
  $("chart-grid").replaceChildren(...charts);
}

function chartFigure(title, description, drawing, rows) {
  // The picture for the eye, the same figures as a table for a screen reader.
  return el(
    "figure",
    { className: "chart" },
    el("figcaption", {}, title),
    drawing,
    el("div", { className: "visually-hidden" }, el("table", {},
      el("caption", {}, `${title}: ${description}`),
      el("tbody", {}, rows.map(([label, value]) => el("tr", {}, el("th", { scope: "row" }, label), el("td", {}, value)))))),
  );
}

function columnChart(title, data, unit) {
  const width = 280, height = 132, base = 108, top = 14;
  const max = Math.max(1, ...data.map((d) => d[1]));
  const slot = width / data.length;
  const peak = data.reduce((best, d) => (d[1] > best[1] ? d : best), data[0]);
  const drawing = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart-svg", "aria-hidden": "true", focusable: "false" });
  data.forEach(([label, value], index) => {
    const barHeight = Math.round(((base - top) * value) / max);
    const x = index * slot + slot * 0.18;
    drawing.append(
      svg("rect", { x, y: base - barHeight, width: slot * 0.64, height: Math.max(barHeight, 1), rx: Math.min(4, slot * 0.2), class: value === peak[1] && value > 0 ? "bar bar-peak" : "bar" }),
    );
    // A few labels on many columns (hours) mark where a column starts; one per column sits under its middle.
    const [labelX, anchor] = data.length > 12
      ? [index * slot, index === 0 ? "start" : "middle"]
      : [index * slot + slot / 2, "middle"];
    if (label) drawing.append(svg("text", { x: labelX, y: height - 6, "text-anchor": anchor, class: "axis" }, label));
    // Every count where there is room for it; with many narrow columns, only the peak's.
    const labelled = data.length <= 12 || (value === peak[1] && index === data.indexOf(peak));
    if (value > 0 && labelled) drawing.append(svg("text", { x: index * slot + slot / 2, y: base - barHeight - 4, "text-anchor": "middle", class: "value" }, value));
  });
  const rows = data.map(([label, value, long]) => [long || label, `${value} ${unit}`]);
  return chartFigure(title, `mostly ${(peak[2] || peak[0]).toLowerCase()}`, drawing, rows);
}

function barChart(title, data) {
  const width = 280, row = 22, labelWidth = 112;
  const height = data.length * row + 4;
  const drawing = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart-svg", "aria-hidden": "true", focusable: "false" });
  data.forEach(([label, share], index) => {
    const y = index * row + 2;
    const barWidth = Math.max(2, Math.round((width - labelWidth - 40) * share));
    const shortLabel = label.length > 16 ? `${label.slice(0, 15)}…` : label;
    drawing.append(
      svg("text", { x: 0, y: y + 14, class: "axis axis-left" }, shortLabel),
      svg("rect", { x: labelWidth, y: y + 4, width: barWidth, height: 12, rx: 4, class: index === 0 ? "bar bar-peak" : "bar" }),
      svg("text", { x: labelWidth + barWidth + 6, y: y + 14, class: "value" }, `${Math.round(share * 100)}%`),
    );
  });
  const rows = data.map(([label, share]) => [label, `in ${Math.round(share * 100)}% of orders`]);
  return chartFigure(title, "share of your orders with each category", drawing, rows);
}

// -- chat --------------------------------------------------------------------------------------------------------------
async function sendChat(event) {
  event.preventDefault();
  const input = $("chat-input");
  const message = input.value.trim();
  if (!message) return;
  const history = state.chat.slice(-40);
  input.value = "";
  const log = $("chat-log");
  log.append(el("li", { className: "bubble bubble-user" }, el("span", { className: "visually-hidden" }, "You: "), message));
  const pending = el("li", { className: "bubble bubble-assistant muted" }, "Thinking…");
  log.append(pending);
  try {
    // What the list holds before the message, to see when the worker has learned something from it.
    const before = await listingNow();
    const turn = await (await api("POST", "/api/chat", { message, history })).json();
    state.chat.push({ role: "user", content: message }, { role: "assistant", content: turn.reply });
    pending.replaceWith(renderReply(turn));
    showChatMode(turn);
    watchForLearning(before);
  } catch (error) {
    pending.replaceWith(el("li", { className: "bubble bubble-assistant form-error" }, `The assistant could not answer: ${error.message}`));
  }
  input.focus();
}

// The server records each message (record_message) and the worker reads it for anything to remember or forget;
// the list is read again until it changes, or until the worker has had ample time. The page says which: when a
// worker runs beside this server (state.config.learning === "beside"), a change shows within seconds; otherwise
// it shows when the project's worker gets to it.
const LEARN_POLL_MS = 1000;
const LEARN_WAIT_MS = { beside: 15000, elsewhere: 60000 };

async function listingNow() {
  return (await api("GET", "/api/user/memories")).json();
}

function listingSignature(listing) {
  return JSON.stringify([listing.sections.map((section) => section.memories.map((memory) =>
    [memory.id, memory.confidence, memory.last_confirmed_at, memory.pending_change, memory.status])),
    (listing.questions || []).map((question) => question.id)]);
}

async function watchForLearning(before) {
  const watch = ++state.learningWatch;
  const beside = state.config.learning === "beside";
  const note = $("chat-learning");
  note.hidden = false;
  note.textContent = beside
    ? "Your message is recorded. The assistant is reading it for anything to remember; a change shows under “What we remember” within seconds."
    : "Your message is recorded. The assistant learns from it when its worker reads it (the worker does not run inside this server), so a change can take a while to show under “What we remember”.";
  const deadline = Date.now() + LEARN_WAIT_MS[beside ? "beside" : "elsewhere"];
  const seen = listingSignature(before);
  while (Date.now() < deadline && watch === state.learningWatch && state.session) {
    await new Promise((resolve) => window.setTimeout(resolve, LEARN_POLL_MS));
    let listing;
    try {
      listing = await listingNow();
    } catch (error) {
      return;  // signed out, or the server is gone: nothing to say about learning
    }
    if (watch !== state.learningWatch) return;
    if (listingSignature(listing) !== seen) {
      state.listing = listing;
      renderMemories(listing);
      note.replaceChildren("The assistant learned from your message: ", el("a", { href: "/" }, "see what it remembers now"), ".");
      return;
    }
  }
  if (watch === state.learningWatch && state.session) {
    note.textContent = beside
      ? "Nothing in your message changed what the assistant remembers."
      : "Nothing has changed yet. If the worker is running, look under “What we remember” again later.";
  }
}

function showChatMode(turn) {
  const notice = $("chat-mode");
  if (turn.mode !== "no_model") {
    notice.hidden = true;
    return;
  }
  notice.hidden = false;
  notice.replaceChildren(
    el("strong", {}, "No model is configured on this server (no ANTHROPIC_API_KEY), so no assistant answers. "),
    "Each answer lists what the assistant would rely on from your own memory for your question, and why. Open “The prompt that would be sent” under an answer to see exactly what a model would get.",
  );
}

function renderReply(turn) {
  const byRef = Object.fromEntries(turn.citations.map((c) => [c.ref, c]));
  const text = el(turn.mode === "no_model" ? "div" : "p", { className: "reply-text" });
  for (const part of turn.reply.split(/(\[m[0-9]+\])/)) {
    const ref = (part.match(/^\[(m[0-9]+)\]$/) || [])[1];
    if (!ref) {
      text.append(part);
    } else if (byRef[ref]) {
      text.append(citation(byRef[ref]));
    } else {
      text.append(el("span", { className: "cite cite-unknown", title: "The assistant cited a memory you do not have." }, part));
    }
  }
  const body = [el("span", { className: "visually-hidden" }, "Assistant: "), text];
  if (turn.explanation) body.push(el("p", { className: "explanation" }, turn.explanation));
  if (turn.citations.length) {
    body.push(el("ul", { className: "cited" }, turn.citations.map((c) =>
      el("li", {}, el("a", { href: c.href }, `View memory details: ${c.name}`)))));
  }
  if (turn.request) {
    body.push(el("details", { className: "prompt" },
      el("summary", {}, "The prompt that would be sent"),
      el("pre", {}, turn.request.system)));
  }
  return el("li", { className: "bubble bubble-assistant" }, body);
}

function citation(cited) {
  const tipId = `tip-${cited.ref}-${Math.random().toString(36).slice(2, 8)}`;
  return el(
    "span",
    { className: "cite-wrap" },
    el("a", { className: "cite", href: cited.href, "aria-describedby": tipId }, cited.ref),
    el("span", { className: "tooltip", role: "tooltip", id: tipId },
      el("strong", {}, capitalised(cited.name)),
      el("span", {}, `Because ${cited.because}.`),
      el("span", { className: "tooltip-link" }, "Select to view memory details")),
  );
}

// -- start -------------------------------------------------------------------------------------------------------------
async function start() {
  try {
    state.config = await (await fetch("/api/config")).json();
  } catch (error) {
    announce("The server could not be reached.");
    return;
  }
  if (state.config.mode === "local") {
    $("sign-in-hint").textContent =
      "Local demo: no Supabase project is configured, so this server signs in the seed's shoppers itself " +
      "(dana@demo.customer-memory.dev, sam@… or riley@…, password grocery-demo-2026) with short-lived tokens.";
  }
  $("sign-in-form").addEventListener("submit", signIn);
  $("sign-out").addEventListener("click", () => signOut(""));
  $("export").addEventListener("click", exportMemories);
  $("clear-all").addEventListener("click", confirmClear);
  $("chat-form").addEventListener("submit", sendChat);
  $("chat-input").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      $("chat-form").requestSubmit();
    }
  });
  document.addEventListener("click", navigate);
  window.addEventListener("popstate", route);
  $("memories-title").tabIndex = -1;
  await route();
}

start();
