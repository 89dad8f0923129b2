// Usage statistics (利用统计): loans of a period grouped by month, category, borrower or
// retention class, with the usage rate, as a table and a bar chart; and what the latest
// reconciliation found, class by class (paper against electronic records included).
import { $, api, el, fill, say, startPage, t, when } from "./console.js";

await startPage();
const status = $("#status");
const SVG = "http://www.w3.org/2000/svg";
const today = new Date();
const iso = (d) => d.toISOString().slice(0, 10);
$("#from").value = `${today.getFullYear()}-01-01`;
$("#to").value = iso(today);

function percent(value) {
  return value === null || value === undefined ? "—" : `${(value * 100).toFixed(1)} %`;
}

function number(value) {
  return value === null || value === undefined ? "—" : String(value);
}

function groupWords(group, by) {
  return by === "retention" ? t(`stats.retention.${group}`) : group || t("stats.none");
}

function row(r, by, cell = "td") {
  return el(
    "tr",
    { dataset: { group: r.group } },
    el(cell, { text: r.group === "total" && cell === "th" ? t("stats.total") : groupWords(r.group, by) }),
    el("td", { text: number(r.loans) }),
    el("td", { text: number(r.items) }),
    el("td", { text: number(r.borrowers) }),
    el("td", { text: number(r.average_days) }),
    el("td", { text: number(r.longest_days) }),
    el("td", { text: percent(r.overdue_share) }),
    el("td", { text: number(r.items_held) }),
    el("td", { text: percent(r.usage_rate) }),
  );
}

function chart(rows, by) {
  const width = 640;
  const bar = 22;
  const height = rows.length * (bar + 6) + 10;
  const most = Math.max(1, ...rows.map((r) => r.loans));
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("width", "100%");
  rows.forEach((r, i) => {
    const y = 5 + i * (bar + 6);
    const label = document.createElementNS(SVG, "text");
    label.setAttribute("x", "0");
    label.setAttribute("y", String(y + bar * 0.7));
    label.textContent = groupWords(r.group, by);
    const rect = document.createElementNS(SVG, "rect");
    rect.setAttribute("x", "160");
    rect.setAttribute("y", String(y));
    rect.setAttribute("height", String(bar));
    rect.setAttribute("width", String(Math.max(1, ((width - 230) * r.loans) / most)));
    rect.setAttribute("class", "chart-bar");
    const value = document.createElementNS(SVG, "text");
    value.setAttribute("x", String(166 + ((width - 230) * r.loans) / most));
    value.setAttribute("y", String(y + bar * 0.7));
    value.textContent = String(r.loans);
    svg.append(label, rect, value);
  });
  $("#chart").replaceChildren(svg);
}

function query() {
  const params = new URLSearchParams({ from: $("#from").value, to: $("#to").value, group_by: $("#group").value });
  return `/api/v1/statistics/loans?${params}`;
}

async function load() {
  say(status, t("stats.loading"));
  try {
    const by = $("#group").value;
    const data = await api("GET", query());
    $("#table tbody").replaceChildren(...data.rows.map((r) => row(r, by)));
    $("#table tfoot").replaceChildren(row(data.total, by, "th"));
    $("#rate").textContent = t("stats.rate_is", {
      rate: percent(data.total.usage_rate),
      items: data.total.items,
      held: number(data.total.items_held),
    });
    chart(data.rows, by);
    say(status, data.rows.length ? "" : t("stats.empty"));
  } catch (error) {
    say(status, error.message, "error");
  }
}

async function csv() {
  const response = await fetch(`${query()}&format=csv`, { credentials: "same-origin" });
  if (!response.ok) {
    say(status, t("stats.csv_failed"), "error");
    return;
  }
  const link = el("a", { href: URL.createObjectURL(await response.blob()), download: "loan-statistics.csv" });
  link.click();
  URL.revokeObjectURL(link.href);
}

async function reconciliation() {
  try {
    const runs = await api("GET", "/api/v1/reconciliations?limit=1");
    const run = runs.find((r) => r.state === "done") || runs[0];
    if (!run) {
      $("#run").textContent = t("stats.no_run");
      return;
    }
    $("#run").textContent = t("stats.run_is", { id: run.id, at: when(run.finished_at || run.requested_at) });
    fill(
      $("#discrepancies"),
      Object.entries(run.counts || {}).map(([cls, n]) => [t(`discrepancy.${cls}`), String(n)]),
    );
  } catch (error) {
    $("#run").textContent = error.message;
  }
}

$("#period").addEventListener("submit", (event) => {
  event.preventDefault();
  load();
});
$("#csv").addEventListener("click", csv);
load();
reconciliation();
