// The article list: the admin API's filters, search (title, lead, slug of every status), sort and
// cursor pages; or, when asked, the full-text search of what is live.
import "./style.css";
import { api } from "./api.js";
import { $, el, flash, markReady, statusChip, when } from "./dom.js";
import { shell } from "./shell.js";

const PAGE = 50;
let cursor = null;

function filters() {
  const form = new FormData($("#filters"));
  const params = new URLSearchParams();
  for (const [name, value] of form) if (String(value).trim()) params.set(name, String(value).trim());
  return params;
}

function lockCell(article) {
  return article.lock ? el("span", { class: "chip lock" }, `🔒 ${article.lock.holder}`) : "";
}

function articleRow(article) {
  return el(
    "tr",
    {},
    el("td", {}, el("a", { href: `/admin/articles/${article.id}` }, article.title || "(untitled)")),
    el("td", {}, statusChip(article.status)),
    el("td", {}, article.section || ""),
    el("td", {}, article.language),
    el("td", {}, (article.authors || []).join(", ")),
    el("td", {}, lockCell(article)),
    el("td", {}, el("time", { datetime: article.updated_at }, when(article.updated_at))),
  );
}

// The search API escapes the snippet and marks the matches: keep only text and <mark>.
function snippet(html) {
  const parsed = new DOMParser().parseFromString(`<p>${html}</p>`, "text/html");
  const out = el("span", { class: "snippet" });
  for (const node of parsed.body.firstChild.childNodes) {
    out.append(node.nodeName === "MARK" ? el("mark", {}, node.textContent) : node.textContent);
  }
  return out;
}

function hitRow(hit) {
  return el(
    "tr",
    {},
    el("td", {}, el("a", { href: `/admin/articles/${hit.id}` }, hit.title), el("br"), snippet(hit.snippet)),
    el("td", {}, statusChip("published")),
    el("td", {}, hit.section || ""),
    el("td", {}, hit.language),
    el("td", {}, ""),
    el("td", {}, ""),
    el("td", {}, el("time", { datetime: hit.published_at }, when(hit.published_at))),
  );
}

async function load(append) {
  const params = filters();
  const typed = params.get("q");
  const fulltext = params.get("fulltext") ? typed : null;
  params.delete("fulltext");
  params.set("limit", String(PAGE));
  if (append && cursor) params.set("cursor", cursor);
  let url = `/v1/admin/articles?${params}`;
  if (fulltext) {
    const search = new URLSearchParams({ q: fulltext, limit: String(PAGE) });
    for (const name of ["section", "tag", "language"]) if (params.get(name)) search.set(name, params.get(name));
    if (append && cursor) search.set("cursor", cursor);
    url = `/v1/search?${search}`;
  }
  try {
    const { data } = await api("GET", url);
    const rows = data.items.map(fulltext ? hitRow : articleRow);
    if (append) $("#rows").append(...rows);
    else $("#rows").replaceChildren(...rows);
    cursor = data.next_cursor;
    $("#more").hidden = !cursor;
    const shown = $("#rows").children.length;
    const more = cursor ? ", more below" : "";
    $("#list-summary").textContent = fulltext
      ? `${shown} live article${shown === 1 ? "" : "s"} match “${fulltext}”${more}`
      : `${shown} article${shown === 1 ? "" : "s"}${typed ? ` match “${typed}”` : ""} shown${more}`;
  } catch (error) {
    flash(error.message, "error");
  }
}

function syncUrl() {
  const params = filters();
  history.replaceState(null, "", params.size ? `?${params}` : location.pathname);
}

async function createArticle(event) {
  event.preventDefault();
  const dialog = $("#new-dialog");
  try {
    const { data } = await api("POST", "/v1/admin/articles", {
      body: { title: $("#new-headline").value, language: $("#new-language").value.trim() },
    });
    location.assign(`/admin/articles/${data.id}`);
  } catch (error) {
    $("#new-error").textContent = error.message;
    dialog.showModal();
  }
}

async function main() {
  await shell();
  const given = new URLSearchParams(location.search);
  for (const [name, value] of given) {
    const field = $("#filters").elements.namedItem(name);
    if (field?.type === "checkbox") field.checked = value === field.value;
    else if (field) field.value = value;
  }
  $("#filters").addEventListener("submit", (event) => {
    event.preventDefault();
    syncUrl();
    load(false);
  });
  $("#more").addEventListener("click", () => load(true));
  $("#new-article").addEventListener("click", () => {
    $("#new-error").textContent = "";
    $("#new-dialog").showModal();
    $("#new-headline").focus();
  });
  $("#new-cancel").addEventListener("click", () => $("#new-dialog").close());
  $("#new-form").addEventListener("submit", createArticle);
  await load(false);
  markReady();
}

main().catch((error) => error.status !== 401 && flash(error.message, "error"));
