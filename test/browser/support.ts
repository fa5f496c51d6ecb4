/**
 * Browser test support: Debian's chromium through playwright-core with the flags the project allows, the
 * shop started as `npm start` runs it (the compiled launcher, one process, in-memory stores, an admin account),
 * and screenshots under test-output/browser/.
 */
import fs from "node:fs";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { launch, ROOT, status, type Running } from "../process/launcher";
import { waitFor } from "../../scripts/harness";

/** Debian's chromium (apt-get install chromium). */
export const CHROMIUM = "/usr/bin/chromium";
/** Where each test's screenshot goes. */
export const OUTPUT = path.join(ROOT, "test-output/browser");
/** The admin account the shop under test creates at start (ADMIN_EMAIL, ADMIN_PASSWORD). */
export const ADMIN = { email: "admin@example.com", password: "browser-admin-password" };

/** Headless chromium with the project's flags only. */
export function launchBrowser(): Promise<Browser> {
	return chromium.launch({
		executablePath: CHROMIUM,
		args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]
	});
}

/** Resolves once `url` answers 200; fails after 30 s with the last lines `running` printed. */
export async function untilAnswers(url: string, running: Running): Promise<void> {
	try {
		await waitFor(async () => (await status(url)) === 200, `${url} to answer 200`, 30_000);
	} catch (err) {
		throw new Error(`${(err as Error).message}; its output:\n${running.text().slice(-1000)}`);
	}
}

/** The shop in one process (dist/, as `npm start` runs it) on free ports, with an admin; resolves once /api/health is 200. */
export async function startShop(env: NodeJS.ProcessEnv = {}): Promise<Running & { origin: string }> {
	const shop = await launch({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, RATE_LIMIT: "100000", AUTH_RATE_LIMIT: "1000", HEALTH_PORT: "0", METRICS_PORT: "0", ...env });
	const origin = `http://127.0.0.1:${shop.port}`;
	await untilAnswers(`${origin}/api/health`, shop);
	return { ...shop, origin };
}

/** Stops a process started here and awaits its exit. */
export async function stop(running: Running | undefined): Promise<void> {
	if (!running || running.child.exitCode !== null) return;
	running.child.kill("SIGTERM");
	await running.exited;
}

/** Saves a full-page screenshot of `page` as test-output/browser/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<string> {
	fs.mkdirSync(OUTPUT, { recursive: true });
	const file = path.join(OUTPUT, `${name}.png`);
	await page.screenshot({ path: file, fullPage: true });
	return file;
}

/** Registers a new shopper through the storefront's form; resolves once the page greets them. */
export async function register(page: Page, origin: string, name: string): Promise<string> {
	const email = `${name.toLowerCase()}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
	await page.goto(`${origin}/#/register`);
	await page.getByLabel("Name").fill(name);
	await page.getByLabel("Email").fill(email);
	await page.getByLabel(/^Password/).fill("correct-horse-battery");
	await page.getByRole("button", { name: "Create account" }).click();
	await page.getByText(`Welcome, ${name}.`).waitFor();
	return email;
}

/** Opens the product named `name` from a catalog search for `term`, and adds `quantity` units to the cart. */
export async function addToCart(page: Page, origin: string, term: string, name: string, quantity = 1): Promise<void> {
	await page.goto(`${origin}/#/`);
	await page.getByLabel("Search").fill(term);
	await page.getByRole("button", { name: "Search" }).click();
	await page.getByRole("heading", { name: `Results for “${term}”` }).waitFor();
	await page.getByRole("link", { name }).click();
	await page.getByRole("heading", { name }).waitFor();
	await page.getByLabel("Quantity").fill(String(quantity));
	await page.getByRole("button", { name: "Add to cart" }).click();
	await page.getByText(`Added ${quantity} × ${name} to your cart`).waitFor();
}
