/**
 * The load generator's journeys: what a virtual shopper does against the shop's public HTTP API, like the
 * tasks of Online Boutique's Locust load generator. A journey is a short sequence of named steps (one HTTP
 * request each); the step labels are stable, they label the metrics. A journey stops at its first error.
 *
 * Plain module: it knows the HTTP API only, never the services. The engine (./engine) supplies the
 * requests through a `JourneyContext`, so the journeys can be run against any gateway (or a fake one).
 */
import { randomBytes, randomUUID } from "node:crypto";

/** The step labels: one per kind of request, used as metric labels (keep them stable). */
export const STEP_LABELS = [
	"GET /products",
	"GET /products?q",
	"GET /products/:id",
	"POST /cart/items",
	"GET /cart",
	"POST /orders (paid)",
	"POST /orders (declined)",
	"GET /orders",
	"POST /orders/:id/cancel",
	"POST /auth/register",
	"POST /auth/login"
] as const;

/** One step label of `STEP_LABELS`. */
export type StepLabel = (typeof STEP_LABELS)[number];

/**
 * Journey name → relative weight: a journey is picked with probability weight / sum of the weights
 * (browse and view product 10 times as often as a paid checkout).
 */
export const JOURNEY_WEIGHTS = {
	browse: 10,
	search: 3,
	"view product": 10,
	"add to cart": 2,
	"view cart": 3,
	"checkout paid": 1,
	"checkout declined": 1,
	cancel: 1
} as const;

/** One journey name, a key of `JOURNEY_WEIGHTS`. */
export type JourneyName = keyof typeof JOURNEY_WEIGHTS;

/** The journey names, in the order of `JOURNEY_WEIGHTS`. */
export const JOURNEY_NAMES = Object.keys(JOURNEY_WEIGHTS) as JourneyName[];

/** How a journey ended: all its steps succeeded, one failed (it stopped there), or the run stopped it between steps. */
export type JourneyOutcome = "completed" | "failed" | "interrupted";

/** The answer of one step: `ok` when the status was an expected one; `status` 0 for a network error or a timeout; the parsed JSON body, if any. */
export interface StepAnswer {
	ok: boolean;
	status: number;
	body: unknown;
}

/** One request of a step: a JSON `body`, the session's bearer `token`, extra `headers`, the `expect`ed statuses (default 200 and 201). */
export interface StepRequest {
	body?: unknown;
	token?: string;
	headers?: Record<string, string>;
	expect?: readonly number[];
}

/** A virtual user's state kept between its journeys: its id (0-based) and its session token once registered. */
export interface VirtualUser {
	readonly id: number;
	token: string | null;
	/** The password it registered with (null until registered): a refused session signs in again with it. */
	password: string | null;
}

/** What a journey needs from the engine. */
export interface JourneyContext {
	/** Uniform random number in [0, 1). */
	random(): number;
	/** What the run has learnt of the catalog, shared by every user. */
	catalog: Catalog;
	/** The user running the journey. */
	user: VirtualUser;
	/** Token unique to the run, part of the registered e-mail addresses. */
	runToken: string;
	/** Sends one request (`path` below /api, e.g. "/products"), records it under `step`, and answers. Never throws. */
	request(step: StepLabel, method: "GET" | "POST", path: string, request?: StepRequest): Promise<StepAnswer>;
	/** False once the run is stopping: the journey takes no further step. */
	active(): boolean;
}

/** Most product ids and name words remembered (bounded memory whatever the catalog size). */
const MAX_KNOWN = 1000;

/**
 * What the run has learnt from the answers: the number of pages of the product list (page size 20), product
 * ids and words of product names. Bounded: past `MAX_KNOWN` entries, a new one replaces a random one.
 */
export class Catalog {
	/** Pages of the product list at 20 a page, from the first list answer; null until then. */
	totalPages: number | null = null;
	/** Known product ids (at most `MAX_KNOWN`). */
	readonly ids: string[] = [];
	/** Known words of product names (at most `MAX_KNOWN`). */
	readonly words: string[] = [];
	private readonly seenIds = new Set<string>();
	private readonly seenWords = new Set<string>();

	constructor(private readonly random: () => number = Math.random) {}

	/**
	 * Learns the products of an answer: a page `{rows, totalPages}` or one product `{id, name}`; ignores
	 * anything else. `pages`: the answer is the unfiltered list at 20 a page, whose `totalPages` is kept (once).
	 */
	learn(body: unknown, pages = false): void {
		if (!isObject(body)) return;
		if (Array.isArray(body.rows)) {
			if (pages && this.totalPages === null && typeof body.totalPages === "number") this.totalPages = body.totalPages;
			for (const row of body.rows) this.learnProduct(row);
		} else {
			this.learnProduct(body);
		}
	}

	/** A random known product id, or null when none is known yet. */
	randomId(random: () => number): string | null {
		return this.ids.length === 0 ? null : this.ids[Math.floor(random() * this.ids.length)];
	}

	/** A random word of a known product name (3+ letters, lower case), "a" when none is known. */
	randomWord(random: () => number): string {
		return this.words.length === 0 ? "a" : this.words[Math.floor(random() * this.words.length)];
	}

	private learnProduct(product: unknown): void {
		if (!isObject(product) || typeof product.id !== "string") return;
		this.remember(this.ids, this.seenIds, product.id);
		if (typeof product.name !== "string") return;
		for (const word of product.name.toLowerCase().split(/[^\p{L}\p{N}]+/u)) {
			if (word.length >= 3) this.remember(this.words, this.seenWords, word);
		}
	}

	private remember(list: string[], seen: Set<string>, value: string): void {
		if (seen.has(value)) return;
		seen.add(value);
		if (list.length < MAX_KNOWN) {
			list.push(value);
			return;
		}
		const i = Math.floor(this.random() * list.length);
		seen.delete(list[i]);
		list[i] = value;
	}
}

/** One journey: its name, weight, the labels of the steps it may take (in order) and its run. */
export interface Journey {
	name: JourneyName;
	weight: number;
	steps: readonly StepLabel[];
	run(ctx: JourneyContext): Promise<JourneyOutcome>;
}

/** Picks a journey name according to `JOURNEY_WEIGHTS` with one draw of `random` (uniform in [0, 1)). */
export function pickJourney(random: () => number): JourneyName {
	const total = JOURNEY_NAMES.reduce((sum, name) => sum + JOURNEY_WEIGHTS[name], 0);
	let draw = random() * total;
	for (const name of JOURNEY_NAMES) {
		draw -= JOURNEY_WEIGHTS[name];
		if (draw < 0) return name;
	}
	return JOURNEY_NAMES[JOURNEY_NAMES.length - 1];
}

/** Thrown inside a journey to end it: at a failed step, or when the run stops between steps. */
class JourneyEnd {
	constructor(readonly outcome: JourneyOutcome) {}
}

/** Sends one step, ending the journey at an error (a 401 also drops the user's session) or when the run is stopping. */
async function step(ctx: JourneyContext, label: StepLabel, method: "GET" | "POST", path: string, request?: StepRequest): Promise<StepAnswer> {
	if (!ctx.active()) throw new JourneyEnd("interrupted");
	const answer = await ctx.request(label, method, path, request);
	if (!answer.ok) {
		// An expired or refused session: the user registers again on its next journey that needs one.
		if (answer.status === 401 && request?.token) ctx.user.token = null;
		throw new JourneyEnd("failed");
	}
	return answer;
}

/**
 * The user's session token: registering the user the first time (`POST /auth/register`, 201 `{token}`), signing
 * in again after its session was refused (`POST /auth/login`, 200 `{token}`).
 */
async function session(ctx: JourneyContext): Promise<string> {
	if (ctx.user.token) return ctx.user.token;
	const i = ctx.user.id;
	const email = `loadgen-${ctx.runToken}-${i}@example.com`;
	const again = ctx.user.password !== null;
	const password = (ctx.user.password ??= randomBytes(18).toString("base64url"));
	const answer = again
		? await step(ctx, "POST /auth/login", "POST", "/auth/login", { body: { email, password }, expect: [200] })
		: await step(ctx, "POST /auth/register", "POST", "/auth/register", { body: { email, password, name: `Load generator ${i}` }, expect: [201] });
	if (!isObject(answer.body) || typeof answer.body.token !== "string") {
		throw new JourneyEnd("failed");
	}
	ctx.user.token = answer.body.token;
	return answer.body.token;
}

/** Lists a page of products (page 1 while the number of pages is unknown) and learns them. */
async function browse(ctx: JourneyContext): Promise<void> {
	const pages = ctx.catalog.totalPages;
	const page = pages && pages > 1 ? 1 + Math.floor(ctx.random() * pages) : 1;
	const answer = await step(ctx, "GET /products", "GET", `/products?page=${page}&pageSize=20`);
	ctx.catalog.learn(answer.body, true);
}

/** A random known product id, browsing first when none is known; null for an empty catalog. */
async function productId(ctx: JourneyContext): Promise<string | null> {
	if (ctx.catalog.ids.length === 0) await browse(ctx);
	return ctx.catalog.randomId(ctx.random);
}

/** Puts one unit of a random product in the user's cart (registering first if needed); false for an empty catalog. */
async function addToCart(ctx: JourneyContext): Promise<boolean> {
	const id = await productId(ctx);
	if (id === null) return false;
	const token = await session(ctx);
	await step(ctx, "POST /cart/items", "POST", "/cart/items", { token, body: { productId: id, quantity: 1 } });
	return true;
}

/** Turns a journey body into its run: the outcome of the first failed step, or "completed". */
function journey(name: JourneyName, steps: readonly StepLabel[], body: (ctx: JourneyContext) => Promise<void>): Journey {
	return {
		name,
		weight: JOURNEY_WEIGHTS[name],
		steps,
		async run(ctx) {
			try {
				await body(ctx);
				return "completed";
			} catch (err) {
				if (err instanceof JourneyEnd) return err.outcome;
				throw err;
			}
		}
	};
}

/** Checks out the cart with a payment token, after adding a product; a paid order answers 201, a declined payment 402 (the shop keeps the cart). */
function checkout(name: JourneyName, label: StepLabel, paymentToken: string, status: number): Journey {
	return journey(name, ["GET /products", "POST /auth/register", "POST /cart/items", label], async ctx => {
		if (!(await addToCart(ctx))) return;
		const token = await session(ctx);
		await step(ctx, label, "POST", "/orders", { token, body: { paymentToken }, headers: { "Idempotency-Key": randomUUID() }, expect: [status] });
	});
}

/**
 * Every journey by name. A journey takes the steps of its `steps` in order, skipping those it does not need
 * (no registration once the user has a session, no listing once product ids are known, no cancel without a
 * paid order). With an empty catalog, the journeys needing a product end "completed" after the listing.
 */
export const JOURNEYS: Record<JourneyName, Journey> = {
	browse: journey("browse", ["GET /products"], browse),
	search: journey("search", ["GET /products?q"], async ctx => {
		const answer = await step(ctx, "GET /products?q", "GET", `/products?q=${encodeURIComponent(ctx.catalog.randomWord(ctx.random))}`);
		ctx.catalog.learn(answer.body);
	}),
	"view product": journey("view product", ["GET /products", "GET /products/:id"], async ctx => {
		const id = await productId(ctx);
		if (id === null) return;
		const answer = await step(ctx, "GET /products/:id", "GET", `/products/${encodeURIComponent(id)}`);
		ctx.catalog.learn(answer.body);
	}),
	"add to cart": journey("add to cart", ["GET /products", "POST /auth/register", "POST /cart/items"], async ctx => {
		await addToCart(ctx);
	}),
	"view cart": journey("view cart", ["POST /auth/register", "GET /cart"], async ctx => {
		await step(ctx, "GET /cart", "GET", "/cart", { token: await session(ctx) });
	}),
	"checkout paid": checkout("checkout paid", "POST /orders (paid)", "tok_visa", 201),
	"checkout declined": checkout("checkout declined", "POST /orders (declined)", "tok_chargeDeclined", 402),
	cancel: journey("cancel", ["POST /auth/register", "GET /orders", "POST /orders/:id/cancel"], async ctx => {
		const token = await session(ctx);
		const answer = await step(ctx, "GET /orders", "GET", "/orders?pageSize=20", { token });
		// The list is newest first: cancel the most recent paid order, if any.
		const rows = isObject(answer.body) && Array.isArray(answer.body.rows) ? answer.body.rows : [];
		const paid = rows.find(row => isObject(row) && row.status === "paid");
		const id = isObject(paid) ? (paid.id ?? paid._id) : undefined;
		if (typeof id !== "string") return;
		await step(ctx, "POST /orders/:id/cancel", "POST", `/orders/${encodeURIComponent(id)}/cancel`, { token });
	})
};

function isObject(value: unknown): value is Record<string, unknown> {
	return typeof value === "object" && value !== null && !Array.isArray(value);
}
