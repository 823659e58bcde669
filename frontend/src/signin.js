import "./style.css";
import { $, markReady } from "./dom.js";

// Only our own pages are a place to go back to after signing in.
function next() {
  const wanted = new URLSearchParams(location.search).get("next") || "/admin/";
  return wanted.startsWith("/admin/") && !wanted.startsWith("//") ? wanted : "/admin/";
}

$("#signin").addEventListener("submit", async (event) => {
  event.preventDefault();
  const error = $("#signin-error");
  error.textContent = "";
  const response = await fetch("/v1/auth/session", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ email: $("#email").value, password: $("#password").value }),
  });
  if (response.status === 201) {
    location.assign(next());
    return;
  }
  const problem = await response.json().catch(() => ({}));
  error.textContent = response.status === 429
    ? "Too many attempts: wait a moment and try again."
    : problem.detail || "Sign-in failed: check your email and password.";
  $("#password").focus();
});
$("#email").focus();
markReady();
