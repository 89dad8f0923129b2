// The desk's loans: open, overdue or returned, narrowed by borrower, category and due date;
// renewed or returned from the list; exported as CSV. Overdue loans stand out.
import { $, api, chips, day, download, el, itemPage, on, pager, say, showPage, startPage, t, when } from "./console.js";

await startPage();
const status = $("#status");
const form = $("#filters");
const pages = pager($("#pager"), (offset) => load(offset));
const list = { table: $("#loans"), empty: $("#no-loans"), pages, row };
let current = { status: "open", offset: 0 };

function query() {
  const params = new URLSearchParams();
  if (current.status) params.set("status", current.status);
  for (const name of ["borrower", "category", "due_from", "due_to"]) {
    const value = form.elements[name].value.trim();
    if (value) params.set(name, value);
  }
  return params;
}

function actions(loan) {
  if (loan.status === "returned") return "";
  const renew = el("button", { type: "button", class: "quiet renew", text: t("loans.renew") });
  const back = el("button", { type: "button", class: "return", text: t("loan.return") });
  renew.addEventListener("click", () => act(loan, "renew", renew));
  back.addEventListener("click", () => act(loan, "return", back));
  return [renew, back];
}

function row(loan) {
  const pill = { open: "ok", overdue: "bad", returned: "" }[loan.status];
  return el(
    "tr",
    { class: loan.status === "overdue" ? "overdue" : "", dataset: { id: loan.id, status: loan.status } },
    el("td", {}, el("a", { class: "ref", href: itemPage(loan.ref), text: loan.ref })),
    el("td", { text: loan.borrower }),
    el("td", { text: loan.purpose }),
    el("td", { class: "due", text: day(loan.due) }),
    el(
      "td",
      {},
      el("span", { class: `pill ${pill}`, text: t(`loan.status.${loan.status}`) }),
      loan.returned_at ? el("small", { text: t("loans.returned_by", { by: loan.returned_by, at: when(loan.returned_at) }) }) : "",
    ),
    el("td", {}, el("span", { class: "when", text: when(loan.opened_at) }), el("small", { text: loan.opened_by })),
    el("td", { class: "actions" }, actions(loan)),
  );
}

async function load(offset = current.offset) {
  current.offset = offset;
  const params = query();
  params.set("limit", String(pages.size));
  params.set("offset", String(offset));
  try {
    if (!(await showPage(`/api/v1/loans?${params}`, offset, list))) return load(0);
    if (status.dataset.kind === "error") say(status, "");
  } catch (error) {
    say(status, error.message, "error");
  }
}

async function act(loan, what, button) {
  button.disabled = true;
  try {
    const done = await api("POST", `/api/v1/loans/${loan.id}/${what}`);
    const words = what === "renew" ? t("loans.renewed", { ref: loan.ref, due: day(done.due) }) : t("loans.returned", { ref: loan.ref });
    say(status, words, "ok");
    await load();
  } catch (error) {
    say(status, error.message, "error");
    button.disabled = false;
  }
}

chips($("#states"), (chip) => {
  current.status = chip.dataset.status;
  load(0);
});
form.addEventListener("submit", (event) => {
  event.preventDefault();
  load(0);
});
$("#export").addEventListener("click", async () => {
  try {
    await download(`/api/v1/loans/export?${query()}`, "loans.csv");
  } catch (error) {
    say(status, error.message, "error");
  }
});
for (const type of ["loan.opened", "loan.returned"]) on(type, () => load());
on("reconnected", () => load());
load(0);
