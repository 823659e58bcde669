// What every signed-in page does first: who am I, which links my role gets, and sign-out.
import { atLeast, session, signOut } from "./api.js";
import { $ } from "./dom.js";

export async function shell() {
  const info = await session();
  $("#me-name").textContent = info.user.name;
  $("#me-role").textContent = info.user.role;
  $("#sign-out").addEventListener("click", () => signOut());
  for (const node of document.querySelectorAll("[data-role-min]")) {
    node.hidden = !atLeast(node.dataset.roleMin);
  }
  return info;
}
