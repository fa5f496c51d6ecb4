/**
 * JSON logs (lib/logging.ts): one object per line with time, level, nodeID, service and message, the
 * request id of the work being done (actions, events, channel handlers), the first error as `err`; and
 * LOG_FORMAT read once, refusing anything but json or pretty.
 */
import { PassThrough } from "node:stream";
import { ServiceBroker, type Context } from "moleculer";
import { inRequest, loggerOptions, requestScopeMiddleware } from "../../lib/logging";
import { traceIdOf } from "../../lib/tracing";
import { ConfigError, loadConfig } from "../../lib/config";

describe("JSON logs", () => {
	const lines: Record<string, any>[] = [];
	const stream = new PassThrough();
	stream.on("data", chunk => lines.push(...String(chunk).trim().split("\n").map(line => JSON.parse(line))));
	const broker = new ServiceBroker({ nodeID: "log-node", logger: loggerOptions("json", "info", stream), middlewares: [requestScopeMiddleware] });
	broker.createService({
		name: "greeter",
		actions: {
			hello(this: { logger: { info(m: string): void; warn(m: string, e: Error): void } }, ctx: Context<{ fail?: boolean }>) {
				if (ctx.params.fail) this.logger.warn("could not greet", new Error("no voice"));
				else this.logger.info("hello");
				return ctx.emit("greeted");
			}
		},
		events: {
			greeted(this: { logger: { info(m: string): void } }) {
				this.logger.info("was greeted");
			}
		}
	});
	beforeAll(() => broker.start());
	afterAll(() => broker.stop());
	const find = (message: string) => lines.find(line => line.message === message);

	it("writes one object per line with the request id of the action and of the events it emits", async () => {
		await broker.call("greeter.hello", {}, { requestID: "req-42" });
		const hello = find("hello");
		expect(hello).toEqual({ level: "info", time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/), nodeID: "log-node", service: "greeter", message: "hello", requestId: "req-42", traceId: traceIdOf("req-42") });
		expect(find("was greeted")).toMatchObject({ service: "greeter", requestId: "req-42" });
	});

	it("puts the first error in `err` with its message and stack", async () => {
		await broker.call("greeter.hello", { fail: true }, { requestID: "req-43" });
		expect(find("could not greet")).toMatchObject({ level: "warn", requestId: "req-43", err: { type: "Error", message: "no voice", stack: expect.stringContaining("no voice") } });
	});

	it("has no request id outside any request, and the scope's inside inRequest", () => {
		broker.logger.info("outside");
		inRequest("req-44", () => broker.logger.info("inside"));
		expect(find("outside")).not.toHaveProperty("requestId");
		expect(find("inside")).toMatchObject({ requestId: "req-44", service: "broker" });
	});

	it("reads LOG_FORMAT: json or pretty, anything else refused naming the variable", () => {
		expect(loadConfig({ LOG_FORMAT: "pretty" }).logFormat).toBe("pretty");
		expect(loadConfig({ LOG_FORMAT: "json" }).logFormat).toBe("json");
		expect(() => loadConfig({ LOG_FORMAT: "xml" })).toThrow(ConfigError);
		expect(() => loadConfig({ LOG_FORMAT: "xml" })).toThrow(/LOG_FORMAT/);
	});
});

describe("trace ids", () => {
	it("are a UUID request id without dashes, and 32 hex digits of a hash for any other request id", () => {
		expect(traceIdOf("0F8FAD5B-D9CB-469F-A165-70867728950E")).toBe("0f8fad5bd9cb469fa16570867728950e");
		expect(traceIdOf("logs-1")).toMatch(/^[0-9a-f]{32}$/);
		expect(traceIdOf("logs-1")).toBe(traceIdOf("logs-1"));
		expect(traceIdOf("logs-1")).not.toBe(traceIdOf("logs-2"));
	});
});
