// The in-page preview: the delivery shape drawn from the form. Inline HTML is rebuilt from its
// parsed nodes keeping only the API's subset, so nothing else can reach the page.
import { el } from "./dom.js";

const SAFE_URL = /^(https?:|mailto:)/i;

export function inline(html) {
  const parsed = new DOMParser().parseFromString(`<p>${html || ""}</p>`, "text/html").body.firstChild;
  const copy = (node) => {
    if (node.nodeType === Node.TEXT_NODE) return document.createTextNode(node.textContent);
    const name = node.nodeName.toLowerCase();
    const kids = [...node.childNodes].map(copy);
    if (name === "br") return el("br");
    if (["strong", "b", "em", "i"].includes(name)) return el(name, {}, kids);
    if (name === "a" && SAFE_URL.test(node.getAttribute("href") || "")) return el("a", { href: node.getAttribute("href"), rel: "noopener noreferrer" }, kids);
    return el("span", {}, kids);
  };
  return [...parsed.childNodes].map(copy);
}

function block(b) {
  switch (b.type) {
    case "heading":
      return el(`h${b.level || 2}`, {}, inline(b.text));
    case "quote":
      return el("blockquote", {}, el("p", {}, inline(b.text)), b.attribution ? el("footer", {}, `— ${b.attribution}`) : null);
    case "list":
      return el(b.ordered ? "ol" : "ul", {}, b.items.map((item) => el("li", {}, inline(item))));
    case "image":
      return el("figure", {}, el("img", { src: b.url, alt: b.alt }), el("figcaption", {}, inline(b.caption), b.credit ? ` (${b.credit})` : ""));
    case "embed":
      return el("p", { class: "embed" }, "Embedded: ", el("a", { href: b.url, rel: "noopener noreferrer" }, b.url));
    default:
      return el("p", {}, inline(b.text));
  }
}

export function renderPreview(box, article) {
  box.replaceChildren(
    el("h1", {}, article.title),
    el("p", { class: "lead" }, article.lead),
    article.authors.length ? el("p", { class: "byline" }, `By ${article.authors.join(", ")}`) : null,
    ...article.body.map(block),
  );
}
