import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// A production build as a CDN would serve it: minified, one JS bundle, every file at the top
// of dist/ (the benchmark precompresses and measures the folder as it does Switchboard's).
export default defineConfig({
  plugins: [react()],
  build: { outDir: "dist", assetsDir: "", emptyOutDir: true, sourcemap: false },
});
