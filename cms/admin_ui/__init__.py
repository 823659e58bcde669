"""The editorial web UI at /admin/: server-rendered page shells (Jinja2) and a Vite-built front end.

The pages hold no rule of their own: every read and change goes from the browser to the JSON API
with the session cookie and its CSRF token, and the API decides. The platform never imports this
package; the composition root (`cms.app`) mounts it.
"""
