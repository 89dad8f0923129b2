// Approvals: loan requests for files that leave only with an approval, and disposals of
// records whose retention has run out. Staff file and carry out; an approver decides (with
// the approval number); an admin countersigns a disposal.
import { $, api, el, say, startPage, t } from "./console.js";

const session = await startPage();
const status = $("#status");
const role = session.role;
const desk = role === "staff" || role === "admin";
const decides = role === "approver" || role === "admin";

for (const form of document.querySelectorAll("[data-for=staff]")) form.hidden = !desk;

function ask(label) {
  const value = window.prompt(label);
  return value === null ? null : value.trim();
}

async function act(method, path, body, done) {
  try {
    await api(method, path, body);
    say(status, done, "ok");
  } catch (error) {
    say(status, error.message, "error");
  }
  await refresh();
}

function button(label, onclick, kind = "") {
  return el("button", { type: "button", class: kind, text: label, onclick });
}

function requestRow(r) {
  const actions = [];
  if (decides && r.state === "pending") {
    actions.push(
      button(t("approvals.approve"), () => {
        const number = ask(t("approvals.approval_no"));
        if (number) act("POST", `/api/v1/loan-requests/${r.id}/approve`, { approval_no: number }, t("approvals.done"));
      }),
      button(t("approvals.reject"), () => {
        const reason = ask(t("approvals.reason"));
        if (reason) act("POST", `/api/v1/loan-requests/${r.id}/reject`, { reason }, t("approvals.done"));
      }, "quiet"),
    );
  }
  if (desk && (r.state === "pending" || r.state === "approved")) {
    actions.push(button(t("approvals.cancel"), () => act("POST", `/api/v1/loan-requests/${r.id}/cancel`, undefined, t("approvals.done")), "quiet"));
  }
  const state = el("span", { class: "pill", text: t(`approvals.state.${r.state}`) });
  const note = [r.approval_no, r.reason, r.retrieval].filter(Boolean).join(" · ");
  return el(
    "tr",
    { dataset: { request: String(r.id), state: r.state } },
    el("td", { text: String(r.id) }),
    el("td", { text: r.ref }),
    el("td", { text: r.borrower_kind ? `${r.borrower} (${r.borrower_kind})` : r.borrower }),
    el("td", { text: r.purpose }),
    el("td", {}, state, note ? el("small", { text: note }) : null),
    el("td", {}, ...actions),
  );
}

async function download(d, format) {
  const response = await fetch(`/api/v1/dispositions/${d.id}/register?format=${format}`, {
    credentials: "same-origin",
  });
  if (!response.ok) {
    say(status, t("approvals.register_failed"), "error");
    return;
  }
  const link = el("a", { href: URL.createObjectURL(await response.blob()), download: `register-${d.id}.${format}` });
  link.click();
  URL.revokeObjectURL(link.href);
}

function disposalRow(d) {
  const actions = [];
  const mine = role === "admin" ? d.admin : d.approver;
  if (decides && d.state === "proposed" && !mine) {
    actions.push(
      button(t(role === "admin" ? "approvals.countersign" : "approvals.approve"), () => {
        const body = {};
        if (role !== "admin") {
          const number = ask(t("approvals.approval_no"));
          if (!number) return;
          body.approval_no = number;
        }
        act("POST", `/api/v1/dispositions/${d.id}/approve`, body, t("approvals.done"));
      }),
      button(t("approvals.reject"), () => {
        const reason = ask(t("approvals.reason"));
        if (reason) act("POST", `/api/v1/dispositions/${d.id}/reject`, { reason }, t("approvals.done"));
      }, "quiet"),
    );
  }
  if (desk && d.state === "approved") {
    actions.push(button(t("approvals.carry_out"), () => act("POST", `/api/v1/dispositions/${d.id}/carry-out`, {}, t("approvals.done"))));
  }
  if (d.state === "carried_out") {
    actions.push(button("PDF", () => download(d, "pdf"), "quiet"), button("CSV", () => download(d, "csv"), "quiet"));
  }
  const signed = [d.approver && `${t("approvals.approver")}: ${d.approver} (${d.approval_no})`, d.admin && `${t("approvals.admin")}: ${d.admin}`]
    .filter(Boolean)
    .join(" · ");
  return el(
    "tr",
    { dataset: { disposal: String(d.id), state: d.state } },
    el("td", { text: String(d.id) }),
    el("td", { text: t(`approvals.action.${d.action}`) + (d.receiver ? ` → ${d.receiver}` : "") }),
    el("td", { text: d.items.map((i) => i.ref).join(", ") }),
    el("td", { text: d.reason }),
    el("td", {}, el("span", { class: "pill", text: t(`approvals.state.${d.state}`) }), signed ? el("small", { text: signed }) : null),
    el("td", {}, ...actions),
  );
}

async function refresh() {
  try {
    const state = $("#request-state").value;
    const requests = await api("GET", `/api/v1/loan-requests${state ? `?state=${state}` : ""}`);
    $("#requests tbody").replaceChildren(...requests.map(requestRow));
    const disposals = await api("GET", "/api/v1/dispositions");
    $("#disposals tbody").replaceChildren(...disposals.map(disposalRow));
  } catch (error) {
    say(status, error.message, "error");
  }
}

$("#request-state").addEventListener("change", refresh);
$("#new-request").addEventListener("submit", (event) => {
  event.preventDefault();
  const body = { ref: $("#rq-ref").value.trim(), borrower: $("#rq-borrower").value.trim(), purpose: $("#rq-purpose").value.trim() };
  const kind = $("#rq-kind").value.trim();
  if (kind) body.borrower_kind = kind;
  act("POST", "/api/v1/loan-requests", body, t("approvals.filed"));
});
$("#new-disposal").addEventListener("submit", (event) => {
  event.preventDefault();
  const body = {
    refs: $("#dp-refs").value.split(/[\s,]+/).filter(Boolean),
    action: $("#dp-action").value,
    reason: $("#dp-reason").value.trim(),
  };
  const receiver = $("#dp-receiver").value.trim();
  if (receiver) body.receiver = receiver;
  act("POST", "/api/v1/dispositions", body, t("approvals.proposed"));
});
refresh();
