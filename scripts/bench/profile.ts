/**
 * `npm run bench:profile -- <workload>`: runs the shop in one process under Node's CPU profiler
 * (`--cpu-prof`) while one of the bench's workloads loads it (`product` cached product reads, `list` cached
 * lists, `checkout` a checkout burst), then prints the top frames by self time, grouped by function and
 * file (`node_modules/<package>` or the project's own file). `--write` puts the table into BENCHMARKS.md
 * between `<!-- profile-<workload>:begin/end -->`; `--keep` keeps the .cpuprofile and prints its path. `TOP=<n>`
 * shows n frames (default 15).
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort, exited } from "../net";
import { waitFor } from "../harness";
import { readLoad } from "./load";
import { SHOP_ENV } from "./targets";
import { checkoutLoad } from "./workloads";
import { NODE_FLAGS } from "../node-flags";
import { replaceBetweenMarkers } from "./markdown";

interface ProfileNode {
	id: number;
	callFrame: { functionName: string; url: string; lineNumber: number };
	hitCount?: number;
}

/** Where a frame lives: `<package>` for node_modules, the project-relative path, or Node's own. */
function place(url: string): string {
	if (!url) return "(native)";
	const inModules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
	if (inModules) return inModules[1];
	if (url.startsWith("node:")) return url;
	const i = url.indexOf("/dist/");
	return i >= 0 ? url.slice(i + 6) : url.replace(/^file:\/\//, "");
}

/** The `top` frames of a .cpuprofile by self time, each with its share of all samples (%). */
export function topFrames(profile: { nodes: ProfileNode[] }, top = 15): { frame: string; share: number }[] {
	const total = profile.nodes.reduce((n, node) => n + (node.hitCount ?? 0), 0) || 1;
	const byFrame = new Map<string, number>();
	for (const node of profile.nodes) {
		const { functionName, url, lineNumber } = node.callFrame;
		const key = `${functionName || "(anonymous)"} — ${place(url)}${url && !url.includes("node_modules") && !url.startsWith("node:") ? `:${lineNumber + 1}` : ""}`;
		byFrame.set(key, (byFrame.get(key) ?? 0) + (node.hitCount ?? 0));
	}
	return [...byFrame]
		.map(([frame, hits]) => ({ frame, share: (hits / total) * 100 }))
		.sort((a, b) => b.share - a.share)
		.slice(0, top);
}

async function main(): Promise<number> {
	const workload = process.argv.slice(2).find(arg => !arg.startsWith("--")) ?? "product";
	if (!["product", "list", "checkout"].includes(workload)) {
		console.error(`Unknown workload "${workload}": use product, list or checkout (e.g. npm run bench:profile -- checkout --write).`);
		return 1;
	}
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), "shop-profile-"));
	const port = await freePort();
	const child = spawn(process.execPath, [...NODE_FLAGS, "--cpu-prof", `--cpu-prof-dir=${dir}`, path.resolve(__dirname, "../start.js")], {
		env: { ...process.env, ...SHOP_ENV, PORT: String(port), METRICS_PORT: String(await freePort()), DATA_DIR: path.join(dir, "data") },
		stdio: "ignore"
	});
	const url = `http://127.0.0.1:${port}/api`;
	await waitFor(async () => (await fetch(`${url}/health`).catch(() => null))?.status === 200, "the shop", 60_000);
	const page = (await (await fetch(`${url}/products?pageSize=1`)).json()) as { rows: { id: string }[] };
	const result =
		workload === "checkout"
			? await checkoutLoad(url, SHOP_ENV.JWT_SECRET, 1500)
			: await readLoad(workload === "list" ? `${url}/products?pageSize=20` : `${url}/products/${page.rows[0].id}`, { warmup: 1 });
	child.kill("SIGTERM");
	await exited(child);
	const file = fs.readdirSync(dir).find(f => f.endsWith(".cpuprofile"))!;
	const frames = topFrames(JSON.parse(fs.readFileSync(path.join(dir, file), "utf8")), Number(process.env.TOP ?? 15));
	const text = [
		`Workload \`${workload}\` on ${new Date().toISOString().slice(0, 10)}: ${Math.round(result.rps)} /s under the profiler, p50 ${result.p50} ms, p99 ${result.p99} ms (Node ${process.version}, ${os.cpus().length} cores).`,
		"",
		"| self time | frame |",
		"|---|---|",
		...frames.map(({ frame, share }) => `| ${share.toFixed(1)} % | ${frame} |`),
		""
	].join("\n");
	console.log(text);
	if (process.argv.includes("--write")) replaceBetweenMarkers(path.resolve(__dirname, "../../..", "BENCHMARKS.md"), `profile-${workload}`, text);
	if (process.argv.includes("--keep")) console.log(`Profile kept for Chrome DevTools (Performance → Load profile): ${path.join(dir, file)}`);
	else fs.rmSync(dir, { recursive: true, force: true });
	return 0;
}

if (require.main === module) {
	main().then(code => process.exit(code), err => {
		console.error(err);
		process.exit(1);
	});
}
