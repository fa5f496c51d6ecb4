/**
 * The storefront in a real browser (Debian's chromium through playwright-core), used as a shopper and an
 * admin would: every step through the visible page, every assertion on visible text. Screenshots:
 * test-output/browser/.
 */
import fs from "node:fs";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { ADMIN, addToCart, launchBrowser, register, screenshot, startShop, stop } from "./support";
import { ROOT } from "../process/launcher";

/** The real 101-product catalog the project is given (never copied into it). */
const CATALOG = path.resolve(ROOT, "../shared/data/catalog.json");

describe("the storefront in chromium", () => {
	let shop: Awaited<ReturnType<typeof startShop>>;
	let browser: Browser;
	let context: BrowserContext;
	let page: Page;
	const pageErrors: string[] = [];

	beforeAll(async () => {
		[shop, browser] = await Promise.all([startShop(), launchBrowser()]);
	});
	afterAll(async () => {
		await browser?.close();
		await stop(shop);
	});
	beforeEach(async () => {
		pageErrors.length = 0;
		context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
		page = await context.newPage();
		// A script error or a resource the CSP blocked shows up here (an API's 4xx answer is expected in some tests).
		page.on("pageerror", err => pageErrors.push(String(err)));
		page.on("console", message => void (message.type() === "error" && !/status of 4\d\d/.test(message.text()) && pageErrors.push(message.text())));
	});
	afterEach(async () => {
		await context.close();
		expect(pageErrors).toEqual([]);
	});

	it("lets a shopper search, add two products, pay, see the order and cancel it", async () => {
		await register(page, shop.origin, "Ann");
		await addToCart(page, shop.origin, "Grinder", "Hand Burr Grinder");
		await addToCart(page, shop.origin, "Kettle", "Gooseneck Kettle 1 L");
		await page.getByRole("link", { name: "Cart" }).click();
		await page.getByRole("heading", { name: "Your cart" }).waitFor();
		// $89.00 + $59.00; then two kettles: $89.00 + 2 × $59.00.
		await page.getByRole("rowheader", { name: "2 items" }).waitFor();
		await page.getByRole("button", { name: "Pay $148.00" }).waitFor();
		await page.getByLabel("Quantity of Gooseneck Kettle 1 L").fill("2");
		await page.getByLabel("Quantity of Gooseneck Kettle 1 L").press("Enter");
		await page.getByRole("button", { name: "Pay $207.00" }).waitFor();
		// The keyboard stays where it was: on the quantity just changed.
		expect(await page.getByLabel("Quantity of Gooseneck Kettle 1 L").evaluate(element => element === document.activeElement)).toBe(true);
		await screenshot(page, "storefront-cart");
		await page.getByRole("combobox", { name: /^Payment/ }).selectOption("tok_visa");
		await page.getByRole("button", { name: "Pay $207.00" }).click();
		await page.getByRole("heading", { name: "Your orders" }).waitFor();
		await page.getByText(/Thank you! Order .+ is paid: \$207\.00\./).waitFor();
		const order = page.locator(".order").first();
		await order.getByText("Paid").waitFor();
		await order.getByText("2 × Gooseneck Kettle 1 L ($59.00)").waitFor();
		await order.getByText("1 × Hand Burr Grinder ($89.00)").waitFor();
		await screenshot(page, "storefront-orders");
		await order.getByRole("button", { name: "Cancel order" }).click();
		await page.getByText(/Order .+ is cancelled; the payment is refunded\./).waitFor();
		await page.locator(".order").first().getByText("Cancelled").waitFor();
		expect(await page.locator(".order").first().getByRole("button", { name: "Cancel order" }).count()).toBe(0);
		await screenshot(page, "storefront-cancelled");
		// The cart was emptied by the paid checkout.
		await page.getByRole("link", { name: "Cart" }).click();
		await page.getByText("Your cart is empty.").waitFor();
	});

	it("shows a declined card's message and keeps the cart", async () => {
		await register(page, shop.origin, "Bob");
		await addToCart(page, shop.origin, "Tea", "Sencha Green Tea 100 g", 3);
		await page.getByRole("link", { name: "Cart" }).click();
		await page.getByRole("combobox", { name: /^Payment/ }).selectOption("tok_chargeDeclined");
		await page.getByRole("button", { name: "Pay $29.70" }).click();
		await page.getByText("Payment declined: your card was declined. Your cart is kept; try another card.").waitFor();
		await screenshot(page, "storefront-declined");
		await page.reload();
		await page.getByRole("heading", { name: "Your cart" }).waitFor();
		await page.getByRole("link", { name: "Sencha Green Tea 100 g" }).waitFor();
		await page.getByRole("button", { name: "Pay $29.70" }).waitFor();
		// A malformed token is the API's 422, worded for the shopper; the cart stays too.
		await page.getByRole("combobox", { name: /^Payment/ }).selectOption("custom");
		await page.getByLabel("Payment token").fill("not-a-token");
		await page.getByRole("button", { name: "Pay $29.70" }).click();
		await page.getByText(/^(Invalid card|Please check the form): /).waitFor();
		await page.getByRole("link", { name: "Sencha Green Tea 100 g" }).waitFor();
	});

	it("is usable with a keyboard on a phone-sized screen", async () => {
		await page.setViewportSize({ width: 375, height: 740 });
		await page.goto(`${shop.origin}/`);
		await page.getByRole("heading", { name: "Catalog" }).waitFor();
		// Tab from the top of the page to the search field, then search with Enter.
		const search = page.getByLabel("Search");
		for (let i = 0; i < 12 && !(await search.evaluate(element => element === document.activeElement)); i++) await page.keyboard.press("Tab");
		expect(await search.evaluate(element => element === document.activeElement)).toBe(true);
		await page.keyboard.type("Espresso");
		await page.keyboard.press("Enter");
		await page.getByRole("heading", { name: "Results for “Espresso”" }).waitFor();
		const product = page.getByRole("link", { name: "Highland Espresso Beans 1 kg" });
		for (let i = 0; i < 12 && !(await product.evaluate(element => element === document.activeElement)); i++) await page.keyboard.press("Tab");
		expect(await product.evaluate(element => element === document.activeElement)).toBe(true);
		await page.keyboard.press("Enter");
		await page.getByRole("heading", { name: "Highland Espresso Beans 1 kg" }).waitFor();
		await page.getByText("$24.50").waitFor();
		// Nothing wider than the screen: no sideways scrolling.
		expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
		await screenshot(page, "storefront-phone");
	});

	it("filters by category, sorts by price, pages, and signs out", async () => {
		await register(page, shop.origin, "Cleo");
		await page.goto(`${shop.origin}/#/`);
		await page.getByText("15 products · page 1 of 2").waitFor();
		await page.getByRole("link", { name: "Next →" }).click();
		await page.getByText("15 products · page 2 of 2").waitFor();
		expect(await page.locator(".card").count()).toBe(3);
		await page.getByLabel("Category").selectOption("Grinders");
		await page.getByLabel("Sort").selectOption("-price");
		await page.getByRole("button", { name: "Search" }).click();
		await page.getByRole("heading", { name: "Grinders" }).waitFor();
		await page.getByText("3 products · page 1 of 1").waitFor();
		expect(await page.locator(".card-name").allTextContents()).toEqual(["Electric Burr Grinder", "Hand Burr Grinder", "Blade Grinder Compact"]);
		await page.getByRole("button", { name: "Sign out" }).click();
		await page.getByText("You are signed out.").waitFor();
		await page.getByRole("link", { name: "Sign in" }).waitFor();
		expect(await page.getByRole("link", { name: "Cart" }).count()).toBe(0);
	});

	it("lets an admin create a product that then appears in the catalog, edit it, and import a catalog file", async () => {
		expect(fs.existsSync(CATALOG)).toBe(true);
		await page.goto(`${shop.origin}/#/login`);
		await page.getByLabel("Email").fill(ADMIN.email);
		await page.getByLabel("Password").fill(ADMIN.password);
		await page.getByRole("button", { name: "Sign in" }).click();
		await page.getByRole("link", { name: "Admin" }).click();
		await page.getByRole("link", { name: "New product" }).click();
		const name = `Browser Test Mug ${Date.now()}`;
		await page.getByLabel("SKU").fill(`MUG-${Date.now()}`);
		await page.getByLabel("Name").fill(name);
		await page.getByLabel("Description").fill("A mug made by the browser test.");
		await page.getByLabel("Category").fill("Mugs");
		await page.getByLabel("Brand").fill("Testware");
		await page.getByLabel("Price").fill("12.50");
		await page.getByLabel(/^Stock/).fill("7");
		await page.getByRole("button", { name: "Create product" }).click();
		await page.getByText(new RegExp(`^${name} \\(MUG-\\d+\\) is saved\\.$`)).waitFor();
		await page.getByRole("link", { name: "Catalog", exact: true }).click();
		await page.getByLabel("Search").fill("Browser Test Mug");
		await page.getByRole("button", { name: "Search" }).click();
		const card = page.locator(".card", { hasText: name });
		await card.getByText("$12.50").waitFor();
		await card.getByText("Testware · Mugs").waitFor();
		await screenshot(page, "storefront-admin-product");
		// Edit: a new price, the shelf count untouched.
		await page.getByRole("link", { name: "Admin" }).click();
		await page.getByRole("link", { name }).click();
		await page.getByRole("heading", { name: `Edit ${name}` }).waitFor();
		await page.getByLabel("Price").fill("14.00");
		await page.getByRole("button", { name: "Save changes" }).click();
		await page.getByText(new RegExp(`^${name} \\(MUG-\\d+\\) is saved\\.$`)).waitFor();
		const row = page.getByRole("row", { name: new RegExp(name) });
		await row.getByText("$14.00").waitFor();
		expect(await row.locator("td").nth(2).textContent()).toBe("7");
		// Import the real catalog file: 101 products, in batches under the gateway's body limit.
		await page.getByLabel("Catalog file (JSON)").setInputFiles(CATALOG);
		await page.getByRole("button", { name: "Import" }).click();
		await page.getByText("Imported 101 products: 101 created, 0 updated, 0 unchanged.").waitFor();
		await page.getByRole("link", { name: "Catalog", exact: true }).click();
		await page.getByLabel("Search").fill("Wanderer Black Hiking Boots");
		await page.getByRole("button", { name: "Search" }).click();
		await page.locator(".card", { hasText: "Wanderer Black Hiking Boots" }).getByText("$109.99").waitFor();
		await page.getByLabel("Category").selectOption("Footwear");
	});
});
