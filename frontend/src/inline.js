// One line of inline text (a paragraph, heading, quote, list item or caption) edited with
// Tiptap: bold, italic, links and line breaks, and nothing else, so what it produces is exactly
// the API's inline subset (strong, em, a[href], br). The API sanitises again; this only never
// offers what it would drop.
import { Editor, Extension } from "@tiptap/core";
import StarterKit from "@tiptap/starter-kit";
import Document from "@tiptap/extension-document";
import Link from "@tiptap/extension-link";
import { el } from "./dom.js";

const OneParagraph = Document.extend({ content: "paragraph" });

// Only the target: `rel` is the API's to set, and `class`/`target` are not in the subset.
const HrefOnly = Link.extend({
  addAttributes() {
    return { href: { default: null } };
  },
});

function askLink(editor) {
  const before = editor.getAttributes("link").href || "https://";
  const href = window.prompt("Link address (empty removes the link)", before);
  if (href === null) return true;
  const chain = editor.chain().focus().extendMarkRange("link");
  if (href.trim() === "" || href.trim() === "https://") chain.unsetLink().run();
  else chain.setLink({ href: href.trim() }).run();
  return true;
}

const LinkKey = Extension.create({
  name: "linkKey",
  addKeyboardShortcuts() {
    return { "Mod-k": () => askLink(this.editor) };
  },
});

function toolButton(label, title, run, isActive, editor) {
  const button = el("button", { type: "button", class: "tool", title, "aria-pressed": "false" }, label);
  button.addEventListener("click", () => run());
  editor.on("transaction", () => button.setAttribute("aria-pressed", String(isActive())));
  return button;
}

/** An inline editor inside `host`; `onChange` after every edit. `.html()` is the API's subset. */
export function inlineEditor(host, { html = "", label, onChange, multiline = true }) {
  const area = el("div", { class: "inline-area" });
  const editor = new Editor({
    element: area,
    injectCSS: false,
    extensions: [
      OneParagraph,
      StarterKit.configure({
        document: false,
        blockquote: false,
        bulletList: false,
        orderedList: false,
        listItem: false,
        listKeymap: false,
        code: false,
        codeBlock: false,
        heading: false,
        horizontalRule: false,
        strike: false,
        underline: false,
        link: false,
        trailingNode: false,
        dropcursor: false,
        gapcursor: false,
        hardBreak: multiline ? {} : false,
      }),
      HrefOnly.configure({
        openOnClick: false,
        autolink: false,
        linkOnPaste: true,
        protocols: ["mailto"],
        HTMLAttributes: { target: null, rel: null, class: null },
      }),
      LinkKey,
    ],
    content: html ? `<p>${html}</p>` : "",
    editorProps: {
      attributes: { role: "textbox", "aria-multiline": String(multiline), "aria-label": label, class: "inline-editor" },
    },
    onUpdate: () => onChange && onChange(),
  });
  const tools = el(
    "div",
    { class: "tools", role: "toolbar", "aria-label": `${label}: formatting` },
    toolButton("B", "Bold (Ctrl+B)", () => editor.chain().focus().toggleBold().run(), () => editor.isActive("bold"), editor),
    toolButton("I", "Italic (Ctrl+I)", () => editor.chain().focus().toggleItalic().run(), () => editor.isActive("italic"), editor),
    toolButton("Link", "Link (Ctrl+K)", () => askLink(editor), () => editor.isActive("link"), editor),
  );
  host.append(tools, area);
  return {
    editor,
    html() {
      const out = editor.getHTML();
      const inner = out.replace(/^<p>/, "").replace(/<\/p>$/, "");
      return inner;
    },
    text() {
      return editor.getText();
    },
    setHtml(value) {
      editor.commands.setContent(value ? `<p>${value}</p>` : "", { emitUpdate: false });
    },
    focus() {
      // At once, not in the next frame: keys typed right after "Add block" land in the block.
      editor.view.focus();
      editor.commands.focus("end");
    },
    destroy() {
      editor.destroy();
    },
  };
}
