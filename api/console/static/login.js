// Log in: check the token against the API, keep it in this tab's sessionStorage, go on.
import { $, api, say, t, token } from "./console.js";

const params = new URLSearchParams(location.search);
const status = $("#status");

function nextPage(role) {
  const next = params.get("next");
  if (next) {
    const url = new URL(next, location.origin);
    const safe = url.origin === location.origin && url.pathname.startsWith("/console/");
    if (safe && url.pathname !== "/console/login") return url.pathname + url.search;
  }
  return role === "approver" ? "/console/approvals" : "/console/items";
}

const reason = params.get("reason");
if (reason === "ended") say(status, t("login.ended"), "error");
else if (reason === "role") say(status, t("login.role"), "error");
else if (token.get()) location.replace(nextPage());

$("#login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const value = $("#token").value.trim();
  say(status, t("login.checking"));
  try {
    const session = await api("GET", "/api/v1/session", undefined, { bearer: value });
    if (!session.console) {
      say(status, t("login.role_is", { role: session.role }), "error");
      return;
    }
    token.set(value);
    location.assign(nextPage(session.role));
  } catch (error) {
    say(status, error.message, "error");
  }
});
$("#token").focus();
