/**
 * The body of each route's success answer, by the name the route table uses (services/api.routes.ts
 * `response`). `npm run openapi:schemas` turns these types into JSON Schemas (lib/response-schemas.json) for
 * the OpenAPI document; a test fails when that file is older than these types.
 */
import type { Product } from "../domain/catalog";
import type { PricedCart } from "../domain/cart";
import type { Order } from "../domain/order";
import type { ProductPage, ImportResult } from "../services/products.service";
import type { OrderPage } from "../services/orders.service";
import type { Customer, Session } from "../services/customers.service";
import type { Health } from "../services/api.service";

export interface ApiResponses {
	Product: Product;
	ProductPage: ProductPage;
	ImportResult: ImportResult;
	PricedCart: PricedCart;
	Order: Order;
	OrderPage: OrderPage;
	Customer: Customer;
	Session: Session;
	Health: Health;
}
