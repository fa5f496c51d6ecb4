/**
 * The demo catalog seeded on first start when the catalog is empty: 15 products in 4 categories, written
 * for this project. Prices in cents (USD); stock in units.
 */
import type { ProductInput } from "../domain/catalog";

type Row = [sku: string, name: string, category: string, brand: string, price: number, stock: number, description: string];

const rows: Row[] = [
	["DEMO-001", "Highland Espresso Beans 1 kg", "Coffee", "Ridgeline Roasters", 2450, 40, "A dark, chocolatey espresso blend roasted for milk drinks."],
	["DEMO-002", "Morning Filter Blend 500 g", "Coffee", "Ridgeline Roasters", 1290, 60, "A bright medium roast for pour-over and drip brewers."],
	["DEMO-003", "Single-Origin Ethiopia 250 g", "Coffee", "Bean & Ledger", 1150, 25, "Floral and citrus notes from washed heirloom beans."],
	["DEMO-004", "Decaf Colombia 500 g", "Coffee", "Bean & Ledger", 1380, 30, "Sugar-cane decaffeinated, with caramel sweetness."],
	["DEMO-005", "Glass Pour-Over Dripper", "Brewing", "Kettleworks", 2900, 35, "A borosilicate cone dripper for one to four cups."],
	["DEMO-006", "Gooseneck Kettle 1 L", "Brewing", "Kettleworks", 5900, 20, "A stainless steel kettle with a slow, steady spout."],
	["DEMO-007", "French Press 8 Cup", "Brewing", "Pressmark", 3400, 45, "A double-wall steel press that keeps coffee hot."],
	["DEMO-008", "Paper Filters (100 pack)", "Brewing", "Kettleworks", 650, 200, "Unbleached paper filters for cone drippers."],
	["DEMO-009", "Hand Burr Grinder", "Grinders", "Millhouse", 8900, 15, "Conical steel burrs with 40 click settings."],
	["DEMO-010", "Electric Burr Grinder", "Grinders", "Millhouse", 17900, 10, "Flat burrs, a timed dose and a low-retention chute."],
	["DEMO-011", "Blade Grinder Compact", "Grinders", "Pressmark", 2500, 50, "A small grinder for spices and coarse coffee."],
	["DEMO-012", "Sencha Green Tea 100 g", "Tea", "Leaf Line", 990, 70, "Steamed Japanese green tea with a grassy finish."],
	["DEMO-013", "Earl Grey Loose Leaf 200 g", "Tea", "Leaf Line", 1190, 55, "Black tea scented with bergamot oil."],
	["DEMO-014", "Chamomile Blossoms 80 g", "Tea", "Meadow & Co", 850, 40, "Whole chamomile flowers for a calm evening cup."],
	["DEMO-015", "Cast Iron Teapot 0.8 L", "Tea", "Meadow & Co", 4900, 12, "An enamelled cast iron pot with a steel infuser."]
];

export const DEMO_CATALOG: readonly ProductInput[] = rows.map(([sku, name, category, brand, price, stock, description]) => ({
	sku,
	name,
	category,
	brand,
	price,
	currency: "USD",
	stock,
	description
}));
