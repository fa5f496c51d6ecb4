/** Paging shared by every list action: params rules, the page shape, and the offset arithmetic. */

/** fastest-validator rules of `page` (1-based) and `pageSize` (1..100, default 20); query strings convert. */
export const pageParamRules = {
	page: { type: "number", integer: true, min: 1, max: 100_000, convert: true, default: 1 },
	pageSize: { type: "number", integer: true, min: 1, max: 100, convert: true, default: 20 }
} as const;

export interface PageParams {
	page: number;
	pageSize: number;
}

/** One page of a list: `total` rows in all, `totalPages` pages of `pageSize`. */
export interface Page<T> extends PageParams {
	rows: T[];
	total: number;
	totalPages: number;
}

/** The store's `limit`/`offset` for a page. */
export function pageWindow({ page, pageSize }: PageParams): { limit: number; offset: number } {
	return { limit: pageSize, offset: (page - 1) * pageSize };
}

/** Assembles a page from its rows and the total count. */
export function toPage<T>(rows: T[], total: number, { page, pageSize }: PageParams): Page<T> {
	return { rows, total, page, pageSize, totalPages: Math.ceil(total / pageSize) };
}
