// A per-day bar chart drawn as inline SVG (no chart library): each day one bar, its allowed calls at the
// bottom and its denied calls stacked on top. Built with DOM calls only (text via textContent), so the console's
// Content-Security-Policy (no inline styles or scripts) holds; colours come from admin.css.

import { uid } from "./dom.js";

const SVG = "http://www.w3.org/2000/svg";

const WIDTH = 720;
const HEIGHT = 220;
const MARGIN = { top: 16, right: 12, bottom: 28, left: 44 };

/** An SVG element with attributes; children are nodes or strings (strings become text). */
function svg(tag, attributes = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value !== null && value !== undefined) el.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) el.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return el;
}

/** A round number at or above `value`, for the top of the scale (1, 2, 5, 10, 20, 50, ...). */
export function niceMaximum(value) {
  if (value <= 1) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) {
    if (step * power >= value) return step * power;
  }
  return 10 * power;
}

/** "3 Dec" for an ISO date (UTC, as activity days are). */
export function shortDate(iso) {
  return new Date(`${iso}T00:00:00Z`).toLocaleDateString(undefined, { day: "numeric", month: "short", timeZone: "UTC" });
}

/**
 * The chart of `days` ([{date, calls, denied}], oldest first). `label` names it for assistive technology; the
 * figure's summary (totals and the busiest day) is its accessible description, and each bar has a tooltip.
 */
export function dailyChart(days, { label = "Calls per day" } = {}) {
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const top = niceMaximum(Math.max(0, ...days.map((d) => d.calls + d.denied)));
  const slot = plotWidth / Math.max(days.length, 1);
  const barWidth = Math.max(1, slot * 0.7);
  const y = (value) => MARGIN.top + plotHeight - (value / top) * plotHeight;
  const calls = days.reduce((sum, d) => sum + d.calls, 0);
  const denied = days.reduce((sum, d) => sum + d.denied, 0);
  const busiest = days.reduce((best, d) => (d.calls + d.denied > best.calls + best.denied ? d : best), days[0] || null);
  const summary =
    `${days.length} days: ${calls} calls allowed, ${denied} denied` +
    (busiest && busiest.calls + busiest.denied ? `; busiest day ${busiest.date} (${busiest.calls + busiest.denied})` : "");

  const grid = [0, top / 2, top].map((value) =>
    svg(
      "g",
      { class: "chart-gridline" },
      svg("line", { x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y(value), y2: y(value) }),
      svg("text", { x: MARGIN.left - 6, y: y(value) + 4, "text-anchor": "end" }, String(Math.round(value * 10) / 10)),
    ),
  );
  const bars = days.map((day, n) => {
    const x = MARGIN.left + n * slot + (slot - barWidth) / 2;
    const callsTop = y(day.calls);
    const deniedTop = y(day.calls + day.denied);
    return svg(
      "g",
      { class: "chart-day", "data-date": day.date, "data-calls": day.calls, "data-denied": day.denied },
      svg("title", {}, `${day.date}: ${day.calls} allowed, ${day.denied} denied`),
      svg("rect", { class: "bar-calls", x, y: callsTop, width: barWidth, height: y(0) - callsTop }),
      svg("rect", { class: "bar-denied", x, y: deniedTop, width: barWidth, height: callsTop - deniedTop }),
    );
  });
  const ticks = days.length ? [0, Math.floor((days.length - 1) / 2), days.length - 1] : [];
  const labels = [...new Set(ticks)].map((n) =>
    svg(
      "text",
      { class: "chart-date", x: MARGIN.left + n * slot + slot / 2, y: HEIGHT - 8, "text-anchor": "middle" },
      shortDate(days[n].date),
    ),
  );
  const titleId = uid("chart-title");
  return svg(
    "svg",
    {
      class: "activity-chart",
      viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
      role: "img",
      "aria-labelledby": titleId,
      preserveAspectRatio: "xMidYMid meet",
    },
    svg("title", { id: titleId }, `${label}. ${summary}.`),
    grid,
    svg("line", { class: "chart-axis", x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y(0), y2: y(0) }),
    bars,
    labels,
  );
}
