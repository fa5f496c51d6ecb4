/**
 * Payments: the entity the payments service keeps, one per order (a unique index on `orderId`).
 *
 * A payment's state: `captured` may become `refunded`; `declined` is final; `voided` records that recovery
 * gave the order up before any charge, so a charge that arrives later answers `voided` instead of capturing.
 */

export const PAYMENT_STATUSES = ["captured", "declined", "refunded", "voided"] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

/** A payment as the actions return it. `amount` in minor units of `currency` (ISO 4217). */
export interface Payment {
	id: string;
	orderId: string;
	amount: number;
	currency: string;
	status: PaymentStatus;
	/** The provider's id of a captured charge (`txn_<uuid>`). */
	transactionId?: string;
	/** Why the provider declined (`card_declined`). */
	declineCode?: string;
	createdAt: string;
	updatedAt: string;
}
