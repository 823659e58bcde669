// Operators: readiness of every part, the relay's backlog and parked events and each consumer's
// counters (from /readyz and /metrics), the parked events with unpark, each consumer's dead
// letters with requeue, users and tokens. The figures refresh every few seconds.
import "./style.css";
import { api } from "./api.js";
import { $, el, flash, markReady, when } from "./dom.js";
import { shell } from "./shell.js";

const WANTED = /^(cms_relay_(backlog|parked|parked_rows|oldest_unsent_seconds|leader)|cms_consumer_(consuming|dead_lettered|failed|retried|handled)_?\w*)(\{[^}]*\})? (\S+)$/;

function table(caption, head, rows) {
  return el(
    "table",
    { class: "list" },
    el("caption", {}, caption),
    el("thead", {}, el("tr", {}, head.map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, rows.map((r) => el("tr", {}, r.map((c) => el("td", {}, c))))),
  );
}

async function health() {
  const ready = await fetch("/readyz").then((r) => r.json());
  const metrics = await fetch("/metrics").then((r) => r.text());
  const figures = metrics
    .split("\n")
    .map((line) => line.match(WANTED))
    .filter(Boolean)
    .map((m) => [m[1], (m[3] || "").replace(/[{}"]/g, ""), m[4]]);
  $("#health").replaceChildren(
    table("Readiness", ["Part", "Ready"], Object.entries(ready.checks || {}).map(([name, ok]) => [name, ok ? "yes" : "NO"])),
    table("Relay and consumer figures", ["Figure", "Labels", "Value"], figures),
  );
}

async function unpark(body, what) {
  try {
    const { data } = await api("POST", "/v1/admin/events/parked/unpark", { body });
    flash(`${data.unparked.length} ${what} unparked: the relay sends ${data.unparked.length === 1 ? "it" : "them"} again.`, "ok");
  } catch (error) {
    flash(`Unpark failed: ${error.message}`, "error");
  }
  parked();
}

function unparkButton(label, body, what) {
  const button = el("button", { type: "button", class: "small" }, label);
  button.addEventListener("click", () => unpark(body, what));
  return button;
}

async function parked() {
  let list;
  try {
    list = (await api("GET", "/v1/admin/events/parked?limit=100")).data;
  } catch (error) {
    $("#parked").replaceChildren(el("p", { class: "error" }, `Unavailable: ${error.message}`));
    return;
  }
  const rows = list.items.map((e) => [
    String(e.sequence),
    e.event_type,
    el("a", { href: `/admin/articles/${e.article_id}` }, e.article_id),
    e.reason,
    when(e.parked_at),
    unparkButton(`Unpark ${e.sequence}`, { sequences: [e.sequence] }, `event ${e.sequence}`),
  ]);
  $("#parked").replaceChildren(
    el("p", { id: "parked-total" }, `${list.total} parked event(s)${list.total > list.items.length ? `, the oldest ${list.items.length} shown` : ""}. Fix the cause, then unpark.`),
    rows.length ? table("Parked events, oldest first", ["Sequence", "Type", "Article", "Why", "Parked", ""], rows) : null,
    list.total ? el("p", {}, unparkButton(`Unpark all ${list.total}`, { all: true }, "event(s)")) : null,
  );
}

async function deadLetters() {
  let queues;
  try {
    queues = (await api("GET", "/v1/admin/dead-letters")).data.items;
  } catch (error) {
    $("#dead-letters").replaceChildren(el("p", { class: "error" }, `Unavailable: ${error.message}`));
    return;
  }
  $("#dead-letters").replaceChildren(
    ...queues.map((q) => {
      const requeue = el("button", { type: "button", class: "small", disabled: q.count === 0 }, `Requeue ${q.consumer} dead letters`);
      requeue.addEventListener("click", async () => {
        try {
          const { data } = await api("POST", `/v1/admin/dead-letters/${q.consumer}/requeue`);
          flash(`${data.moved} dead letter(s) of ${data.consumer} requeued.`, "ok");
        } catch (error) {
          flash(`Requeue failed: ${error.message}`, "error");
        }
        deadLetters();
      });
      return el(
        "div",
        { class: "dlq", "data-consumer": q.consumer },
        el("h3", {}, `${q.consumer}: ${q.count} dead letter(s)`),
        q.messages.length ? table(`Dead letters of ${q.consumer}`, ["Message", "Type", "Why"], q.messages.map((m) => [m.message_id ?? "", m.type ?? "", m.reason])) : null,
        el("p", {}, requeue),
      );
    }),
  );
}

async function people() {
  const users = (await api("GET", "/v1/admin/users?limit=100")).data.items;
  $("#users").replaceChildren(
    table("Users", ["Name", "Email", "Role", "Disabled"], users.map((u) => [u.name, u.email ?? "", u.role, u.disabled ? "yes" : "no"])),
  );
  const tokens = (await api("GET", "/v1/admin/tokens")).data;
  const items = Array.isArray(tokens) ? tokens : tokens.items || [];
  $("#tokens").replaceChildren(
    table("Tokens", ["Name", "Role", "Created", "Revoked"], items.map((t) => [t.name ?? "", t.role ?? "", when(t.created_at), t.revoked_at ? when(t.revoked_at) : "no"])),
  );
}

async function main() {
  await shell();
  try {
    await Promise.all([health(), people(), parked(), deadLetters()]);
  } catch (error) {
    flash(error.message, "error");
  }
  setInterval(() => health().catch(() => {}), 5000);
  markReady();
}

main().catch((error) => error.status !== 401 && flash(error.message, "error"));
