// Find an item by part of its reference, its title or its tag's EPC.
import { $, api, el, itemPage, on, placeWords, say, startPage, t } from "./console.js";

await startPage();
const status = $("#status");
const table = $("#results");
const input = $("#q");
let shown = { query: "", refs: new Set() };

function stateOf(hit) {
  if (hit.on_loan) return ["warn", t("state.on_loan")];
  if (hit.location.kind === "unknown") return ["bad", t("state.unknown")];
  return ["ok", t("state.in_room")];
}

function render(hits, query) {
  const rows = hits.map((hit) => {
    const [kind, words] = stateOf(hit);
    return el(
      "tr",
      {},
      el("td", {}, el("a", { class: "ref", href: itemPage(hit.ref), text: hit.ref })),
      el("td", { text: hit.title }),
      el("td", { text: placeWords(hit.location) }),
      el("td", {}, el("span", { class: `pill ${kind}`, text: words })),
      el("td", { class: "epc", text: hit.epc || "—" }),
    );
  });
  table.tBodies[0].replaceChildren(...rows);
  table.hidden = hits.length === 0;
  shown = { query, refs: new Set(hits.map((hit) => hit.ref)) };
  if (hits.length) say(status, t("items.found", { count: hits.length }));
  else say(status, t("items.none", { query }), "warn");
}

async function search(query) {
  say(status, t("items.searching"));
  try {
    render(await api("GET", `/api/v1/search?q=${encodeURIComponent(query)}`), query);
  } catch (error) {
    table.hidden = true;
    say(status, error.message, "error");
  }
}

$("#search").addEventListener("submit", (event) => {
  event.preventDefault();
  const query = input.value.trim();
  history.replaceState(null, "", `?q=${encodeURIComponent(query)}`);
  search(query);
});

function refresh(event) {
  if (shown.query && (!event || shown.refs.has(event.ref))) search(shown.query);
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
