// "Where is it live": delivery, the relay, search, every social channel (with review: approve,
// edit and approve, retry) and ads, polled while the tab is visible, redrawn without a reload.
import { api } from "./api.js";
import { $, el, flash, when } from "./dom.js";

const EVERY = 4000;

function row(label, value, detail) {
  return el("div", { class: "dist-row" }, el("dt", {}, label), el("dd", {}, value, detail ? el("span", { class: "muted" }, ` ${detail}`) : null));
}

function postItem(post, canReview, refresh) {
  const controls = [];
  if (canReview && post.status === "ready") {
    const text = el("textarea", { rows: 3, "aria-label": `Post text for ${post.channel}` });
    text.value = post.text;
    // Networks count characters as people see them (graphemes); the API checks the real limit.
    const count = el("span", { class: "count", "aria-live": "polite" });
    const recount = () => {
      const graphemes = [...new Intl.Segmenter().segment(text.value)].length;
      count.textContent = `${graphemes} characters`;
    };
    text.addEventListener("input", recount);
    recount();
    const approve = el("button", { type: "button", class: "primary small" }, `Approve ${post.channel} post`);
    approve.addEventListener("click", async () => {
      const edited = text.value !== post.text ? { text: text.value } : undefined;
      try {
        await api("POST", `/v1/social/posts/${post.id}/approve`, { body: edited });
        flash(`The ${post.channel} post was approved.`, "ok");
      } catch (error) {
        flash(`Not approved: ${error.message}`, "error");
      }
      refresh();
    });
    controls.push(el("p", {}, text, count), el("p", {}, approve));
  } else {
    controls.push(el("p", { class: "post-text" }, post.text));
  }
  if (canReview && post.status === "failed") {
    const retry = el("button", { type: "button", class: "small" }, `Retry ${post.channel} post`);
    retry.addEventListener("click", async () => {
      try {
        await api("POST", `/v1/social/posts/${post.id}/retry`);
      } catch (error) {
        flash(`Retry failed: ${error.message}`, "error");
      }
      refresh();
    });
    controls.push(el("p", {}, retry));
  }
  return el(
    "li",
    { class: "post", "data-status": post.status },
    el("p", {}, el("strong", {}, post.channel), " ", el("span", { class: `chip post-${post.status}` }, post.status),
      post.remote_url ? el("a", { href: post.remote_url, rel: "noopener noreferrer" }, " view") : null,
      post.last_error ? el("span", { class: "error" }, ` ${post.last_error}`) : null),
    ...controls,
  );
}

export function distributionPanel(articleId, canReview, onStatus = () => {}) {
  const box = $("#distribution");
  let busy = false;
  async function refresh() {
    if (busy || document.visibilityState === "hidden") return;
    busy = true;
    try {
      const { data: d } = await api("GET", `/v1/admin/articles/${articleId}/distribution`);
      onStatus(d.delivery.status);
      let posts = null;
      if (canReview) {
        try {
          posts = (await api("GET", `/v1/social/posts?article=${articleId}&limit=20`)).data.items;
        } catch {
          posts = null;
        }
      }
      // Keep what the editor is typing into a post: redraw the rest only.
      const typing = box.contains(document.activeElement) && document.activeElement.tagName === "TEXTAREA";
      const { search, social, ads } = d.consumers;
      const facts = el(
        "dl",
        { class: "dist" },
        row("Delivery", d.delivery.live ? `live, version ${d.delivery.version}` : "not live", d.delivery.reason),
        row("Relay", d.outbox.unsent || d.outbox.parked ? `${d.outbox.unsent} unsent, ${d.outbox.parked} parked` : "all sent"),
        row("Search", search.state.replace("_", " "), search.version ? `version ${search.version}, ${when(search.indexed_at)}` : search.reason),
        row("Ads", ads.state, ads.state === "live" ? `${ads.slots} slots, brand safety ${ads.brand_safety ?? "n/a"}` : ads.reason),
        row("Social", social.state === "known" ? `${social.posts.length} post(s)` : "unknown", social.reason),
      );
      const list = posts ?? social.posts.map((p) => ({ ...p, text: "" }));
      const postList = el("ul", { class: "posts" }, list.map((p) => postItem(p, canReview, refresh)));
      if (!typing) box.replaceChildren(facts, postList);
      else box.firstChild.replaceWith(facts);
      box.dataset.updated = new Date().toISOString();
    } catch (error) {
      box.replaceChildren(el("p", { class: "error" }, `Unavailable: ${error.message}`));
    } finally {
      busy = false;
    }
  }
  refresh();
  setInterval(refresh, EVERY);
  document.addEventListener("visibilitychange", refresh);
  return { refresh };
}
