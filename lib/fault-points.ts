/**
 * Crash injection for the reliability tests: `faultPoint(config.crashAt, "after_reserve")` kills this
 * process with SIGKILL when SHOP_CRASH_AT names that point, so a test can stop a node exactly between two
 * checkout steps. `loadConfig` leaves `crashAt` null when NODE_ENV=production.
 */

/** The checkout steps a crash can be injected after. */
export type FaultPoint = "after_reserve" | "after_charge";

/** SIGKILLs this process when `crashAt` (ShopConfig.crashAt, from SHOP_CRASH_AT) is `point`. */
export function faultPoint(crashAt: string | null, point: FaultPoint): void {
	if (crashAt !== point) return;
	process.stderr.write(`SHOP_CRASH_AT=${point}: killing this node now\n`);
	process.kill(process.pid, "SIGKILL");
}
