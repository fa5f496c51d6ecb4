/**
 * The load generator's page in chromium: a 10-second run at a low rate against the shop, started from the
 * page's form; its live charts and figures show non-zero throughput, and the run ends by itself.
 */
import type { Browser } from "playwright-core";
import { freePort } from "../../scripts/net";
import { launch } from "../process/launcher";
import { launchBrowser, screenshot, startShop, stop, untilAnswers } from "./support";

describe("the load generator's page in chromium", () => {
	let shop: Awaited<ReturnType<typeof startShop>>;
	let loadgen: Awaited<ReturnType<typeof launch>> | undefined;
	let browser: Browser;
	let page: string;

	beforeAll(async () => {
		[shop, browser] = await Promise.all([startShop(), launchBrowser()]);
		const port = await freePort();
		loadgen = await launch({ SERVICES: "loadgen", LOADGEN_TARGET: shop.origin, LOADGEN_PORT: String(port), HEALTH_PORT: "0", METRICS_PORT: "0" });
		page = `http://127.0.0.1:${port}/loadgen/`;
		await untilAnswers(page, loadgen);
	});
	afterAll(async () => {
		await browser?.close();
		await Promise.all([stop(loadgen), stop(shop)]);
	});

	it("starts a 10-second run at 4 journeys/s and charts non-zero throughput", async () => {
		const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
		const tab = await context.newPage();
		const problems: string[] = [];
		tab.on("pageerror", err => problems.push(String(err)));
		tab.on("console", message => void (message.type() === "error" && problems.push(message.text())));
		await tab.goto(page);
		await tab.getByText(`Target: ${shop.origin}`).waitFor();
		await tab.getByText("Idle: no run yet").waitFor();
		await tab.getByLabel("Rate (journeys/s)").fill("4");
		await tab.getByLabel("Users").fill("5");
		await tab.getByLabel("Ramp (s)").fill("0");
		await tab.getByLabel("Duration (s)").fill("10");
		await tab.getByRole("button", { name: "Start" }).click();
		await tab.getByText(/^Running: /).waitFor();
		// The throughput chart's caption reads the points it draws: a non-zero "now" figure.
		const caption = tab.locator("#throughput-caption");
		await caption.filter({ hasText: /^now (?!0\.0,)\d+\.\d, peak \d+\.\d over ([5-9]|\d\d) s$/ }).waitFor({ timeout: 15_000 });
		expect(await tab.locator("#throughput-chart canvas").count()).toBe(1);
		expect(await tab.locator("#latency-chart canvas").count()).toBe(1);
		await tab.getByRole("rowheader", { name: "GET /products/:id" }).waitFor();
		await screenshot(tab, "loadgen-running");
		await tab.getByText(/^Stopped \(duration reached\) after 1\d s$/).waitFor({ timeout: 20_000 });
		const peak = Number(/peak (\d+\.\d)/.exec((await caption.textContent()) ?? "")?.[1]);
		expect(peak).toBeGreaterThan(0);
		const browseRequests = Number(await tab.getByRole("row", { name: /^GET \/products\/:id / }).locator("td").nth(1).textContent());
		expect(browseRequests).toBeGreaterThan(0);
		expect(await tab.locator("#errors").textContent()).toMatch(/^0 /);
		await screenshot(tab, "loadgen-finished");
		expect(problems).toEqual([]);
		await context.close();
	});
});
