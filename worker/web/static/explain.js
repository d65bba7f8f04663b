// "Why?": one memory's evidence (explain_memory), opened under it.
import { $, announce, capitalised, el, timeElement, words } from "./dom.js";
import { api } from "./session.js";

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

export async function toggleEvidence(memory, button) {
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

export function openMemory(memoryId) {
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
