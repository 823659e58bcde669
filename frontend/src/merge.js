// The 412 merge view: their saved version and my edit side by side, one choice per field and per
// block; the editor's choices become the next save, made against their version.
import { $, el } from "./dom.js";

const FIELDS = ["title", "lead", "slug", "section", "language", "tags", "authors", "related"];

function plain(value) {
  if (value === null || value === undefined) return "(empty)";
  if (Array.isArray(value)) return value.join(", ") || "(empty)";
  if (typeof value === "object") {
    const text = value.text ?? (value.items ? value.items.join(" · ") : value.url ?? "");
    const parsed = new DOMParser().parseFromString(`<p>${text}</p>`, "text/html");
    return `${value.type}: ${parsed.body.textContent}`;
  }
  return String(value);
}

const same = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** Show the choices; resolves with the merged fields once the editor applies them. */
export function showMerge(theirs, mine) {
  const rows = [];
  for (const name of FIELDS) {
    if (!(name in mine) || same(theirs[name], mine[name])) continue;
    rows.push({ key: name, label: name, theirs: theirs[name], mine: mine[name] });
  }
  const count = Math.max(theirs.body.length, mine.body.length);
  for (let i = 0; i < count; i++) {
    if (same(theirs.body[i], mine.body[i])) continue;
    rows.push({ key: `body.${i}`, label: `block ${i + 1}`, theirs: theirs.body[i], mine: mine.body[i] });
  }
  const box = $("#merge-rows");
  box.replaceChildren(
    ...rows.map((row, n) =>
      el(
        "fieldset",
        { class: "merge-row" },
        el("legend", {}, row.label),
        el(
          "label",
          { class: "side-choice" },
          el("input", { type: "radio", name: `m${n}`, value: "theirs" }),
          el("span", { class: "who" }, "Theirs"),
          el("span", { class: "value" }, plain(row.theirs)),
        ),
        el(
          "label",
          { class: "side-choice" },
          el("input", { type: "radio", name: `m${n}`, value: "mine", checked: true }),
          el("span", { class: "who" }, "Mine"),
          el("span", { class: "value" }, plain(row.mine)),
        ),
      ),
    ),
  );
  $("#merge-version").textContent = String(theirs.version);
  $("#merge").hidden = false;
  $("#merge").scrollIntoView();
  $("#merge-title").setAttribute("tabindex", "-1");
  $("#merge-title").focus();
  return new Promise((resolve) => {
    $("#merge-apply").onclick = () => {
      const merged = { ...mine, body: [] };
      const picks = rows.map((row, n) => [row, box.querySelector(`input[name=m${n}]:checked`).value]);
      for (const [row, pick] of picks) if (!row.key.startsWith("body.")) merged[row.key] = pick === "theirs" ? row.theirs : row.mine;
      for (let i = 0; i < count; i++) {
        const chosen = picks.find(([row]) => row.key === `body.${i}`);
        const block = chosen ? (chosen[1] === "theirs" ? theirs.body[i] : mine.body[i]) : mine.body[i];
        if (block) merged.body.push(block);
      }
      $("#merge").hidden = true;
      resolve(merged);
    };
  });
}
