// Find an item by part of its reference, its title or its tag's EPC. A scan (a barcode or RFID
// reader that types a reference or EPC and Enter, much faster than a person) opens the item
// at once when exactly one matches.
import { $, apiPage, itemPage, on, pager, placeNode, say, startPage, t, el } from "./console.js";

await startPage();
const status = $("#status");
const table = $("#results");
const input = $("#q");
const PAGE = 50;
const pages = pager($("#pager"), (offset) => search(shown.query, offset));
let shown = { query: "", offset: 0, refs: new Set() };

// A keyboard-wedge reader types every character within a few milliseconds of the last; a person
// takes a hundred or more. A search whose whole text came that fast (the median gap between its
// keys: one slow key, as when the page is busy, does not spoil a scan) is a scan.
const SCAN_MEDIAN_GAP_MS = 25;
const SCAN_MIN_CHARS = 4;
let keyTimes = [];
input.addEventListener("keydown", (event) => {
  if (event.key === "Enter") return;
  if (event.key.length !== 1 || event.ctrlKey || event.metaKey) {
    keyTimes = []; // an edit, a paste: not a scan
    return;
  }
  if (input.selectionStart === 0 && input.selectionEnd === input.value.length) keyTimes = [];
  keyTimes.push(performance.now());
});
function wasScanned(text) {
  if (text.length < SCAN_MIN_CHARS || keyTimes.length < input.value.length) return false;
  const gaps = keyTimes.slice(1).map((time, n) => time - keyTimes[n]).sort((a, b) => a - b);
  return gaps.length > 0 && gaps[Math.floor(gaps.length / 2)] <= SCAN_MEDIAN_GAP_MS;
}

function stateOf(hit) {
  if (hit.on_loan) return ["warn", t("state.on_loan")];
  if (hit.location.kind === "unknown") return ["bad", t("state.unknown")];
  return ["ok", t("state.in_room")];
}

function render(hits, total, query, offset) {
  const rows = hits.map((hit) => {
    const [kind, words] = stateOf(hit);
    return el(
      "tr",
      {},
      el("td", {}, el("a", { class: "ref", href: itemPage(hit.ref), text: hit.ref })),
      el("td", { text: hit.title }),
      el("td", {}, placeNode(hit.location)),
      el("td", {}, el("span", { class: `pill ${kind}`, text: words })),
      el("td", { class: "epc", text: hit.epc || "—" }),
    );
  });
  table.tBodies[0].replaceChildren(...rows);
  table.hidden = hits.length === 0;
  shown = { query, offset, refs: new Set(hits.map((hit) => hit.ref)) };
  pages.show(offset, hits.length, total);
  if (total) say(status, t("items.found", { count: total }));
  else say(status, t("items.none", { query }), "warn");
}

async function search(query, offset = 0, scanned = false) {
  say(status, t("items.searching"));
  try {
    const path = `/api/v1/search?q=${encodeURIComponent(query)}&limit=${PAGE}&offset=${offset}`;
    const { rows, total } = await apiPage(path);
    if (scanned && total === 1) {
      say(status, t("items.opening", { ref: rows[0].ref }), "ok");
      location.assign(itemPage(rows[0].ref));
      return;
    }
    render(rows, total, query, offset);
    if (scanned) input.select(); // the next scan replaces this one
  } catch (error) {
    table.hidden = true;
    say(status, error.message, "error");
  }
}

$("#search").addEventListener("submit", (event) => {
  event.preventDefault();
  const query = input.value.trim();
  const scanned = wasScanned(query);
  keyTimes = [];
  history.replaceState(null, "", `?q=${encodeURIComponent(query)}`);
  search(query, 0, scanned);
});

function refresh(event) {
  if (shown.query && (!event || shown.refs.has(event.ref))) search(shown.query, shown.offset);
}
for (const type of ["location.changed", "loan.opened", "loan.returned", "tag.bound"]) {
  on(type, refresh);
}
on("reconnected", () => refresh(null));

const initial = new URLSearchParams(location.search).get("q");
if (initial) {
  input.value = initial;
  search(initial);
}
input.focus();
