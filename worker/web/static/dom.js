// Building the page: elements from data (always as text, never as HTML), dates in words, announcements.

export const $ = (id) => document.getElementById(id);

// -- small helpers -------------------------------------------------------------------------------------------------
export function el(tag, attributes = {}, ...children) {
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

export function svg(tag, attributes = {}, ...children) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function words(key) {
  return String(key ?? "").replace(/[_-]+/g, " ");
}

export function capitalised(text) {
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
export function longDay(iso) {
  return iso ? dayFormat.format(new Date(iso)) : "";
}

export function timeElement(iso, prefix = "") {
  return el("time", { datetime: iso, title: longDate(iso) }, prefix + ago(iso));
}

export function announce(message) {
  const status = $("status");
  status.textContent = "";
  // A fresh text node makes screen readers read the same message twice in a row, too.
  window.setTimeout(() => { status.textContent = message; }, 30);
}
