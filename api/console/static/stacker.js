// The stacker: the crane's state, the job it runs, the queue and the jobs seen since the page
// opened (followed live); decisions on exceptions and a fault reset.
import { $, api, el, fill, has, itemPage, on, say, startPage, t } from "./console.js";
import { setUpMap } from "./room-map.js";
import { decisionButtons, jobRows, jobState, routeWords, waitingWords } from "./stacker-jobs.js";

const session = await startPage();
const status = $("#status");
const jobs = new Map(); // job id -> job, newest last

function words(prefix, value) {
  return has(`${prefix}.${value}`) ? t(`${prefix}.${value}`) : value;
}

function stationWords(station) {
  if (station.mismatch) return `${station.name}: ${t("stacker.station.mismatch")}`;
  if (station.ref || station.box_id) {
    return `${station.name}: ${t("stacker.station.holds", { what: station.ref || station.box_id })}`;
  }
  if (station.plc_occupied) return `${station.name}: ${t("stacker.station.unknown_box")}`;
  return `${station.name}: ${t("stacker.station.free")}`;
}

function renderState(stacker) {
  const position = stacker.position;
  fill($("#state"), [
    [t("stacker.link"), t(stacker.connected ? "stacker.connected" : "stacker.disconnected")],
    [t("stacker.mode"), stacker.mode === null ? "" : words("stacker.mode", stacker.mode)],
    [t("stacker.takes_jobs"), stacker.refusal ? t("stacker.refused", { why: stacker.refusal }) : t("stacker.yes")],
    [t("stacker.blocked"), stacker.blocked_job === null ? null : t("stacker.blocked_by", { id: stacker.blocked_job })],
    [t("stacker.stations"), stacker.stations.map(stationWords).join(" · ")],
    [t("stacker.flags"), stacker.status.map((flag) => words("stacker.flag", flag)).join(" · ")],
    [t("stacker.faults"), stacker.faults.join("; ")],
    [t("stacker.down"), stacker.down_reason],
    [
      t("stacker.position"),
      position && t("stacker.at", { aisle: position.aisle, side: position.side, bay: position.bay, level: position.level }),
    ],
    [t("stacker.cells"), t("stacker.occupied", { occupied: stacker.occupied_cells, cells: stacker.cells })],
  ]);
  $("#reset").hidden = stacker.faults.length === 0;
  const active = stacker.active_job;
  $("#idle").hidden = Boolean(active);
  $("#active").hidden = !active;
  if (active) {
    fill($("#active"), jobRows(active));
    const buttons = decisionButtons(active, load, (text) => say(status, text, "error"));
    if (buttons.length) $("#active").append(el("dd", { class: "buttons" }, buttons));
  }
  for (const job of [...stacker.queue, ...(active ? [active] : [])]) jobs.set(job.job_id, job);
  renderJobs();
}

function renderJobs() {
  const rows = [...jobs.values()].reverse().map((job) =>
    el(
      "tr",
      { dataset: { job: job.job_id, state: job.state } },
      el("td", { text: `#${job.job_id}` }),
      el("td", { text: words("job.kind", job.kind) }),
      el("td", {}, job.ref ? el("a", { href: itemPage(job.ref), text: job.ref }) : ""),
      el("td", { text: routeWords(job), title: `${job.source.code} → ${job.destination.code}` }),
      el("td", { text: waitingWords(job) || jobState(job) }),
    ),
  );
  $("#jobs").tBodies[0].replaceChildren(...rows);
  $("#jobs-card").hidden = jobs.size === 0;
}

async function load() {
  try {
    renderState(await api("GET", "/api/v1/stacker"));
    $("#panels").hidden = false;
    if (status.dataset.kind === "error") say(status, "");
  } catch (error) {
    say(status, error.message, "error");
  }
}

$("#reset").addEventListener("click", async (event) => {
  event.target.disabled = true;
  try {
    await api("POST", "/api/v1/stacker/reset");
    say(status, t("stacker.reset_sent"), "ok");
    await load();
  } catch (error) {
    say(status, error.message, "error");
  } finally {
    event.target.disabled = false;
  }
});

if (!session.stacker) {
  say(status, t("stacker.none"), "warn");
} else {
  on("stacker.job", async (event) => {
    try {
      jobs.set(event.job_id, await api("GET", `/api/v1/stacker/jobs/${event.job_id}`));
      renderJobs();
    } catch (error) {
      say(status, error.message, "error");
    }
    load();
  });
  on("reconnected", load);
  setUpMap({ only: "stacker" });
  load();
  setInterval(load, 2000); // mode, position and flags change without events
}
