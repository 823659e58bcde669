// The body as blocks: each block a list item with its own fields, and buttons to move it up or
// down and remove it, reachable by keyboard like any button.
import { $, el } from "./dom.js";
import { inlineEditor } from "./inline.js";

const LABELS = { paragraph: "Paragraph", heading: "Heading", quote: "Quote", list: "List", image: "Image", embed: "Embed" };
let counter = 0;

function field(label, input) {
  const id = `f${++counter}`;
  input.id = id;
  return el("p", {}, el("label", { for: id }, label), input);
}

function listEditor(host, items, changed) {
  const entries = [];
  const list = el("ol", { class: "items" });
  const add = (html) => {
    const item = el("li");
    const editor = inlineEditor(item, { html, label: `List item`, onChange: changed, multiline: false });
    const remove = el("button", { type: "button", class: "small" }, "Remove item");
    remove.addEventListener("click", () => {
      entries.splice(entries.indexOf(editor), 1);
      editor.destroy();
      item.remove();
      changed();
    });
    item.append(remove);
    list.append(item);
    entries.push(editor);
    return editor;
  };
  for (const html of items.length ? items : [""]) add(html);
  const more = el("button", { type: "button", class: "small" }, "Add item");
  more.addEventListener("click", () => {
    add("").focus();
    changed();
  });
  host.append(list, more);
  return entries;
}

/** A block's view: its element, its JSON as the API takes it, and focus. */
function blockView(block, changed) {
  const body = el("div", { class: "block-fields" });
  const input = (value, attrs = {}) => {
    const node = el("input", { value: value ?? "", ...attrs });
    node.addEventListener("input", changed);
    return node;
  };
  let read;
  let first;
  switch (block.type) {
    case "paragraph":
    case "heading":
    case "quote": {
      let level = null;
      if (block.type === "heading") {
        level = el("select", {}, ...[2, 3, 4].map((n) => el("option", { value: n, selected: n === (block.level || 2) }, `Level ${n}`)));
        level.addEventListener("change", changed);
        body.append(field("Heading level", level));
      }
      const text = inlineEditor(body, { html: block.text || "", label: `${LABELS[block.type]} text`, onChange: changed });
      let attribution = null;
      if (block.type === "quote") {
        attribution = input(block.attribution, { class: "attribution" });
        body.append(field("Attribution", attribution));
      }
      first = text;
      read = () => {
        const out = { type: block.type, text: text.html() };
        if (level) out.level = Number(level.value);
        if (attribution && attribution.value.trim()) out.attribution = attribution.value.trim();
        return out;
      };
      break;
    }
    case "list": {
      const ordered = el("input", { type: "checkbox", checked: !!block.ordered });
      ordered.addEventListener("change", changed);
      const id = `f${++counter}`;
      ordered.id = id;
      body.append(el("p", {}, ordered, " ", el("label", { for: id }, "Numbered")));
      const entries = listEditor(body, block.items || [], changed);
      first = entries[0];
      read = () => ({ type: "list", ordered: ordered.checked, items: entries.map((e) => e.html()).filter((h) => h.trim()) });
      break;
    }
    case "image": {
      const url = input(block.url, { type: "url", class: "wide" });
      const alt = input(block.alt);
      const credit = input(block.credit);
      body.append(field("Image URL", url), field("Alternative text", alt));
      const caption = inlineEditor(body, { html: block.caption || "", label: "Caption", onChange: changed });
      body.append(field("Credit", credit));
      first = { focus: () => url.focus() };
      read = () => {
        const out = { type: "image", url: url.value.trim(), alt: alt.value };
        const html = caption.html();
        if (html.trim()) out.caption = html;
        if (credit.value.trim()) out.credit = credit.value.trim();
        return out;
      };
      break;
    }
    default: {
      const url = input(block.url, { type: "url", class: "wide" });
      body.append(field("Embed URL", url));
      first = { focus: () => url.focus() };
      read = () => ({ type: "embed", url: url.value.trim() });
    }
  }
  const node = el("li", { class: `block block-${block.type}` });
  const heading = el("h3", { class: "block-type" }, LABELS[block.type] || block.type);
  node.append(heading, body);
  return { node, read, focus: () => first && first.focus(), type: block.type };
}

/** The block list in `root`: set, read, add, move and remove; `changed` after every edit. */
export function blockList(root, changed) {
  let views = [];

  function controls(view) {
    const bar = el("div", { class: "block-controls", role: "group", "aria-label": "Block" });
    const up = el("button", { type: "button", class: "small" }, "Move up");
    const down = el("button", { type: "button", class: "small" }, "Move down");
    const remove = el("button", { type: "button", class: "small danger" }, "Remove block");
    up.addEventListener("click", () => move(view, -1, up));
    down.addEventListener("click", () => move(view, 1, down));
    remove.addEventListener("click", () => removeBlock(view));
    bar.append(up, down, remove);
    view.node.append(bar);
  }

  function move(view, step, button) {
    const at = views.indexOf(view);
    const to = at + step;
    if (to < 0 || to >= views.length) return;
    views.splice(at, 1);
    views.splice(to, 0, view);
    root.replaceChildren(...views.map((v) => v.node));
    button.focus();
    changed();
  }

  function removeBlock(view) {
    const at = views.indexOf(view);
    views.splice(at, 1);
    view.node.remove();
    const next = views[Math.min(at, views.length - 1)];
    if (next) next.node.querySelector("button").focus();
    else $("#add-type").focus();
    changed();
  }

  function append(block) {
    const view = blockView(block, changed);
    controls(view);
    views.push(view);
    root.append(view.node);
    return view;
  }

  return {
    set(blocks) {
      views = [];
      root.replaceChildren();
      for (const block of blocks) append(block);
    },
    read() {
      return views.map((v) => v.read());
    },
    add(type) {
      const view = append({ type, level: 2 });
      view.focus();
      changed();
    },
  };
}
