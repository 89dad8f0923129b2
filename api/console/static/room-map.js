// The room map (GET /api/v1/map.svg): racks, shelves and stacker cells drawn by the daemon,
// put into the page as inline SVG; on an item page the item's cell and home are marked. It
// is redrawn when items move or stacker jobs end.
import { $, on, placeName, placeWords, say, t } from "./console.js";
import { fetchFile } from "./files.js";

// A location's name in the reader's language with its code after it, or null for a code
// that is not a room's rack, shelf or stacker cell.
function named(code) {
  const name = placeName(code);
  return name ? `${name} (${code})` : null;
}

export function setUpMap({ ref = null, only = null, onCell = null } = {}) {
  const card = $("#map-card");
  const status = $("#map-status");
  const query = new URLSearchParams();
  if (ref) query.set("ref", ref);
  if (only) query.set("only", only);
  const path = `/api/v1/map.svg${query.size ? `?${query}` : ""}`;
  let selected = null;
  let pending = null;

  function where(headers) {
    if (!ref) return "";
    const decode = (value) => decodeURIComponent(value || "");
    const here = decode(headers.get("X-Item-Location"));
    const home = decode(headers.get("X-Item-Home"));
    const place = named(here) || placeWords({ code: here, kind: headers.get("X-Item-Location-Kind") });
    const drawn = headers.get("X-Item-On-Map") === "true";
    const now = drawn ? t("map.now", { code: place }) : t("map.off_map", { code: place });
    return `${now} ${home ? t("map.belongs", { code: named(home) || home }) : t("map.no_home")}`;
  }

  async function draw() {
    try {
      const response = await fetchFile("GET", path);
      const text = await response.text();
      const parsed = new DOMParser().parseFromString(text, "image/svg+xml");
      const svg = parsed.documentElement;
      if (svg.nodeName !== "svg") throw new Error(t("error.500"));
      $("#map").replaceChildren(document.importNode(svg, true));
      if (selected) $("#map").querySelector(`rect[data-code="${CSS.escape(selected)}"]`)?.classList.add("selected");
      $("#map-where").textContent = where(response.headers);
      card.querySelector(".legend .here").parentElement.hidden = !ref;
      card.querySelector(".legend .home").parentElement.hidden = !ref;
      card.hidden = svg.querySelector("rect") === null;
      if (status.dataset.kind === "error") say(status, "");
    } catch (error) {
      card.hidden = false;
      say(status, error.message, "error");
    }
  }

  // At most one redraw a second, however busy the room: the first event schedules it.
  function redraw() {
    if (pending) return;
    pending = setTimeout(() => {
      pending = null;
      draw();
    }, 1000);
  }

  if (onCell) {
    $("#map").addEventListener("click", (event) => {
      const cell = event.target.closest("rect.cell");
      if (!cell) return;
      for (const old of $("#map").querySelectorAll("rect.selected")) old.classList.remove("selected");
      cell.classList.add("selected");
      selected = cell.dataset.code;
      onCell(selected);
    });
  }

  for (const type of ["location.changed", "stacker.job"]) on(type, redraw);
  on("reconnected", redraw);
  draw();
}
