/**
 * The storefront (`/`, served by the gateway) and the load generator's page (`/loadgen/`, served by the
 * loadgen node), built by Vite into dist/web: one HTML page each, scripts and styles as content-hashed files
 * under /assets (served with a one-year immutable cache), no inline script or style (their
 * Content-Security-Policy allows the shop's own origin only).
 */
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const here = dirname(fileURLToPath(import.meta.url));

export default defineConfig({
	root: here,
	base: "/",
	logLevel: "warn",
	build: {
		outDir: resolve(here, "../dist/web"),
		emptyOutDir: true,
		assetsDir: "assets",
		// Nothing inlined as a data: URL, and no source maps shipped.
		assetsInlineLimit: 0,
		sourcemap: false,
		rollupOptions: {
			input: {
				storefront: resolve(here, "index.html"),
				loadgen: resolve(here, "loadgen/index.html")
			}
		}
	}
});
