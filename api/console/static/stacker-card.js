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
  let reported = null;

  // Show the followed job; once it has a result (it may finish before the request returns),
  // say how it ended, once, and reload the item.
  async function refresh() {
    const job = await api("GET", `/api/v1/stacker/jobs/${followed}`);
    const rows = jobRows(job);
    if (job.state === "queued") {
      // a job ahead of it waiting for a person's decision holds the whole queue
      const stacker = await api("GET", "/api/v1/stacker");
      if (stacker.blocked_job !== null) rows.push([t("stacker.blocked"), t("stacker.blocked_by", { id: stacker.blocked_job })]);
    }
    fill(details, rows);
    details.hidden = false;
    details.dataset.state = job.state;
    const buttons = decisionButtons(job, refresh, (words) => say(status, words, "error"));
    if (buttons.length) details.append(el("dd", { class: "buttons" }, buttons));
    if (job.result !== null && reported !== job.job_id) {
      reported = job.job_id;
      const ok = job.state === "done" && job.result === "ok";
      const words = t(ok ? "stacker.finished" : "stacker.failed", { id: job.job_id, state: jobState(job) });
      say(status, words, ok ? "ok" : "error");
      reload();
    }
  }

  async function request(kind, button) {
    button.disabled = true;
    try {
      const job = await api("POST", "/api/v1/stacker/jobs", { kind, ref });
      followed = job.job_id;
      say(status, t("stacker.requested", { id: job.job_id }));
      await refresh();
    } catch (error) {
      say(status, error.message, "error");
    } finally {
      button.disabled = false;
    }
  }

  $("#retrieve").addEventListener("click", (event) => request("retrieve", event.target));
  $("#store").addEventListener("click", (event) => request("store", event.target));
  on("stacker.job", (event) => {
    if (event.job_id === followed) refresh().catch((error) => say(status, error.message, "error"));
  });
}
