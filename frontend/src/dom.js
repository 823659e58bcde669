// Small DOM helpers: every text goes in as text (escaped by the browser); only the API's
// sanitised inline HTML is ever parsed, and then by the rich-text editor's schema.

export function $(selector, root = document) {
  return root.querySelector(selector);
}

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (value === true) node.setAttribute(name, "");
    else node.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function flash(message, kind = "info") {
  const box = $("#flash");
  if (!box) return;
  box.replaceChildren(el("p", { class: `flash ${kind}` }, message));
}

export function when(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function statusChip(status) {
  return el("span", { class: `chip status-${status}` }, status.replace("_", " "));
}

/** The page has its data and its controls: tests and the benchmark wait for this mark. */
export function markReady() {
  document.body.dataset.ready = "true";
  performance.mark("cms:ready");
}
