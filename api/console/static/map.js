// The room map page: the whole room; choosing a cell lists what is there and what should be.
import { $, api, el, itemPage, say, startPage, t } from "./console.js";
import { setUpMap } from "./room-map.js";

await startPage();
const status = $("#status");

async function showCell(code) {
  try {
    const found = await api("GET", `/api/v1/locations/${encodeURIComponent(code)}/items`);
    $("#cell-code").textContent = t("map.cell", { code });
    const link = (ref, text) => el("li", {}, el("a", { href: itemPage(ref), text }));
    $("#cell-present").replaceChildren(...found.present.map((p) => link(p.ref, p.ref)));
    $("#cell-absent").replaceChildren(
      ...found.expected_absent.map((p) => link(p.ref, t("map.elsewhere", { ref: p.ref, code: p.location }))),
    );
    $("#cell-present-list").hidden = found.present.length === 0;
    $("#cell-absent-list").hidden = found.expected_absent.length === 0;
    $("#cell-empty").hidden = found.present.length + found.expected_absent.length > 0;
    $("#cell-card").hidden = false;
    if (status.dataset.kind === "error") say(status, "");
  } catch (error) {
    say(status, error.message, "error");
  }
}

setUpMap({ onCell: showCell });
