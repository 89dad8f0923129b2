// The room's climate (shown when the room has climate sensors).
import { $, say, startPage, t } from "./console.js";

const session = await startPage();
if (!session.climate) say($("#status"), t("climate.none"), "warn");
