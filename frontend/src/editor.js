// The editor: fields and blocks, autosave to my working copy, the edit lock, save with If-Match
// (a 412 opens the merge view), workflow, preview, history and where the article is live.
import "./style.css";
import { ApiError, api, atLeast, beforeSignOut } from "./api.js";
import { blockList } from "./blocks.js";
import { distributionPanel } from "./distribution.js";
import { $, el, flash, markReady, statusChip, when } from "./dom.js";
import { historyPanel } from "./history.js";
import { showMerge } from "./merge.js";
import { renderPreview } from "./preview.js";
import { shell } from "./shell.js";
import { scheduleControls } from "./schedule.js";

const ID = document.body.dataset.articleId;
const BASE = `/v1/admin/articles/${ID}`;
const AUTOSAVE_DELAY = 2000;
const LOCK_RENEW = 45000;
// Channel limits the editor sees while typing (the API and the consumers hold the real rules).
const LIMITS = { title: 110, lead: 300 };

let article = null;
let version = 0;
let dirty = false;
let timer = null;
let saving = null;
let lockHeld = false;
const blocks = blockList($("#blocks"), changed);

const list = (value) => value.split(",").map((s) => s.trim()).filter(Boolean);

function fields() {
  const form = $("#article-form");
  const value = (name) => form.elements.namedItem(name).value;
  return {
    title: value("title"),
    lead: value("lead"),
    slug: value("slug").trim() || article.slug,
    section: value("section").trim() || null,
    language: value("language").trim(),
    tags: list(value("tags")),
    authors: list(value("authors")),
    related: related.ids(),
    body: blocks.read(),
  };
}

function fill(from) {
  const form = $("#article-form");
  const set = (name, v) => {
    form.elements.namedItem(name).value = v ?? "";
  };
  set("title", from.title);
  set("lead", from.lead);
  set("slug", from.slug);
  set("section", from.section);
  set("language", from.language);
  set("tags", (from.tags || []).join(", "));
  set("authors", (from.authors || []).join(", "));
  related.set(from.related || []);
  blocks.set(from.body || []);
  counts();
}

function counts() {
  for (const [name, limit] of Object.entries(LIMITS)) {
    const length = [...$(`#${name}`).value].length;
    const out = $(`#${name}-count`);
    out.textContent = `${length}/${limit}`;
    out.classList.toggle("over", length > limit);
  }
}

function showArticle(next) {
  article = next;
  version = next.version;
  $("#status-chip").replaceChildren(statusChip(next.status));
  $("#editor-heading").textContent = next.title ? `Edit: ${next.title}` : "Edit article";
  document.title = `${next.title} · Newsroom CMS`;
}

function state(text) {
  $("#save-state").textContent = text;
}

// Typing never waits on the network: edits mark the copy dirty and the save runs later, alone.
function changed() {
  dirty = true;
  counts();
  state("Unsaved changes");
  clearTimeout(timer);
  timer = setTimeout(autosave, AUTOSAVE_DELAY);
}

async function autosave({ keepalive = false } = {}) {
  clearTimeout(timer);
  if (!dirty || !article) return;
  if (saving) {
    await saving;
    if (!dirty) return;
  }
  dirty = false;
  const body = { based_on: version, ...fields() };
  saving = api("PUT", `${BASE}/draft-copy`, { body, keepalive })
    .then(({ data }) => state(`Autosaved to your working copy at ${when(data.saved_at)}`))
    .catch((error) => {
      dirty = true;
      state(`Autosave failed: ${error.message}`);
    })
    .finally(() => {
      saving = null;
    });
  return saving;
}

async function save() {
  clearTimeout(timer);
  // Clicking Save blurs the field, which starts an autosave: let it land first, so that its
  // answer cannot arrive after the save's and claim the page holds only a working copy.
  if (saving) await saving;
  const mine = fields();
  try {
    const { data } = await api("PATCH", BASE, { body: mine, headers: { "If-Match": `"${version}"` } });
    dirty = false;
    showArticle(data);
    state(`Saved as version ${data.version}`);
    flash(`Saved as version ${data.version}.`, "ok");
    history.reload();
    return true;
  } catch (error) {
    if (error.status === 412) {
      await autosave();
      const { data: theirs } = await api("GET", BASE);
      flash(`Version ${theirs.version} was saved while you edited: choose what to keep.`, "warn");
      const merged = await showMerge(theirs, mine);
      showArticle(theirs);
      fill(merged);
      dirty = true;
      return save();
    }
    if (error.status === 409 && error.problem.lock) {
      showLock(error.problem.lock, error.message);
    }
    dirty = true;
    await autosave();
    flash(`Not saved: ${error.message}`, "error");
    return false;
  }
}

function showLock(lock, message) {
  lockHeld = false;
  $("#lock-text").textContent = message || `${lock.holder} is editing this article since ${when(lock.since)}.`;
  $("#lock-banner").hidden = false;
}

async function lock(takeOver = false) {
  try {
    await api("POST", `${BASE}/lock`, { body: { take_over: takeOver } });
    lockHeld = true;
    $("#lock-banner").hidden = true;
    if (takeOver) flash("You hold the lock now.", "ok");
  } catch (error) {
    if (error.status === 409 && error.problem.lock) showLock(error.problem.lock);
    else if (takeOver) flash(`Could not take over: ${error.message}`, "error");
  }
}

async function offerRestore() {
  let copy;
  try {
    ({ data: copy } = await api("GET", `${BASE}/draft-copy`));
  } catch (error) {
    if (error.status === 404) return;
    throw error;
  }
  $("#restore-text").textContent = `You have unsaved work from ${when(copy.saved_at)}${copy.stale ? ", and the article was saved by someone else since" : ""}.`;
  $("#restore-banner").hidden = false;
  $("#restore-copy").onclick = async () => {
    $("#restore-banner").hidden = true;
    const mine = { ...fields(), ...copy.fields };
    if (copy.stale) {
      const merged = await showMerge(article, mine);
      fill(merged);
    } else {
      fill(mine);
    }
    changed();
    flash("Your unsaved work is back.", "ok");
  };
  $("#discard-copy").onclick = async () => {
    $("#restore-banner").hidden = true;
    await api("DELETE", `${BASE}/draft-copy`);
    flash("Your unsaved work was discarded.", "info");
  };
}

function relatedPicker() {
  let items = [];
  const render = () =>
    $("#related-list").replaceChildren(
      ...items.map((item) => {
        const remove = el("button", { type: "button", class: "small" }, "Remove");
        remove.addEventListener("click", () => {
          items = items.filter((i) => i.id !== item.id);
          render();
          changed();
        });
        return el("li", {}, item.title || item.id, " ", remove);
      }),
    );
  let pending = null;
  $("#related-search").addEventListener("input", (event) => {
    clearTimeout(pending);
    const q = event.target.value.trim();
    if (!q) {
      $("#related-results").replaceChildren();
      return;
    }
    pending = setTimeout(async () => {
      try {
        const { data } = await api("GET", `/v1/search?${new URLSearchParams({ q, limit: "8" })}`);
        $("#related-results").replaceChildren(
          ...data.items
            .filter((hit) => hit.id !== ID)
            .map((hit) => {
              const pick = el("button", { type: "button", class: "link" }, hit.title);
              pick.addEventListener("click", () => {
                if (!items.some((i) => i.id === hit.id)) items.push({ id: hit.id, title: hit.title });
                render();
                changed();
                $("#related-search").focus();
              });
              return el("li", {}, pick);
            }),
        );
      } catch (error) {
        $("#related-results").replaceChildren(el("li", {}, error.message));
      }
    }, 250);
  });
  return {
    ids: () => items.map((i) => i.id),
    set(ids) {
      items = ids.map((id) => items.find((i) => i.id === id) || { id, title: id });
      render();
      for (const item of items.filter((i) => i.title === i.id)) {
        api("GET", `/v1/admin/articles/${item.id}`)
          .then(({ data }) => {
            item.title = data.title;
            render();
          })
          .catch(() => {});
      }
    },
  };
}
const related = relatedPicker();

function confirmDialog({ title, text, label }) {
  const dialog = $("#confirm");
  $("#confirm-title").textContent = title;
  $("#confirm-text").textContent = text;
  $("#confirm-field-wrap").hidden = !label;
  $("#confirm-label").textContent = label || "";
  $("#confirm-field").value = "";
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok" ? $("#confirm-field").value : null), { once: true });
  });
}

async function act(name, path, body) {
  if (dirty && !(await save())) return;
  try {
    const { data } = await api("POST", `${BASE}/${path}`, { body, headers: { "If-Match": `"${version}"` } });
    showArticle(data);
    fill(data);
    dirty = false;
    flash(`${name}: the article is ${data.status.replace("_", " ")} (version ${data.version}).`, "ok");
    history.reload();
    distribution.refresh();
  } catch (error) {
    flash(`${name} failed: ${error.message}`, "error");
  }
}

const schedule = scheduleControls();

const ACTIONS = {
  submit: () => act("Submit", "submit"),
  publish: () => act("Publish", "publish", {}),
  schedule: () => {
    const at = schedule.utc();
    if (!at) return flash("Pick a date and time to schedule.", "error");
    return act("Schedule", "publish", { publish_at: at });
  },
  unpublish: () => act("Unpublish", "unpublish", {}),
  correct: async () => {
    const note = await confirmDialog({
      title: "Add a correction",
      text: "The note is shown to readers under the article, and the article is published again.",
      label: "Correction note",
    });
    if (note) await act("Correction", "corrections", { note });
  },
  kill: async () => {
    const reason = await confirmDialog({
      title: "Kill this article?",
      text: "A legal takedown: the article leaves the site, search, feeds and every channel at once, social posts are retracted, and only an admin can bring it back.",
      label: "Reason (kept on record, never public)",
    });
    if (reason) await act("Kill", "kill", { reason });
  },
};

let history;
let distribution;

async function main() {
  // Who I am and the article at once: neither waits for the other.
  const [, { data }] = await Promise.all([shell(), api("GET", BASE)]);
  for (const node of document.querySelectorAll("[data-min]")) node.hidden = !atLeast(node.dataset.min);
  showArticle(data);
  fill(data);
  const locking = lock(false);
  setInterval(() => lockHeld && lock(false), LOCK_RENEW);
  history = historyPanel(BASE, () => version, async (restored) => {
    showArticle(restored);
    fill(restored);
  });
  // The scheduler publishes without us: the chip follows what the API says now.
  const followStatus = (status) => $("#status-chip").replaceChildren(statusChip(status));
  distribution = atLeast("editor") ? distributionPanel(ID, true, followStatus) : { refresh() {} };
  await Promise.all([locking, offerRestore()]);

  $("#article-form").addEventListener("input", changed);
  $("#article-form").addEventListener("focusout", () => dirty && autosave());
  $("#add-block").addEventListener("click", () => blocks.add($("#add-type").value));
  $("#save").addEventListener("click", () => save());
  $("#take-over").addEventListener("click", () => lock(true));
  for (const button of document.querySelectorAll("[data-action]")) {
    button.addEventListener("click", () => ACTIONS[button.dataset.action]());
  }
  $("#preview-link").addEventListener("click", async () => {
    try {
      const { data: link } = await api("POST", `${BASE}/previews`, { body: {} });
      const a = $("#preview-url");
      a.href = link.url;
      a.textContent = link.url;
      a.hidden = false;
    } catch (error) {
      flash(`No preview link: ${error.message}`, "error");
    }
  });
  $("#preview-toggle").addEventListener("click", (event) => {
    const box = $("#preview");
    box.hidden = !box.hidden;
    event.target.setAttribute("aria-expanded", String(!box.hidden));
    event.target.textContent = box.hidden ? "Show in-page preview" : "Hide in-page preview";
    if (!box.hidden) renderPreview(box, { ...article, ...fields() });
  });
  document.addEventListener("visibilitychange", () => document.visibilityState === "hidden" && autosave({ keepalive: true }));
  beforeSignOut(async () => {
    await autosave();
    if (lockHeld) await api("DELETE", `${BASE}/lock`);
    lockHeld = false;
  });
  window.addEventListener("pagehide", () => {
    autosave({ keepalive: true });
    // A closed tab blocks nobody: the lock goes with it (its lease would end it anyway).
    if (lockHeld) api("DELETE", `${BASE}/lock`, { keepalive: true }).catch(() => {});
  });
  markReady();
}

main().catch((error) => {
  if (!(error instanceof ApiError && error.status === 401)) flash(error.message, "error");
});
