// A cart at the desk: every tagged box the desk antenna sees, checked out on one slip or
// returned in one action, with one line per box saying what happened to it.
import { $, api, el, itemPage, say, startPage, t, wordsOf } from "./console.js";

const session = await startPage();
const status = $("#status");
const seen = $("#seen");
const readerSelect = $("#reader");
const table = $("#results");
const buttons = [$("#look"), $("#return-all"), $("#checkout button[type=submit]")];

for (const reader of session.desk_readers) {
  const words = reader.online ? reader.id : t("cart.offline", { id: reader.id });
  readerSelect.append(el("option", { value: reader.id, text: words }));
}
if (!session.desk_readers.length) {
  say(status, t("cart.no_reader"), "warn");
  for (const button of buttons) button.disabled = true;
}

function boxLine(box) {
  if (!box.ref) return el("li", { class: "epc", text: t("cart.unbound", { epc: box.epc }) });
  return el("li", {}, el("a", { class: "ref", href: itemPage(box.ref), text: box.ref }));
}

async function look() {
  say(seen, t("cart.looking"));
  try {
    const boxes = await api("GET", `/api/v1/desk/${encodeURIComponent(readerSelect.value)}/boxes`);
    $("#boxes").replaceChildren(...boxes.map(boxLine));
    say(seen, boxes.length ? t("cart.seen", { count: boxes.length }) : t("cart.empty"), boxes.length ? "info" : "warn");
  } catch (error) {
    say(seen, error.message, "error");
  }
}

function showResults(answer, doneKey) {
  const rows = answer.results.map((result) =>
    el(
      "tr",
      { dataset: { outcome: result.outcome } },
      el("td", {}, result.ref ? el("a", { class: "ref", href: itemPage(result.ref), text: result.ref }) : "—"),
      el("td", { class: "epc", text: result.epc || "—" }),
      el("td", {}, el("span", { class: `pill ${result.outcome === "done" ? "ok" : "warn"}`, text: t(`cart.${result.outcome}`) })),
      el("td", { text: wordsOf(result, "reason") || "" }),
    ),
  );
  table.tBodies[0].replaceChildren(...rows);
  table.hidden = rows.length === 0;
  if (!rows.length) say(status, t("cart.empty"), "warn");
  else say(status, t(doneKey, { done: answer.done, refused: answer.refused }), answer.refused ? "warn" : "ok");
}

async function run(path, body, doneKey) {
  for (const button of buttons) button.disabled = true;
  say(status, t("cart.working"));
  try {
    showResults(await api("POST", path, { reader: readerSelect.value, ...body }), doneKey);
    $("#boxes").replaceChildren();
    say(seen, "");
  } catch (error) {
    say(status, error.message, "error");
  } finally {
    for (const button of buttons) button.disabled = false;
  }
}

$("#look").addEventListener("click", look);
$("#return-all").addEventListener("click", () => run("/api/v1/loans/returns", {}, "cart.returned"));
$("#checkout").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.target;
  const slip = {
    borrower: form.elements.borrower.value.trim(),
    purpose: form.elements.purpose.value.trim(),
  };
  if (form.elements.approval_no.value.trim()) slip.approval_no = form.elements.approval_no.value.trim();
  if (form.elements.due.value) slip.due = form.elements.due.value;
  run("/api/v1/loans/batch", slip, "cart.checked_out");
});
