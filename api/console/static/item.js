// One item: where it is, its loan, its tag, its history; check out, return, tag it at the desk.
import {
  $,
  api,
  day,
  el,
  fill,
  has,
  itemPath,
  on,
  placeName,
  placeNode,
  say,
  startPage,
  t,
  when,
} from "./console.js";
import { setUpLabels } from "./label-card.js";
import { setUpMap } from "./room-map.js";
import { setUpStacker } from "./stacker-card.js";

const ref = new URLSearchParams(location.search).get("ref");
const session = await startPage();
const status = $("#status");
let openLoan = null;

function words(prefix, value) {
  return has(`${prefix}.${value}`) ? t(`${prefix}.${value}`) : value;
}

function historyWords(entry) {
  const d = entry.details;
  switch (entry.kind) {
    case "movement":
      return t("history.movement", {
        from: d.from ? placeName(d.from) || d.from : t("place.unknown"),
        to: placeName(d.to) || d.to,
        source: words("source", d.source),
      });
    case "gate":
      return t(d.authorized ? "history.gate" : "history.gate_alarm", {
        direction: words("direction", d.direction),
        gate: d.gate,
      });
    case "loan.opened":
      return t("history.loan_opened", { borrower: d.borrower, due: day(d.due) });
    case "loan.returned":
      return t("history.loan_returned", { by: d.by || "" });
    case "audit":
      return t("history.audit", { action: words("action", d.action), actor: d.actor });
    case "stacker":
      return t("history.stacker", {
        kind: words("job.kind", d.kind),
        id: d.job_id,
        stacker: d.stacker,
        state: d.result && d.result !== "ok" ? words("job.result", d.result) : words("job.state", d.state),
      });
    default:
      return entry.summary;
  }
}

function renderItem(item) {
  $("#ref").textContent = item.ref;
  $("#title").textContent = item.title;
  document.title = `${item.ref} · ${t("app.name")}`;
  fill($("#summary"), [
    [t("item.kind"), words("kind", item.kind)],
    [t("item.year"), item.year],
    [t("item.retention"), words("retention", item.retention)],
    [t("item.category"), item.category],
    [t("item.parent"), item.parent_ref],
    [t("item.record"), item.record_id],
    [t("item.home"), item.home_location ? placeNode({ code: item.home_location, kind: "level" }) : ""],
  ]);
  const hasTag = Boolean(item.epc);
  $("#tag-current").textContent = hasTag ? t("tag.current", { epc: item.epc }) : t("tag.none");
  $("#tag-new").hidden = hasTag;
  $("#retire").hidden = !hasTag;
}

function renderWhere(where) {
  fill($("#where"), [
    [t("item.location"), placeNode(where.location)],
    [t("item.since"), when(where.since)],
    [t("item.source"), where.source ? words("source", where.source) : ""],
  ]);
  openLoan = where.loan;
  $("#loan-open").hidden = !openLoan;
  $("#checkout").hidden = Boolean(openLoan);
  if (openLoan) {
    fill($("#loan"), [
      [t("loan.state"), words("loan.status", openLoan.status)],
      [t("loan.borrower"), openLoan.borrower],
      [t("loan.purpose"), openLoan.purpose],
      [t("loan.approval_no"), openLoan.approval_no],
      [t("loan.due"), day(openLoan.due)],
      [t("loan.opened"), `${when(openLoan.opened_at)} · ${openLoan.opened_by}`],
    ]);
  }
}

function renderHistory(history) {
  const rows = history.entries
    .slice()
    .reverse()
    .map((entry) =>
      el(
        "tr",
        { dataset: { kind: entry.kind }, hidden: entry.kind === "audit" && !$("#show-audit").checked },
        el("td", { class: "when", text: when(entry.at) }),
        el("td", { text: words("history.kind", entry.kind) }),
        el("td", { text: historyWords(entry) }),
      ),
    );
  $("#history").tBodies[0].replaceChildren(...rows);
  showHistoryNote();
}

function showHistoryNote() {
  const shown = $("#history").querySelectorAll("tbody tr:not([hidden])").length;
  $("#no-history").hidden = shown > 0;
}

async function load() {
  try {
    const [item, where, history] = await Promise.all([
      api("GET", itemPath(ref)),
      api("GET", `${itemPath(ref)}/location`),
      api("GET", `${itemPath(ref)}/history`),
    ]);
    renderItem(item);
    renderWhere(where);
    renderHistory(history);
    $("#panels").hidden = false;
    $("#history-card").hidden = false;
    if (status.dataset.kind === "error") say(status, "");
  } catch (error) {
    say(status, error.message, "error");
  }
}

let pending = null;
function reload() {
  clearTimeout(pending);
  pending = setTimeout(load, 150);
}

$("#show-audit").addEventListener("change", (event) => {
  for (const row of $("#history").querySelectorAll("tr[data-kind=audit]")) {
    row.hidden = !event.target.checked;
  }
  showHistoryNote();
});

// -- actions ---------------------------------------------------------------------------------

async function act(target, button, run) {
  button.disabled = true;
  try {
    say(target, await run(), "ok");
    await load();
  } catch (error) {
    say(target, error.message, "error");
  } finally {
    button.disabled = false;
  }
}

$("#checkout").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.target;
  const field = (name) => form.elements[name].value.trim() || undefined;
  act($("#loan-status"), form.querySelector("button"), async () => {
    const loan = await api("POST", "/api/v1/loans", {
      ref,
      borrower: field("borrower"),
      purpose: field("purpose"),
      approval_no: field("approval_no"),
      due: field("due"),
    });
    form.reset();
    return t("loan.checked_out", { borrower: loan.borrower, due: day(loan.due) });
  });
});

$("#return").addEventListener("click", (event) => {
  act($("#loan-status"), event.target, async () => {
    await api("POST", `/api/v1/loans/${openLoan.id}/return`, {});
    return t("loan.returned");
  });
});

const readers = $("#reader");
readers.replaceChildren(
  ...session.desk_readers.map((reader) =>
    el("option", { value: reader.id }, `${reader.id} · ${t(reader.online ? "tag.online" : "tag.offline")}`),
  ),
);
if (session.desk_readers.length === 0) {
  $("#encode").replaceChildren(el("p", { class: "hint", text: t("tag.no_desk") }));
}

$("#encode").addEventListener("submit", (event) => {
  event.preventDefault();
  const target = $("#tag-status");
  say(target, t("tag.encoding", { reader: readers.value }));
  act(target, $("#encode-button"), async () => {
    const binding = await api("POST", `${itemPath(ref)}/tag`, { encode: true, reader: readers.value });
    return t("tag.encoded", { epc: binding.epc, uri: binding.uri });
  });
});

$("#bind-epc").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.target;
  act($("#tag-status"), form.querySelector("button"), async () => {
    const binding = await api("POST", `${itemPath(ref)}/tag`, { epc: form.elements.epc.value });
    form.reset();
    return t("tag.bound", { epc: binding.epc });
  });
});

$("#retire").addEventListener("click", (event) => {
  if (!confirm(t("tag.retire_confirm"))) return;
  act($("#tag-status"), event.target, async () => {
    const binding = await api("DELETE", `${itemPath(ref)}/tag`);
    return t("tag.retired", { epc: binding.epc });
  });
});

// -- live ------------------------------------------------------------------------------------

for (const type of ["location.changed", "gate.passage", "loan.opened", "loan.returned", "tag.bound"]) {
  on(type, (event) => event.ref === ref && reload());
}
on("reconnected", reload);

if (!ref) {
  say(status, t("item.no_ref"), "error");
} else {
  setUpStacker(session, ref, reload);
  setUpLabels(ref, reload);
  setUpMap({ ref });
  load();
}
