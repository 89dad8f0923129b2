// Files from the API (label PDFs, ZPL, the room map): fetched with the page's session like any
// API call, then saved or shown; the API's JSON errors become the same words as elsewhere.
import { ApiError, errorWords, send } from "./console.js";

export async function fetchFile(method, path, body) {
  const response = await send(method, path, body);
  if (!response.ok) {
    let detail = null;
    try {
      detail = (await response.json()).detail;
    } catch {
      detail = null;
    }
    throw new ApiError(response.status, errorWords(response.status, detail));
  }
  return response;
}

// Save a response body as a file in the browser's downloads.
export async function save(response, name) {
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

// A file name from a reference or a location code: letters, digits, dots and dashes kept.
export function fileName(stem, extension) {
  return `${stem.replace(/[^\p{L}\p{N}.-]+/gu, "_")}.${extension}`;
}
