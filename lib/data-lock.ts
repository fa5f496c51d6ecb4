/**
 * One process per NeDB data directory. NeDB keeps a whole collection in memory and appends to its file, so
 * two processes on one DATA_DIR silently fork the data (each sees only its own writes). The embedded store
 * therefore takes an exclusive lock: a file `DATA_DIR/.lock` holding the owner's PID, created with
 * O_EXCL (atomic). A lock whose PID no longer runs (a crash, a SIGKILL) is taken over.
 */
import fs from "node:fs";
import path from "node:path";

/** Raised when another running process holds the directory. `pid` is that process. */
export class DataDirLockedError extends Error {
	constructor(
		readonly dataDir: string,
		readonly pid: number
	) {
		super(
			`DATA_DIR: ${path.resolve(dataDir)} is in use by process ${pid} (another shop, or its REPL). ` +
				"Stop that process, or give this one its own store: DATA_DIR=:memory: (nothing kept) or another directory."
		);
		this.name = "DataDirLockedError";
	}
}

/** True when a process with `pid` runs (signal 0 only checks). */
function alive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (err) {
		return (err as NodeJS.ErrnoException).code === "EPERM";
	}
}

/**
 * Locks `dataDir` (created if missing) for this process; answers a function that releases the lock (only
 * while it is still this process's). @throws DataDirLockedError when a running process holds it.
 */
export function lockDataDir(dataDir: string): () => void {
	fs.mkdirSync(dataDir, { recursive: true });
	const file = path.join(dataDir, ".lock");
	for (let attempt = 0; attempt < 3; attempt++) {
		try {
			fs.writeFileSync(file, String(process.pid), { flag: "wx" });
			return () => {
				if (fs.readFileSync(file, "utf8").trim() === String(process.pid)) fs.rmSync(file, { force: true });
			};
		} catch (err) {
			if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
		}
		const owner = Number(fs.readFileSync(file, "utf8").trim());
		if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) throw new DataDirLockedError(dataDir, owner);
		// A stale lock (its process is gone): take it over. Two processes taking over the same stale lock in the
		// very same instant could both succeed; that one case (two starts at once right after a crash) is left.
		fs.rmSync(file, { force: true });
	}
	throw new DataDirLockedError(dataDir, Number(fs.readFileSync(file, "utf8").trim()));
}
