// The room map page: the whole room; choosing a cell lists what is there and what should be.
import { $, api, el, itemPage, say, startPage, t } from "./console.js";
import { fetchFile, fileName, save } from "./files.js";
import { setUpMap } from "./room-map.js";

await startPage();
const status = $("#status");
let refs = [];
let cellCode = null;

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
    refs = [...new Set([...found.present, ...found.expected_absent].map((p) => p.ref))];
    cellCode = code;
    $("#cell-labels").hidden = refs.length === 0;
    say($("#cell-status"), "");
    $("#cell-empty").hidden = found.present.length + found.expected_absent.length > 0;
    $("#cell-card").hidden = false;
    if (status.dataset.kind === "error") say(status, "");
  } catch (error) {
    say(status, error.message, "error");
  }
}

$("#cell-labels").addEventListener("click", async (event) => {
  const button = event.target;
  const target = $("#cell-status");
  button.disabled = true;
  say(target, t("label.making"));
  try {
    const name = fileName(`labels-${cellCode}`, "pdf");
    await save(await fetchFile("POST", "/api/v1/labels", { refs, format: "pdf" }), name);
    say(target, t("map.labels_ready", { count: refs.length, file: name }), "ok");
  } catch (error) {
    say(target, error.message, "error");
  } finally {
    button.disabled = false;
  }
});

setUpMap({ onCell: showCell });
