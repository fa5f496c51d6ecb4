import { MoneyError, assertMinorUnits, lineTotal, sum } from "../../domain/money";

describe("money", () => {
	it("multiplies a unit price by a quantity in integer minor units", () => {
		expect(lineTotal(2450, 3)).toBe(7350);
		expect(lineTotal(0, 5)).toBe(0);
	});

	it("sums amounts", () => {
		expect(sum([1, 2, 3])).toBe(6);
		expect(sum([])).toBe(0);
	});

	it.each([1.5, -1, Number.NaN, Number.MAX_SAFE_INTEGER + 2])("rejects %p as an amount", amount => {
		expect(() => assertMinorUnits(amount)).toThrow(MoneyError);
	});

	it("rejects fractional quantities and totals past the safe-integer range", () => {
		expect(() => lineTotal(100, 1.5)).toThrow(MoneyError);
		expect(() => lineTotal(Number.MAX_SAFE_INTEGER, 2)).toThrow(MoneyError);
		expect(() => sum([Number.MAX_SAFE_INTEGER, 1])).toThrow(MoneyError);
	});
});
