/**
 * Order stores: where an accepted order goes. PostgreSQL when the DB_* variables are set (the
 * Deployment passes the credentials from a Kubernetes Secret), otherwise none.
 */
import { randomUUID } from "node:crypto";
import type { ConnectionOptions } from "node:tls";

import { SpanKind, SpanStatusCode, trace, type Tracer } from "@opentelemetry/api";
import { Pool } from "pg";

import type { CheckoutRequest } from "./checkout";
import type { DatabaseConfig, DbSslMode } from "./config";
import type { Logger } from "./logger";

export interface PlacedOrder {
    readonly orderId: string;
}

/** Persists an accepted order. */
export type PlaceOrder = (order: CheckoutRequest, context: { readonly requestId: string }) => Promise<PlacedOrder>;

export interface OrderStore {
    /** What the start-up log line says; never a credential. */
    readonly description: { readonly message: string; readonly fields: Readonly<Record<string, unknown>> };
    readonly placeOrder: PlaceOrder;
    /** Runs before readiness turns 200; a failure stops the start. */
    start(): Promise<void>;
    /** Runs after the last request has been answered. */
    close(): Promise<void>;
}

/** Accepts orders without keeping them: an id is all a caller gets. */
export function noOrderStore(): OrderStore {
    return {
        description: {
            message: "order store: none; orders are accepted but not persisted (no DB_* variables set)",
            fields: { orderStore: "none" },
        },
        placeOrder: async () => ({ orderId: randomUUID() }),
        start: async () => undefined,
        close: async () => undefined,
    };
}

/** A store supplied by the embedding code (tests, benchmarks). */
export function customOrderStore(placeOrder: PlaceOrder): OrderStore {
    return {
        description: { message: "order store: custom (supplied by the caller)", fields: { orderStore: "custom" } },
        placeOrder,
        start: async () => undefined,
        close: async () => undefined,
    };
}

export const ORDERS_TABLE = "checkout_orders";

/**
 * Concurrent `CREATE TABLE IF NOT EXISTS` from several pods starting at once can fail on the
 * catalog's unique index (PostgreSQL takes no lock for the existence check), so the first start
 * serialises on a transaction-scoped advisory lock. The key is arbitrary but fixed.
 */
const SCHEMA_LOCK_KEY = 4_240_617;

const SCHEMA = `CREATE TABLE IF NOT EXISTS ${ORDERS_TABLE} (
    order_id   uuid PRIMARY KEY,
    request_id text NOT NULL,
    cart_id    text NOT NULL,
    currency   char(3) NOT NULL,
    items      jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
)`;

export function sslOptions(mode: DbSslMode): false | ConnectionOptions {
    switch (mode) {
        case "disable":
            return false;
        case "require":
            return { rejectUnauthorized: false };
        case "verify-full":
            return { rejectUnauthorized: true };
    }
}

export function postgresOrderStore(options: {
    readonly database: DatabaseConfig;
    readonly poolMax: number;
    readonly logger: Logger;
    readonly tracer?: Tracer;
}): OrderStore {
    const { database: db, logger } = options;
    const tracer = options.tracer ?? trace.getTracer("checkout-service");
    const pool = new Pool({
        host: db.host,
        port: db.port,
        database: db.name,
        user: db.user.reveal(),
        password: db.password.reveal(),
        ssl: sslOptions(db.sslMode),
        max: options.poolMax,
        connectionTimeoutMillis: 5_000,
        idleTimeoutMillis: 30_000,
        application_name: "checkout-service",
    });
    // An idle client losing its connection emits 'error' on the pool; unhandled, it kills the process.
    pool.on("error", (err) => logger.warn("order store: idle connection failed", { err: { message: err.message } }));

    /** A CLIENT span per statement, named as the database semantic conventions say. */
    async function query(operation: string, text: string, values: unknown[] = []): Promise<void> {
        await tracer.startActiveSpan(
            `${operation} ${ORDERS_TABLE}`,
            {
                kind: SpanKind.CLIENT,
                attributes: {
                    "db.system.name": "postgresql",
                    "db.namespace": db.name,
                    "db.operation.name": operation,
                    "db.collection.name": ORDERS_TABLE,
                    "server.address": db.host,
                    "server.port": db.port,
                },
            },
            async (span) => {
                try {
                    await pool.query(text, values);
                } catch (err) {
                    span.recordException(err as Error);
                    span.setStatus({ code: SpanStatusCode.ERROR });
                    throw err;
                } finally {
                    span.end();
                }
            },
        );
    }

    return {
        description: {
            message: `order store: postgres at ${db.host}:${db.port}/${db.name}`,
            fields: {
                orderStore: "postgres",
                dbHost: db.host,
                dbPort: db.port,
                dbName: db.name,
                dbSslMode: db.sslMode,
            },
        },
        placeOrder: async (order, ctx) => {
            const orderId = randomUUID();
            await query(
                "INSERT",
                `INSERT INTO ${ORDERS_TABLE} (order_id, request_id, cart_id, currency, items) VALUES ($1, $2, $3, $4, $5)`,
                [orderId, ctx.requestId, order.cartId, order.currency, JSON.stringify(order.items)],
            );
            return { orderId };
        },
        start: async () => {
            const client = await pool.connect();
            try {
                await client.query("BEGIN");
                await client.query("SELECT pg_advisory_xact_lock($1)", [SCHEMA_LOCK_KEY]);
                await client.query(SCHEMA);
                await client.query("COMMIT");
            } catch (err) {
                await client.query("ROLLBACK").catch(() => undefined);
                throw err;
            } finally {
                client.release();
            }
        },
        close: () => pool.end(),
    };
}
