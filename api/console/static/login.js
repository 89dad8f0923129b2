// Sign in: a person with user name, password (and one-time code), or a shared desk with its
// staff token. Either way the daemon answers with a session cookie; no secret stays in the page.
import { $, say, signIn, signOut, t } from "./console.js";

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

async function attempt(credentials, byToken) {
  say(status, t("login.checking"));
  try {
    const session = await signIn(credentials);
    if (!session.console) {
      if (byToken) {
        await signOut();
        say(status, t("login.role_is", { role: session.role }), "error");
      } else {
        say(status, t("login.role_account", { name: session.name, role: session.role }), "error");
      }
      return;
    }
    location.assign(nextPage(session.role));
  } catch (error) {
    const refused = !byToken && (error.status === 401 || error.status === 429);
    say(status, refused ? t("login.refused", { why: error.why }) : error.message, "error");
  }
}

$("#signin").addEventListener("submit", (event) => {
  event.preventDefault();
  const code = $("#code").value.replace(/\s/g, "");
  const credentials = { user: $("#user").value.trim(), password: $("#password").value };
  if (code) credentials.code = code;
  $("#password").value = "";
  $("#code").value = "";
  attempt(credentials, false);
});

$("#login").addEventListener("submit", (event) => {
  event.preventDefault();
  const value = $("#token").value.trim();
  $("#token").value = "";
  attempt({ token: value }, true);
});
$("#user").focus();
