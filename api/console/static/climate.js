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

async function load() {
  try {
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
  on("reconnected", load);
  load();
  setInterval(load, REFRESH_MS);
}
