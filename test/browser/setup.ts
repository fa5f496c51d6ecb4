/**
 * Once per `npm run test:browser`: Debian's chromium must be at /usr/bin/chromium. When it is missing and
 * this runs as root, it is installed with apt (`apt-get install chromium`); otherwise the run fails saying
 * what to install. Never a browser download.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { CHROMIUM } from "./support";

export default async function setup(): Promise<void> {
	if (fs.existsSync(CHROMIUM)) return;
	if (process.getuid?.() !== 0) throw new Error(`The browser tests need Debian's chromium at ${CHROMIUM}: run "sudo apt-get install chromium".`);
	process.stderr.write(`\n${CHROMIUM} is missing: installing Debian's chromium (apt-get install chromium)…\n`);
	const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
	execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
	execFileSync("apt-get", ["install", "-y", "-qq", "chromium"], { stdio: ["ignore", "ignore", "inherit"], env });
	if (!fs.existsSync(CHROMIUM)) throw new Error(`apt-get installed chromium, but ${CHROMIUM} is still missing.`);
}
