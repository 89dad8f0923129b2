// The label panel of an item page: download the item's label as a PDF, or as ZPL for the RFID
// label printer (which binds the item's GIAI-96 EPC first if it has no tag).
import { $, api, itemPath, say, t } from "./console.js";
import { fetchFile, fileName, save } from "./files.js";

export function setUpLabels(ref, reload) {
  const status = $("#label-status");

  async function act(button, run) {
    button.disabled = true;
    say(status, t("label.making"));
    try {
      say(status, await run(), "ok");
    } catch (error) {
      say(status, error.message, "error");
    } finally {
      button.disabled = false;
    }
  }

  $("#label-pdf").addEventListener("click", (event) =>
    act(event.target, async () => {
      const name = fileName(`label-${ref}`, "pdf");
      await save(await fetchFile("GET", `${itemPath(ref)}/label?format=pdf`), name);
      return t("label.pdf_ready", { file: name });
    }),
  );

  $("#label-zpl").addEventListener("click", (event) =>
    act(event.target, async () => {
      const name = fileName(`label-${ref}`, "zpl");
      await save(await fetchFile("POST", "/api/v1/labels", { refs: [ref], format: "zpl" }), name);
      const item = await api("GET", itemPath(ref));
      reload();
      return t("label.zpl_ready", { file: name, epc: item.epc });
    }),
  );
}
