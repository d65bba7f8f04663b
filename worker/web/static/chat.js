// The chat view: a turn, the memories its reply cites, and watching for what the worker learns from it.
import { $, capitalised, el } from "./dom.js";
import { renderMemories } from "./memories.js";
import { api } from "./session.js";
import { state } from "./state.js";

// -- chat --------------------------------------------------------------------------------------------------------------
export async function sendChat(event) {
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
