/**
 * Crash injection for the reliability tests: `faultPoint("after_reserve")` kills this process with SIGKILL
 * when SHOP_CRASH_AT names that point, so a test can stop a node exactly between two checkout steps.
 * Ignored when NODE_ENV=production.
 */

/** The checkout steps a crash can be injected after. */
export type FaultPoint = "after_reserve" | "after_charge";

export function faultPoint(point: FaultPoint): void {
	if (process.env.NODE_ENV === "production" || process.env.SHOP_CRASH_AT !== point) return;
	process.stderr.write(`SHOP_CRASH_AT=${point}: killing this node now\n`);
	process.kill(process.pid, "SIGKILL");
}
