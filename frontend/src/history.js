// Revision history: each version, its diff against the one before, and restore.
import { api } from "./api.js";
import { $, el, flash, when } from "./dom.js";

function words(runs) {
  return el("span", {}, runs.map((run) => (run.op === "insert" ? el("ins", {}, run.text) : run.op === "delete" ? el("del", {}, run.text) : run.text)));
}

function short(value) {
  if (value === null || value === undefined) return "(empty)";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

function renderDiff(diff) {
  const out = [el("h3", {}, `Version ${diff.from_version} → ${diff.to_version}`)];
  if (!diff.fields.length && !diff.blocks.length) out.push(el("p", {}, "No changes."));
  for (const f of diff.fields) {
    out.push(el("p", {}, el("strong", {}, `${f.field}: `), f.words ? words(f.words) : `${short(f.before)} → ${short(f.after)}`));
  }
  for (const b of diff.blocks) {
    if (b.change === "unchanged") continue;
    const where = b.after_index !== null ? b.after_index + 1 : b.before_index + 1;
    out.push(el("p", {}, el("strong", {}, `block ${where} ${b.change}: `), b.words ? words(b.words) : short(b.after?.text ?? b.before?.text ?? "")));
  }
  return out;
}

export function historyPanel(base, currentVersion, restored) {
  async function showDiff(from, to) {
    try {
      const { data } = await api("GET", `${base}/revisions/${from}/diff/${to}`);
      $("#diff").replaceChildren(...renderDiff(data));
    } catch (error) {
      flash(error.message, "error");
    }
  }

  async function restore(v) {
    try {
      const { data } = await api("POST", `${base}/revisions/${v}/restore`, { headers: { "If-Match": `"${currentVersion()}"` } });
      flash(`Version ${v} restored as version ${data.version}.`, "ok");
      await restored(data);
      reload();
    } catch (error) {
      flash(`Restore failed: ${error.message}`, "error");
    }
  }

  async function reload() {
    try {
      const { data } = await api("GET", `${base}/revisions?limit=20`);
      $("#history").replaceChildren(
        ...data.items.map((r) => {
          const diff = el("button", { type: "button", class: "small" }, "Diff");
          diff.setAttribute("aria-label", `Diff version ${r.version} with the one before`);
          diff.disabled = r.version <= 1;
          diff.addEventListener("click", () => showDiff(r.version - 1, r.version));
          const back = el("button", { type: "button", class: "small" }, "Restore");
          back.setAttribute("aria-label", `Restore version ${r.version}`);
          back.disabled = r.version === currentVersion();
          back.addEventListener("click", () => restore(r.version));
          return el("li", {}, el("span", {}, `v${r.version} ${r.action} by ${r.actor}, ${when(r.created_at)} `), diff, " ", back);
        }),
      );
    } catch (error) {
      $("#history").replaceChildren(el("li", {}, error.message));
    }
  }
  reload();
  return { reload, showDiff };
}
