// The charts of the shopper's own orders, beside what the assistant knows about how they shop.
import { $, capitalised, el, longDay, svg, words } from "./dom.js";
import { state } from "./state.js";

// -- charts (inline SVG) -------------------------------------------------------------------------------------------
// The stored patterns (what the assistant knows, listed above the charts by renderMemories) and the plain counts
// of the shopper's own orders they were measured on (GET /api/user/order-figures).
const DAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

function hourLabel(hour) {
  return hour === 0 ? "12am" : hour === 12 ? "noon" : hour < 12 ? `${hour}am` : `${hour - 12}pm`;
}

export function renderCharts(figures) {
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
