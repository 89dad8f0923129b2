// The rooms' climate against their archival limits (JGJ 25-2010), and each sensor. Readings
// are polled every few seconds; alarms arrive live and trigger a refresh at once.
import { $, alarmWords, api, el, fill, has, on, say, startPage, t, when } from "./console.js";

const session = await startPage();
const status = $("#status");
const REFRESH_MS = 10000;

function number(value, digits = 1) {
  return value === null || value === undefined ? "—" : value.toFixed(digits);
}

function figure(label, value, unit) {
  return el("div", {}, el("div", { class: "hint", text: label }), el("div", { class: "figure" }, value, el("small", { text: ` ${unit}` })));
}

function roomCard(room) {
  const limits = room.limits;
  const p = room.preservation;
  const rating = p.rating ? t(`climate.rating.${p.rating}`) : "";
  const details = el("dl");
  fill(details, [
    [t("climate.class"), has(`climate.class.${room.room_class}`) ? t(`climate.class.${room.room_class}`) : room.room_class],
    [
      t("climate.limits"),
      t("climate.limits_are", {
        tmin: limits.temp_min_c,
        tmax: limits.temp_max_c,
        hmin: limits.rh_min_pct,
        hmax: limits.rh_max_pct,
        tswing: limits.temp_swing_c,
        hswing: limits.rh_swing_pct,
      }),
    ],
    [
      t("climate.spread"),
      t("climate.spread_is", { t: number(room.temperature_spread_24h_c), h: number(room.humidity_spread_24h_pct) }),
    ],
    [t("climate.dew_point"), `${number(room.dew_point_c)} °C`],
    [t("climate.pi"), p.pi_years === null ? "" : t("climate.years", { n: number(p.pi_years) })],
    [t("climate.twpi"), p.twpi_30d_years === null ? "" : `${t("climate.years", { n: number(p.twpi_30d_years) })} · ${rating}`],
    [t("climate.mould"), p.mould_risk ? t("climate.mould_now", { h: number(p.mould_hours_24h) }) : t("climate.mould_none")],
    [t("climate.sensors_up"), t("climate.sensors_up_are", { up: room.sensors_up, all: room.sensors.length })],
    [t("climate.conditions"), room.conditions.map(alarmWords).join(" · ")],
    [t("climate.read_at"), when(room.at)],
  ]);
  const alarmed = room.conditions.length > 0 || room.alarms.length > 0;
  return el(
    "section",
    { class: `card${alarmed ? " alarmed" : ""}`, dataset: { room: room.id } },
    el("h2", { text: room.name && room.name !== room.id ? `${room.name} (${room.id})` : room.id }),
    el(
      "div",
      { class: "figures" },
      figure(t("climate.temperature"), number(room.temperature_c), "°C"),
      figure(t("climate.humidity"), number(room.humidity_pct), "% RH"),
    ),
    details,
  );
}

function sensorRow(sensor) {
  const reading = sensor.reading;
  const state = t(`climate.sensor_state.${sensor.state}`);
  return el(
    "tr",
    { dataset: { sensor: sensor.id, state: sensor.state } },
    el("td", { text: sensor.id }),
    el("td", { text: sensor.room }),
    el("td", {}, el("span", { class: `pill ${sensor.state === "up" ? "ok" : "bad"}`, text: state })),
    el("td", { text: reading ? `${number(reading.temperature_c)} °C` : "—" }),
    el("td", { text: reading ? `${number(reading.humidity_pct)} %` : "—" }),
    el("td", { class: "when", text: reading ? when(reading.at) : "" }),
    el("td", {}, sensor.last_error ? el("small", { text: `${sensor.last_error} (${when(sensor.last_error_at)})` }) : ""),
  );
}

const mayOverride = ["facilities", "admin"].includes(session.role);

function actuatorRow(room, a) {
  const state = a.on === null ? t("control.unknown") : t(a.on ? "control.on" : "control.off");
  const mode = a.override
    ? t("control.forced", { state: t(a.override.on ? "control.on" : "control.off"), by: a.override.by, until: when(a.override.until) })
    : t("control.auto");
  const problems = [
    a.fault ? t("control.fault", { error: a.fault }) : "",
    a.ineffective ? t("control.ineffective", { message: a.ineffective }) : "",
  ].filter(Boolean);
  const kind = has(`control.kind.${a.kind}`) ? t(`control.kind.${a.kind}`) : a.kind;
  const buttons = mayOverride
    ? [
        ["on", "control.force_on"],
        ["off", "control.force_off"],
        ["auto", "control.release"],
      ].map(([value, words]) =>
        el("button", {
          type: "button",
          text: t(words),
          dataset: { mode: value },
          disabled: value === "auto" && !a.override,
          onclick: (event) => override(room, a, value, event.target),
        }),
      )
    : [];
  return el(
    "tr",
    { dataset: { actuator: a.id, on: String(a.on), mode: a.mode }, class: problems.length ? "alarmed" : "" },
    el("td", {}, el("strong", { text: a.id }), el("br"), el("small", { text: kind })),
    el("td", { text: room }),
    el("td", {}, el("span", { class: `pill ${a.on ? "ok" : ""}`, text: state })),
    el("td", { text: mode }),
    el("td", {}, a.reason, ...problems.map((p) => el("div", {}, el("small", { class: "bad", text: p })))),
    el("td", { text: t("control.minutes", { n: Math.round(a.runtime_s / 60) }) }),
    el("td", { class: "buttons" }, ...buttons),
  );
}

async function override(room, a, mode, button) {
  button.disabled = true;
  try {
    const duration = Number($("#control-duration").value);
    await api("POST", `/api/v1/climate/control/${encodeURIComponent(room)}/${encodeURIComponent(a.id)}/override`, {
      mode,
      duration_s: duration,
    });
    say(status, t("control.done", { actuator: a.id, mode: mode === "auto" ? t("control.auto") : t(`control.${mode}`) }));
  } catch (error) {
    say(status, error.message, "error");
  } finally {
    button.disabled = false;
    load();
  }
}

async function loadControl() {
  const control = await api("GET", "/api/v1/climate/control");
  const rows = control.rooms.flatMap((room) => room.actuators.map((a) => actuatorRow(room.id, a)));
  $("#control").tBodies[0].replaceChildren(...rows);
  $("#control-card").hidden = rows.length === 0;
  $("#control-override").hidden = !mayOverride;
  $("#control-hint").textContent = `${t("control.hint")}${mayOverride ? "" : ` ${t("control.read_only")}`}`;
}

async function load() {
  try {
    await loadControl();
    const climate = await api("GET", "/api/v1/climate");
    $("#rooms").replaceChildren(...climate.rooms.map(roomCard));
    $("#sensors").tBodies[0].replaceChildren(...climate.sensors.map(sensorRow));
    $("#sensors-card").hidden = climate.sensors.length === 0;
    $("#updated").textContent = t("climate.updated", { at: when(climate.at) });
    if (status.dataset.kind === "error") say(status, "");
  } catch (error) {
    say(status, error.message, "error");
  }
}

if (!session.climate) {
  say(status, t("climate.none"), "warn");
} else {
  on("alarm.raised", load);
  on("alarm.cleared", load);
  on("climate.actuator", load);
  on("reconnected", load);
  load();
  setInterval(load, REFRESH_MS);
}
