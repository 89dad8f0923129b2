// A stacker job in words, and the buttons that answer its exception (item page, stacker page).
import { api, el, has, messageWords, placeName, t, when } from "./console.js";

function words(prefix, value) {
  return has(`${prefix}.${value}`) ? t(`${prefix}.${value}`) : value;
}

export function jobState(job) {
  if (job.state === "done" && job.result && job.result !== "ok") return words("job.result", job.result);
  return words("job.state", job.state);
}

// Why a queued job is not sent yet (its station still holds a box), in the reader's language.
export function waitingWords(job) {
  const wait = job.waiting;
  if (!wait) return job.waiting_for;
  const key = `stacker.wait.${wait.key}`;
  if (!has(key)) return job.waiting_for;
  const what = wait.ref || wait.box_id || "";
  return t(key, { station: wait.station, what: wait.job_id ? `${what} (#${wait.job_id})` : what });
}

// "from → to" by the places' names (the codes when they have none).
export function routeWords(job) {
  const name = (place) => placeName(place.code) || place.code;
  return `${name(job.source)} → ${name(job.destination)}`;
}

function noteWords(job) {
  if (!job.note_message) return job.note;
  return messageWords(job.note_message.key, job.note_message.params, job.note);
}

export function jobRows(job) {
  return [
    [t("job.id"), `#${job.job_id}`],
    [t("job.kind"), words("job.kind", job.kind)],
    [t("job.item"), job.ref],
    [t("job.route"), routeWords(job)],
    [t("job.state"), jobState(job)],
    [t("job.waiting"), waitingWords(job)],
    [t("job.exception"), job.exception],
    [t("job.finished"), when(job.finished_at)],
    [t("job.note"), noteWords(job)],
  ];
}

// Buttons for the decisions the job accepts now (retry, cancel, redirect); onError(words).
export function decisionButtons(job, onDone, onError) {
  return job.decisions.map((decision) =>
    el("button", {
      type: "button",
      class: decision === "cancel" ? "quiet" : "",
      dataset: { decision },
      text: words("job.decision", decision),
      onclick: async (event) => {
        event.target.disabled = true;
        try {
          await api("POST", `/api/v1/stacker/jobs/${job.job_id}/decision`, { decision });
          onDone();
        } catch (error) {
          onError(error.message);
          event.target.disabled = false;
        }
      },
    }),
  );
}
