// One entry per page; `vite build` writes hashed files and a manifest the server reads.
import { resolve } from "node:path";
import { defineConfig } from "vite";

const page = (name) => resolve(import.meta.dirname, "src", `${name}.js`);

export default defineConfig({
  base: "/admin/",
  build: {
    // Into the Python package, which serves it (and ships it in its wheel); git ignores it.
    outDir: resolve(import.meta.dirname, "..", "cms", "admin_ui", "static"),
    emptyOutDir: true,
    manifest: true,
    // Every page is a module script, which every browser we support runs natively.
    modulePreload: { polyfill: false },
    rollupOptions: {
      input: {
        signin: page("signin"),
        articles: page("articles"),
        editor: page("editor"),
        operators: page("operators"),
      },
    },
  },
});
