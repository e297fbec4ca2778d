/** Small node:http helpers: JSON responses, bounded body reading, header parsing. */
import type { IncomingMessage, ServerResponse } from "node:http";

/** Sends `body` as JSON with an exact Content-Length (so keep-alive works without chunking). */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
    const payload = Buffer.from(JSON.stringify(body));
    res.statusCode = status;
    res.setHeader("content-type", "application/json; charset=utf-8");
    res.setHeader("content-length", payload.length);
    res.setHeader("cache-control", "no-store");
    res.end(payload);
}

export type BodyResult =
    { readonly kind: "ok"; readonly body: Buffer } | { readonly kind: "too_large" } | { readonly kind: "aborted" };

/**
 * Reads the request body, giving up as soon as more than `limitBytes` arrived: the excess is never
 * buffered and the caller answers 413 and closes the connection.
 */
export function readBody(req: IncomingMessage, limitBytes: number): Promise<BodyResult> {
    return new Promise((resolve) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const finish = (result: BodyResult): void => {
            req.off("data", onData);
            req.off("end", onEnd);
            req.off("close", onClose);
            req.off("error", onClose);
            resolve(result);
        };
        const onData = (chunk: Buffer): void => {
            size += chunk.length;
            if (size > limitBytes) {
                req.pause();
                finish({ kind: "too_large" });
                return;
            }
            chunks.push(chunk);
        };
        const onEnd = (): void => finish({ kind: "ok", body: Buffer.concat(chunks, size) });
        // The client went away mid-body; there is nobody left to answer.
        const onClose = (): void => finish({ kind: "aborted" });
        req.on("data", onData);
        req.on("end", onEnd);
        req.on("close", onClose);
        req.on("error", onClose);
    });
}

/** `application/json; charset=utf-8` -> { type: "application/json", charset: "utf-8" }. */
export function parseContentType(header: string | undefined): { type: string; charset?: string } | undefined {
    if (header === undefined || header.trim() === "") {
        return undefined;
    }
    const [type = "", ...params] = header.split(";");
    let charset: string | undefined;
    for (const param of params) {
        const [key = "", value = ""] = param.split("=");
        if (key.trim().toLowerCase() === "charset") {
            charset = value.trim().replace(/^"|"$/g, "").toLowerCase();
        }
    }
    return { type: type.trim().toLowerCase(), charset };
}

/** An incoming request id we are willing to echo and log; anything else gets a fresh one. */
export function acceptableRequestId(value: string | string[] | undefined): string | undefined {
    const id = Array.isArray(value) ? value[0] : value;
    return id !== undefined && /^[A-Za-z0-9._:=\-]{1,128}$/.test(id) ? id : undefined;
}
