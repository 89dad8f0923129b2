// Active alarms of the room (gate, climate, stacker, readers, items), acknowledged by a person.
// One page at a time, filtered by family of kinds and by state on the server.
import { $, alarmWords, api, chips, el, itemPage, on, pager, say, showPage, startPage, t, when, wordsOf } from "./console.js";

await startPage();
const status = $("#status");
const pages = pager($("#pager"), (offset) => load(offset));
const list = { table: $("#alarms"), empty: $("#no-alarms"), pages, row };
let group = "";
let state = "active";
let shownOffset = 0;

function groupOf(kind) {
  const prefix = kind.split(".")[0];
  if (["gate", "stacker", "reader", "climate"].includes(prefix)) return prefix;
  if (prefix === "sensor" || prefix === "actuator") return "climate";
  if (["item", "loan"].includes(prefix)) return "items";
  if (/^(temperature|humidity|mould|sensor)/.test(kind)) return "climate";
  return "other";
}

function stateOf(alarm) {
  const acked = alarm.acknowledged_at
    ? el("small", { class: "acked", text: t("alarms.acked_by", { by: alarm.acknowledged_by, at: when(alarm.acknowledged_at) }) })
    : el("small", { class: "acked", text: t("alarms.unacked") });
  if (!alarm.active) return [t("alarms.ended", { at: when(alarm.cleared_at) }), acked];
  return acked;
}

function subjectOf(alarm) {
  if (!alarm.subject) return "";
  const isItem = ["gate", "items"].includes(groupOf(alarm.kind));
  return isItem ? el("a", { href: itemPage(alarm.subject), text: alarm.subject }) : alarm.subject;
}

function row(alarm) {
  const ack = el("button", {
    type: "button",
    class: "ack",
    text: t("alarms.ack"),
    onclick: (event) => acknowledge(alarm, event.target),
  });
  return el(
    "tr",
    { dataset: { id: alarm.id, kind: alarm.kind, active: alarm.active } },
    el("td", {}, el("span", { class: `pill ${alarm.severity}`, text: t(`severity.${alarm.severity}`) })),
    el(
      "td",
      {},
      el("strong", { text: alarmWords(alarm.kind) }),
      el("small", { text: `${wordsOf(alarm)} · ${alarm.source}` }),
    ),
    el("td", {}, subjectOf(alarm)),
    el("td", { class: "when", text: when(alarm.raised_at) }),
    el("td", { class: "state" }, stateOf(alarm)),
    el("td", {}, alarm.active && !alarm.acknowledged_at ? ack : ""),
  );
}

async function load(offset = shownOffset) {
  try {
    const params = new URLSearchParams({ state, limit: String(pages.size), offset: String(offset) });
    if (group) params.set("group", group);
    if (!(await showPage(`/api/v1/alarms?${params}`, offset, list))) return load(0);
    shownOffset = offset;
    if (status.dataset.kind === "error") say(status, "");
  } catch (error) {
    say(status, error.message, "error");
  }
}

async function acknowledge(alarm, button) {
  button.disabled = true;
  try {
    await api("POST", `/api/v1/alarms/${alarm.id}/ack`);
    say(status, t("alarms.acked", { what: alarmWords(alarm.kind) }), "ok");
    await load();
  } catch (error) {
    say(status, error.message, "error");
    button.disabled = false;
  }
}

chips($("#filters"), (chip) => {
  group = chip.dataset.group;
  load(0);
});
$("#state").addEventListener("change", (event) => {
  state = event.target.value;
  load(0);
});
on("alarm.raised", () => load());
on("alarm.cleared", () => load());
on("reconnected", () => load());
load(0);
