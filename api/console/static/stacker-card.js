// The stacker panel of an item page: retrieve the box to the station or store it, then follow
// the job live until the crane reports its end.
import { $, api, el, fill, on, say, t } from "./console.js";
import { decisionButtons, jobRows, jobState } from "./stacker-jobs.js";

export function setUpStacker(session, ref, reload) {
  if (!session.stacker) return;
  $("#stacker-card").hidden = false;
  const status = $("#stacker-status");
  const details = $("#job");
  let followed = null;

  async function show() {
    const job = await api("GET", `/api/v1/stacker/jobs/${followed}`);
    fill(details, jobRows(job));
    details.hidden = false;
    details.dataset.state = job.state;
    const buttons = decisionButtons(job, show, (words) => say(status, words, "error"));
    if (buttons.length) details.append(el("dd", { class: "buttons" }, buttons));
    return job;
  }

  async function request(kind, button) {
    button.disabled = true;
    try {
      const job = await api("POST", "/api/v1/stacker/jobs", { kind, ref });
      followed = job.job_id;
      say(status, t("stacker.requested", { id: job.job_id }));
      await show();
    } catch (error) {
      say(status, error.message, "error");
    } finally {
      button.disabled = false;
    }
  }

  $("#retrieve").addEventListener("click", (event) => request("retrieve", event.target));
  $("#store").addEventListener("click", (event) => request("store", event.target));
  on("stacker.job", async (event) => {
    if (event.job_id !== followed) return;
    try {
      const job = await show();
      if (!event.result) return;
      const ok = job.state === "done" && job.result === "ok";
      say(status, t(ok ? "stacker.finished" : "stacker.failed", { id: job.job_id, state: jobState(job) }), ok ? "ok" : "error");
      reload();
    } catch (error) {
      say(status, error.message, "error");
    }
  });
}
