// What every console page shares: the session, API calls whose errors come back in words,
// the live feed (server-sent events), the header (who, alarms, live state) and a few DOM helpers.
// Text reaches the page through textContent only, never as HTML.
//
// The session is an HttpOnly cookie that no script here can read; the browser sends it with
// every request. State-changing requests add the session's CSRF token (from the readable
// archroom_csrf cookie) in the X-CSRF-Token header, which the daemon checks.

const SIGNED_IN_KEY = "archroom.signed-in"; // a flag, not a secret: says a 401 means "ended"
const CSRF_COOKIE = "archroom_csrf";
const messages = JSON.parse(document.getElementById("messages").textContent);
export const lang = document.body.dataset.lang;
const locale = lang === "zh" ? "zh-CN" : "en-GB";

export function t(key, values = {}) {
  const text = messages[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

export function has(key) {
  return key in messages;
}

export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "text") node.textContent = value;
    else if (name === "class") node.className = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) node.append(child);
  }
  return node;
}

export function $(selector) {
  return document.querySelector(selector);
}

export function when(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleString(locale, { dateStyle: "medium", timeStyle: "medium" });
}

export function day(isoDate) {
  if (!isoDate) return "";
  return new Date(`${isoDate}T00:00:00`).toLocaleDateString(locale, { dateStyle: "medium" });
}

// definition list rows: [[label, value], ...]; empty values are left out
export function fill(dl, rows) {
  dl.replaceChildren(
    ...rows
      .filter(([, value]) => value !== null && value !== undefined && value !== "")
      .flatMap(([label, value]) => [el("dt", { text: label }), el("dd", {}, value)]),
  );
}

export function say(target, text, kind = "info") {
  target.textContent = text;
  target.dataset.kind = kind;
}

// -- locations by their names ------------------------------------------------------------
// A location code (docs/design.md §3) is the room id, then the rack, the side when the rack has
// two, the bay (节) and the level (层): "stack-1-A-03-04"; stacker cells are
// "{room}-S{aisle}{side}-{bay}-{level}-{depth}" and stations "{room}-station-{name}". People
// read the names ("1号库房 A列 03节 04层"); the code stays in the element's title.

const rooms = JSON.parse(document.getElementById("room-names").textContent);

export function roomName(id) {
  const names = rooms[id] || {};
  return names[lang] || names.name || t("place.room_named", { room: id });
}

function roomOf(code) {
  const ids = Object.keys(rooms).sort((a, b) => b.length - a.length);
  const id = ids.find((room) => code.startsWith(`${room}-`));
  return id ? [id, code.slice(id.length + 1)] : [null, code];
}

// The location's name in the reader's language, or null when the code is not one of the shapes
// above (a location created by hand keeps its code).
export function placeName(code, kind = null) {
  if (!code) return null;
  const [room, rest] = roomOf(code);
  if (room === null) return null;
  const named = { room: roomName(room) };
  let found = rest.match(/^S(\d+)(\d)-(\d+)-(\d+)-(\d+)$/);
  if (found) {
    const [, aisle, side, bay, level, depth] = found;
    return t("place.name.cell", { ...named, aisle, side, bay, level, depth });
  }
  found = rest.match(/^station-(.+)$/);
  if (found) return t("place.name.station", { ...named, station: found[1] });
  const parts = rest.split("-");
  const number = (part) => /^\d+$/.test(part);
  if (parts.length === 4 && number(parts[2]) && number(parts[3])) {
    const [rack, side, bay, level] = parts;
    return t("place.name.level_side", { ...named, rack, side, bay, level });
  }
  if (parts.length === 3 && number(parts[1]) && number(parts[2])) {
    const [rack, bay, level] = parts;
    return t("place.name.level", { ...named, rack, bay, level });
  }
  if (parts.length === 3 && number(parts[2])) {
    const [rack, side, bay] = parts;
    return t("place.name.bay_side", { ...named, rack, side, bay });
  }
  if (parts.length === 2 && number(parts[1])) {
    return t("place.name.bay", { ...named, rack: parts[0], bay: parts[1] });
  }
  if (kind === "rack" && parts.length === 1) return t("place.name.rack", { ...named, rack: parts[0] });
  return null;
}

// A cell as the stacker's own address ("a1-s2-b14-l3-d1": aisle, side, bay, level, depth, as
// stacker refusals name it), in words; stations are on aisle 0. Null for anything else.
export function stackerAddressName(code) {
  const found = /^a(\d+)-s(\d+)-b(\d+)-l(\d+)-d(\d+)$/.exec(code);
  if (!found) return null;
  const [, aisle, side, bay, level, depth] = found;
  if (aisle === "0") return t("place.name.stacker_station_address", { side, bay, level });
  return t("place.name.stacker_address", { aisle, side, bay, level, depth });
}

export function placeWords(place) {
  const kind = has(`place.${place.kind}`) ? t(`place.${place.kind}`) : place.kind;
  if (place.kind === "unknown" || place.kind === "on-loan") return kind;
  return placeName(place.code, place.kind) || `${place.code} (${kind})`;
}

// The place's name with its code in small print beside it (and as the title).
export function placeNode(place) {
  const words = placeWords(place);
  const node = el("span", { class: "place", title: place.code || undefined, dataset: { code: place.code || "" } }, words);
  if (place.code && words !== place.code && !words.startsWith(`${place.code} (`)) {
    node.append(" ", el("small", { class: "code", text: place.code }));
  }
  return node;
}

// -- messages: words the daemon sends as a key and parameters ------------------------------
// An answer, an alarm or a job note carries its English (detail, message, note) and, beside it,
// message_key and params (docs/api.md#messages). The page says it from msg.<key> in its own
// language; a key it does not know (a newer daemon) shows the English.

function paramWords(name, value) {
  if (Array.isArray(value)) return value.map((one) => paramWords(name, one)).join(t("msg.list.separator"));
  if (value && typeof value === "object" && typeof value.key === "string") {
    return messageWords(value.key, value.params, "");
  }
  if (value === null || value === undefined) return "";
  if (typeof value === "string" && (name === "location" || name === "cell" || name.endsWith("_location"))) {
    return placeName(value) || (name === "cell" && stackerAddressName(value)) || value;
  }
  return String(value);
}

export function messageWords(key, params, english) {
  if (!key || !has(`msg.${key}`)) return english;
  const values = {};
  for (const [name, value] of Object.entries(params || {})) values[name] = paramWords(name, value);
  return t(`msg.${key}`, values);
}

// An object with { message_key, params } (and its English in `field`) in the reader's words.
export function wordsOf(thing, field = "message") {
  return messageWords(thing.message_key, thing.params, thing[field]);
}

export function alarmWords(kind) {
  return has(`alarm.${kind}`) ? t(`alarm.${kind}`) : kind;
}

// -- the session ----------------------------------------------------------------------------

export const signedIn = {
  get: () => sessionStorage.getItem(SIGNED_IN_KEY) === "1",
  set: () => sessionStorage.setItem(SIGNED_IN_KEY, "1"),
  clear: () => sessionStorage.removeItem(SIGNED_IN_KEY),
};

export function csrfToken() {
  for (const part of document.cookie.split(";")) {
    const [name, ...value] = part.trim().split("=");
    if (name === CSRF_COOKIE) return decodeURIComponent(value.join("="));
  }
  return "";
}

// Sign in with { user, password, code } or { token }: the daemon sets the session cookies.
export async function signIn(credentials) {
  const session = await api("POST", "/api/v1/session/sign-in", credentials, { quiet: true });
  signedIn.set();
  return session;
}

export async function signOut() {
  try {
    await api("POST", "/api/v1/session/sign-out", undefined, { quiet: true });
  } catch {
    // signed out already, or the daemon is away: the cookie is useless either way
  }
  signedIn.clear();
}

function toLogin(reason) {
  const next = encodeURIComponent(location.pathname + location.search);
  location.assign(`/console/login?next=${next}${reason ? `&reason=${reason}` : ""}`);
}

function sessionEnded() {
  const was = signedIn.get();
  signedIn.clear();
  toLogin(was ? "ended" : null);
}

// -- the API ---------------------------------------------------------------------------------

export class ApiError extends Error {
  constructor(status, words, why = "") {
    super(words);
    this.status = status;
    this.why = why;
  }
}

function detailWords(detail) {
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return detail
      .map((e) => {
        const where = (e.loc || []).filter((part) => part !== "body" && part !== "query");
        return where.length ? `${where.join(".")}: ${e.msg}` : e.msg;
      })
      .join("; ");
  }
  return "";
}

export function errorWords(status, detail, body = null) {
  const known = [400, 401, 403, 404, 409, 422, 429, 503];
  const key = known.includes(status) ? `error.${status}` : status >= 500 ? "error.500" : "error.other";
  const what = t(key, { status });
  const why = body && body.message_key ? messageWords(body.message_key, body.params, detailWords(detail)) : detailWords(detail);
  return why ? t("error.because", { what, why }) : what;
}

// One request with the page's session (and its CSRF token when it changes something); a
// network failure becomes an ApiError in words. Callers read the response as they need.
export async function send(method, path, body, headers = {}) {
  const all = { ...headers };
  if (!["GET", "HEAD", "OPTIONS"].includes(method)) all["X-CSRF-Token"] = csrfToken();
  if (body !== undefined) all["Content-Type"] = "application/json";
  try {
    return await fetch(path, {
      method,
      headers: all,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "same-origin",
    });
  } catch {
    throw new ApiError(0, t("error.network"));
  }
}

// quiet: a 401 is the caller's to handle (signing in), not the end of the session
async function call(method, path, body, { quiet = false } = {}) {
  const response = await send(method, path, body, { Accept: "application/json" });
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    if (response.status === 401 && !quiet) sessionEnded();
    const detail = data && data.detail;
    const why = data && data.message_key ? messageWords(data.message_key, data.params, detailWords(detail)) : detailWords(detail);
    throw new ApiError(response.status, errorWords(response.status, detail, data), why);
  }
  return { data, headers: response.headers, text };
}

export async function api(method, path, body, options = {}) {
  return (await call(method, path, body, options)).data;
}

// One page of a list and how many there are in all (the X-Total-Count header).
export async function apiPage(path) {
  const { data, headers } = await call("GET", path);
  return { rows: data, total: Number(headers.get("X-Total-Count") || data.length) };
}

// Save what a GET answers (e.g. a CSV export) as a file, with the page's session.
export async function download(path, filename) {
  const { text, headers } = await call("GET", path);
  const blob = new Blob([text], { type: headers.get("Content-Type") || "text/plain" });
  const link = el("a", { href: URL.createObjectURL(blob), download: filename, hidden: true });
  document.body.append(link);
  link.click();
  setTimeout(() => {
    URL.revokeObjectURL(link.href);
    link.remove();
  }, 1000);
}

// A row of chips (macros.html ``chips``) of which one is pressed: a click presses that one
// and calls onPick(chip).
export function chips(node, onPick) {
  const all = node.querySelectorAll(".chip");
  for (const chip of all) {
    chip.addEventListener("click", () => {
      for (const other of all) other.setAttribute("aria-pressed", String(other === chip));
      onPick(chip);
    });
  }
}

// Fetch one page of a list into its table (macros.html ``list_table``): a tr per row made by
// list.row, list.empty shown instead when there are none, list.pages saying the range. False
// when the page is past the end (rows went meanwhile): the caller loads the first instead.
export async function showPage(path, offset, list) {
  const { rows, total } = await apiPage(path);
  if (!rows.length && offset > 0 && total > 0) return false;
  list.table.tBodies[0].replaceChildren(...rows.map(list.row));
  list.table.hidden = rows.length === 0;
  list.empty.hidden = rows.length !== 0;
  list.pages.show(offset, rows.length, total);
  return true;
}

// Pager under a paged table: "41-60 of 230", previous, next. onPage(offset) loads a page.
export function pager(node, onPage) {
  const words = el("span", { class: "pager-words", role: "status" });
  const prev = el("button", { type: "button", class: "quiet", text: t("pager.previous") });
  const next = el("button", { type: "button", class: "quiet", text: t("pager.next") });
  node.replaceChildren(prev, words, next);
  const state = { offset: 0, size: 20, total: 0 };
  prev.addEventListener("click", () => onPage(Math.max(0, state.offset - state.size)));
  next.addEventListener("click", () => onPage(state.offset + state.size));
  return {
    size: state.size,
    show(offset, shown, total) {
      Object.assign(state, { offset, total });
      node.hidden = total === 0;
      words.textContent = t("pager.range", {
        first: total ? offset + 1 : 0,
        last: offset + shown,
        total,
      });
      prev.disabled = offset === 0;
      next.disabled = offset + shown >= total;
    },
  };
}

export function itemPath(ref) {
  return `/api/v1/items/${encodeURIComponent(ref)}`;
}

export function itemPage(ref) {
  return `/console/item?ref=${encodeURIComponent(ref)}`;
}

// -- the live feed ---------------------------------------------------------------------------

const LIVE_TYPES = [
  "alarm.raised",
  "alarm.cleared",
  "location.changed",
  "gate.passage",
  "loan.opened",
  "loan.returned",
  "tag.bound",
  "stacker.job",
  "climate.actuator",
];
const handlers = new Map();

// on("alarm.raised", fn); on("reconnected", fn) after the feed was down or lost events
export function on(type, handler) {
  if (!handlers.has(type)) handlers.set(type, []);
  handlers.get(type).push(handler);
}

function emit(type, data) {
  for (const handler of handlers.get(type) || []) handler(data);
}

function liveState(state) {
  const badge = $("#live");
  badge.dataset.state = state;
  badge.textContent = t(`live.${state}`);
}

const live = {
  failures: 0,
  connectedOnce: false,
  source: null,

  async connect() {
    liveState("connecting");
    let ticket;
    try {
      ticket = await api("POST", "/api/v1/events/ticket");
    } catch (error) {
      if (error.status !== 401) this.retry();
      return;
    }
    const source = new EventSource(`${ticket.stream}?ticket=${encodeURIComponent(ticket.ticket)}`);
    this.source = source;
    source.addEventListener("hello", () => {
      this.failures = 0;
      liveState("on");
      if (this.connectedOnce) emit("reconnected", {});
      this.connectedOnce = true;
    });
    source.addEventListener("resync", () => emit("reconnected", {}));
    for (const type of LIVE_TYPES) {
      source.addEventListener(type, (message) => emit(type, JSON.parse(message.data)));
    }
    source.addEventListener("end", (message) => {
      source.close();
      if (JSON.parse(message.data).reason === "token") sessionEnded();
      else this.retry();
    });
    source.onerror = () => {
      source.close();
      this.retry();
    };
  },

  retry() {
    liveState("off");
    const delay = Math.min(30000, 1000 * 2 ** this.failures) * (0.5 + Math.random() / 2);
    this.failures += 1;
    setTimeout(() => this.connect(), delay);
  },
};

addEventListener("pagehide", () => live.source && live.source.close());

// -- the page header -------------------------------------------------------------------------

async function countAlarms() {
  try {
    const active = await api("GET", "/api/v1/alarms");
    const badge = $("#alarm-count");
    badge.textContent = String(active.length);
    badge.hidden = active.length === 0;
  } catch {
    // the alarms page says why; the badge just stays as it was
  }
}

// Toasts sit in their own strip above the page's content (never over a table), newest first,
// at most MAX_TOASTS at a time; each can be closed and goes by itself after a while.
const MAX_TOASTS = 3;
function toast(text, href) {
  const strip = $("#toasts");
  const close = el("button", { type: "button", class: "toast-close", "aria-label": t("toast.close"), text: "×" });
  const note = el("div", { class: "toast", role: "status" }, el("a", { href, text }), close);
  close.addEventListener("click", () => note.remove());
  strip.prepend(note);
  while (strip.children.length > MAX_TOASTS) strip.lastElementChild.remove();
  setTimeout(() => note.remove(), 15000);
}

// A new gate alarm sounds at the desk (a short two-tone chime made by the Web Audio API, no
// sound file); the header's bell mutes it, and the choice is kept in this browser.
const SOUND_KEY = "archroom.sound";
const sound = {
  context: null,
  muted: () => localStorage.getItem(SOUND_KEY) === "off",

  unlock() {
    // browsers let a page make sound only after a person has used it
    if (!this.context && window.AudioContext) this.context = new AudioContext();
    if (this.context && this.context.state === "suspended") this.context.resume();
  },

  chime() {
    const button = $("#sound");
    if (this.muted()) return;
    button.dataset.played = String(Number(button.dataset.played || 0) + 1);
    this.unlock();
    if (!this.context) return;
    const start = this.context.currentTime;
    for (const [offset, hz] of [[0, 880], [0.25, 660]]) {
      const tone = this.context.createOscillator();
      const gain = this.context.createGain();
      tone.frequency.value = hz;
      gain.gain.setValueAtTime(0.0001, start + offset);
      gain.gain.exponentialRampToValueAtTime(0.3, start + offset + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.22);
      tone.connect(gain).connect(this.context.destination);
      tone.start(start + offset);
      tone.stop(start + offset + 0.25);
    }
  },

  show() {
    const button = $("#sound");
    const muted = this.muted();
    button.setAttribute("aria-pressed", String(muted));
    button.textContent = muted ? t("sound.off") : t("sound.on");
    button.title = muted ? t("sound.unmute") : t("sound.mute");
  },

  start() {
    const button = $("#sound");
    button.hidden = false;
    this.show();
    button.addEventListener("click", () => {
      localStorage.setItem(SOUND_KEY, this.muted() ? "on" : "off");
      this.show();
      this.unlock();
    });
    addEventListener("pointerdown", () => this.unlock(), { once: true });
    addEventListener("keydown", () => this.unlock(), { once: true });
  },
};

// Every page but the login page starts here: no session -> sign in; then the header and the feed.
export async function startPage() {
  let session;
  try {
    session = await api("GET", "/api/v1/session");
  } catch (error) {
    if (error.status === 401) return new Promise(() => {}); // on the way to the login page
    const banner = $("#banner");
    banner.textContent = error.message;
    banner.hidden = false;
    throw error;
  }
  if (!session.console) {
    await signOut();
    toLogin("role");
    return new Promise(() => {});
  }
  $("#user").textContent = session.name;
  for (const link of document.querySelectorAll("#nav [data-needs]")) {
    link.hidden = !session[link.dataset.needs];
  }
  const current = document.querySelector(`#nav [data-nav="${document.body.dataset.page}"]`);
  if (current) current.setAttribute("aria-current", "page");
  $("#nav").hidden = false;
  const logout = $("#logout");
  logout.hidden = false;
  logout.addEventListener("click", async () => {
    await signOut();
    location.assign("/console/login");
  });
  sound.start();
  on("alarm.raised", (alarm) => {
    countAlarms();
    if (alarm.kind.startsWith("gate.")) sound.chime();
    toast(`${alarmWords(alarm.kind)}: ${wordsOf(alarm) || alarm.subject || alarm.source}`, "/console/alarms");
  });
  on("alarm.cleared", countAlarms);
  on("reconnected", countAlarms);
  countAlarms();
  live.connect();
  return session;
}
