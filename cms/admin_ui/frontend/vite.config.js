// One entry per page; `vite build` writes hashed files and a manifest the server reads.
import { resolve } from "node:path";
import { defineConfig } from "vite";

const page = (name) => resolve(import.meta.dirname, "src", `${name}.js`);

export default defineConfig({
  base: "/admin/",
  build: {
    outDir: "dist",
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
