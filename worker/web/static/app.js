// The shopper's memory page: plain JavaScript modules, no build step, nothing loaded from elsewhere.
// Everything the server sends is put on the page with textContent, never as HTML.
// This module routes between the views and starts the page; each part of the page has its own module.
import { sendChat } from "./chat.js";
import { $, announce } from "./dom.js";
import { openMemory } from "./explain.js";
import { exportMemories } from "./export.js";
import { confirmClear, loadMemories } from "./memories.js";
import { loadSession, scheduleRefresh, signIn, signOut, whenSignedInOrOut } from "./session.js";
import { state } from "./state.js";

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

// -- start -------------------------------------------------------------------------------------------------------------
async function start() {
  whenSignedInOrOut(route);
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
