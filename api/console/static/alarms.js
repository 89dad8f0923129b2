// Active alarms of the room (gate, climate, stacker, readers, items), acknowledged by a person.
import { $, alarmWords, api, el, itemPage, on, say, startPage, t, when } from "./console.js";

await startPage();
const status = $("#status");
const table = $("#alarms");
let group = "";
let showEnded = false;

function groupOf(kind) {
  const prefix = kind.split(".")[0];
  if (["gate", "stacker", "reader", "climate"].includes(prefix)) return prefix;
  if (prefix === "sensor" || prefix === "actuator") return "climate";
  if (["item", "loan"].includes(prefix)) return "items";
  if (/^(temperature|humidity|mould|sensor)/.test(kind)) return "climate";
  return "other";
}

function stateOf(alarm) {
  if (!alarm.active) return t("alarms.ended", { at: when(alarm.cleared_at) });
  if (alarm.acknowledged_at) {
    return t("alarms.acked_by", { by: alarm.acknowledged_by, at: when(alarm.acknowledged_at) });
  }
  return t("alarms.unacked");
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
      el("small", { text: `${alarm.message} · ${alarm.source}` }),
    ),
    el("td", {}, subjectOf(alarm)),
    el("td", { class: "when", text: when(alarm.raised_at) }),
    el("td", { class: "state", text: stateOf(alarm) }),
    el("td", {}, alarm.active && !alarm.acknowledged_at ? ack : ""),
  );
}

async function load() {
  try {
    const state = showEnded ? "all" : "active";
    const alarms = await api("GET", `/api/v1/alarms?state=${state}&limit=500`);
    const shown = alarms.filter((alarm) => !group || groupOf(alarm.kind) === group);
    table.tBodies[0].replaceChildren(...shown.map(row));
    table.hidden = shown.length === 0;
    $("#no-alarms").hidden = shown.length !== 0;
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

for (const chip of document.querySelectorAll("#filters .chip")) {
  chip.addEventListener("click", () => {
    group = chip.dataset.group;
    for (const other of document.querySelectorAll("#filters .chip")) {
      other.setAttribute("aria-pressed", String(other === chip));
    }
    load();
  });
}
$("#show-ended").addEventListener("change", (event) => {
  showEnded = event.target.checked;
  load();
});
on("alarm.raised", load);
on("alarm.cleared", load);
on("reconnected", load);
load();
