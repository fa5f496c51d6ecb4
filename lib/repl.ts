/**
 * The REPL (moleculer-repl) as `npm run repl` starts it, with errors on one line: moleculer-repl's `call`
 * and `dcall` print an error's message, its whole stack and its data; a REPL user wants the error itself,
 * `>> ERROR: AuthRequiredError 401 AUTH_REQUIRED: Authentication required`. The commands are moleculer-repl's
 * own; only their handler is wrapped, before the REPL registers it.
 */
import type { ServiceBroker } from "moleculer";
import { REPL_COMMANDS } from "./repl-commands";

type CallHandler = (broker: ServiceBroker, args: unknown) => Promise<void>;
interface CallCommandModule {
	register(program: unknown, broker: ServiceBroker): void;
	declaration(program: unknown, broker: ServiceBroker, handler: CallHandler): void;
	handler: CallHandler;
}

/** The one-line form of an error: name, code, type and message. */
export function oneLine(err: unknown): string {
	const e = err as { name?: string; code?: unknown; type?: unknown; message?: string };
	return [e.name ?? "Error", e.code, e.type].filter(part => part != null && part !== "").join(" ") + `: ${e.message ?? String(err)}`;
}

/**
 * Runs moleculer-repl's call handler with the broker's `call` watched: when the call fails, the handler's
 * own error output (message, stack, data) is held back and one line is printed instead.
 */
export function withOneLineErrors(handler: CallHandler): CallHandler {
	return async (broker, args) => {
		let failure: unknown = null;
		const watched = Object.create(broker, {
			call: { value: (...call: Parameters<ServiceBroker["call"]>) => broker.call(...call).catch((err: unknown) => Promise.reject((failure = err))) }
		}) as ServiceBroker;
		const print = console.error;
		console.error = (...line: unknown[]) => {
			if (failure == null) print(...line);
		};
		try {
			await handler(watched, args);
		} finally {
			console.error = print;
		}
		if (failure != null) print(`>> ERROR: ${oneLine(failure)}`);
	};
}

/** Starts the REPL on `broker` (stdin/stdout), its call commands printing errors on one line, with the operators' commands. */
export function startRepl(broker: ServiceBroker): void {
	const call = require("moleculer-repl/src/commands/call.js") as CallCommandModule;
	call.register = (program, target) => call.declaration(program, target, withOneLineErrors(call.handler));
	// The operators' commands: orders, stock, recover, deadletters (lib/repl-commands.ts).
	(broker.options as { replOptions?: object }).replOptions = { customCommands: REPL_COMMANDS };
	broker.repl();
}
