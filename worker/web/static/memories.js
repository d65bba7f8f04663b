// The list of memories, grouped as the prompt groups them, the questions above it, and deleting.
import { renderCharts } from "./charts.js";
import { $, announce, el, timeElement } from "./dom.js";
import { toggleEvidence } from "./explain.js";
import { api } from "./session.js";
import { state } from "./state.js";

const SECTION_NOTES = {
  allergies: "The assistant keeps these out of everything it suggests.",
  dietary: "Always respected, whatever else the assistant knows.",
  habits: "What your orders suggest you usually buy. The assistant treats these as habits, not rules, and asks before assuming.",
  insights: "Your household, goals and limits as you told us or confirmed, and habits your orders show. They shape suggestions, never over an allergy or a diet.",
};

// -- memories ------------------------------------------------------------------------------------------------------
export async function loadMemories() {
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

export function renderMemories(listing) {
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

export function confirmClear() {
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
