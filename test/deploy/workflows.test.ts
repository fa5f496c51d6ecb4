/**
 * The GitHub Actions workflows (.github/workflows), checked offline: each passes GitHub's own workflow parser
 * (./parse-workflow.mjs), every action is pinned to an exact version, CI does what .ci/run does (NATS with
 * JetStream, Redis, the servers' binaries and promtool for the tests, npm ci, npm test, the container and HA
 * tests), and the release workflow pushes the image on a version tag only.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import YAML from "yaml";

const ROOT = path.resolve(__dirname, "../..");
const WORKFLOWS = path.join(ROOT, ".github/workflows");

/** The errors GitHub's parser reports for the workflow at `file`. */
function parserErrors(file: string): string[] {
	return JSON.parse(execFileSync(process.execPath, [path.join(__dirname, "parse-workflow.mjs"), file], { cwd: ROOT, encoding: "utf8" }));
}

const load = (name: string) => YAML.parse(fs.readFileSync(path.join(WORKFLOWS, name), "utf8"));
type Step = { uses?: string; run?: string; with?: Record<string, unknown>; env?: Record<string, string> };
const steps = (workflow: any): Step[] => Object.values(workflow.jobs as Record<string, { steps: Step[] }>).flatMap(job => job.steps);

describe("GitHub Actions workflows", () => {
	const files = fs.readdirSync(WORKFLOWS).filter(f => f.endsWith(".yml"));

	it("are ci.yml and release.yml, and GitHub's parser accepts both", () => {
		expect(files.sort()).toEqual(["ci.yml", "release.yml"]);
		for (const file of files) expect(`${file}: ${parserErrors(path.join(WORKFLOWS, file)).join("; ")}`).toBe(`${file}: `);
	});

	it("the parser rejects a misspelled key (so the check above can fail)", () => {
		const broken = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "shop-wf-")), "broken.yml");
		fs.writeFileSync(broken, fs.readFileSync(path.join(WORKFLOWS, "ci.yml"), "utf8").replace("runs-on:", "runs-onn:"));
		expect(parserErrors(broken).join("\n")).toMatch(/runs-onn/);
	});

	it("pin every action to an exact version", () => {
		const uses = files.flatMap(file => steps(load(file)).map(step => step.uses)).filter((u): u is string => Boolean(u));
		expect(uses.length).toBeGreaterThan(3);
		for (const action of uses) expect(action).toMatch(/^[\w.-]+\/[\w.-]+@(v\d+\.\d+\.\d+|[0-9a-f]{40})$/);
	});

	it("CI runs what .ci/run runs: NATS with JetStream, Redis, the servers' binaries, npm ci, npm test, then the container and HA tests", () => {
		const ci = load("ci.yml");
		expect(ci.on.push.branches).toEqual(["main"]);
		expect(Object.keys(ci.on)).toContain("pull_request");
		const job = ci.jobs.test;
		expect(job.services.redis.image).toBe(YAML.parse(fs.readFileSync(path.join(ROOT, "docker-compose.yml"), "utf8")).services.redis.image);
		const runs = job.steps.map((step: Step) => step.run).filter(Boolean) as string[];
		expect(runs.find(run => run.startsWith("docker run") && run.includes("nats"))).toMatch(/-p 4222:4222 nats:\S+ -js$/);
		// The tests' own private servers and promtool (.ci/run installs the same packages), before npm test.
		const install = runs.findIndex(run => /apt-get install .*\bnats-server\b/.test(run));
		expect(install).toBeGreaterThanOrEqual(0);
		expect(runs[install]).toMatch(/\bredis-server\b/);
		expect(runs[install]).toMatch(/\bprometheus\b/);
		const order = ["npm ci", "npm test", "npm run test:containers", "npm run test:ha"].map(command => runs.findIndex(run => run.startsWith(command)));
		expect(order.every(i => i >= 0)).toBe(true);
		expect([...order].sort((a, b) => a - b)).toEqual(order);
		expect(install).toBeLessThan(order[1]);
		const ciScript = fs.readFileSync(path.join(ROOT, ".ci/run"), "utf8");
		for (const command of ["npm ci", "npm test", "npm run test:containers", "npm run test:ha", "nats-server", "redis-server", "prometheus"]) expect(ciScript).toContain(command);
	});

	it("release builds and pushes the image on a version tag only", () => {
		const release = load("release.yml");
		expect(Object.keys(release.on)).toEqual(["push"]);
		expect(release.on.push.tags).toEqual(["v*.*.*"]);
		expect(release.permissions).toEqual({ contents: "read", packages: "write" });
		const push = steps(release).find(step => step.uses?.startsWith("docker/build-push-action@"));
		expect(push?.with).toMatchObject({ context: ".", push: true });
	});
});
