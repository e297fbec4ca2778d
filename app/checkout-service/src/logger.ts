import { context, isSpanContextValid, trace } from "@opentelemetry/api";

import { LOG_LEVELS, type LogLevel } from "./config";

export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
    debug(msg: string, fields?: LogFields): void;
    info(msg: string, fields?: LogFields): void;
    warn(msg: string, fields?: LogFields): void;
    error(msg: string, fields?: LogFields): void;
}

/** Where finished lines go; one call per line, newline included. */
export type LogSink = (line: string) => void;

export const stdoutSink: LogSink = (line) => {
    process.stdout.write(line);
};

/**
 * The active span's ids in the field names OpenTelemetry specifies for logs outside OTLP
 * ("Trace Context in non-OTLP Log Formats"), so a log line leads to its trace. Empty when no
 * span is active or tracing is off (the no-op tracer's spans carry an invalid context).
 */
export function traceFields(): { trace_id?: string; span_id?: string } {
    const spanContext = trace.getSpan(context.active())?.spanContext();
    if (spanContext === undefined || !isSpanContextValid(spanContext)) {
        return {};
    }
    return { trace_id: spanContext.traceId, span_id: spanContext.spanId };
}

/**
 * One JSON object per line on stdout, which the node's log agent ships as-is. The fixed keys
 * come first so a human tailing the pod can still read it.
 */
export function createLogger(options: { level: LogLevel; service: string; sink?: LogSink; now?: () => Date }): Logger {
    const sink = options.sink ?? stdoutSink;
    const now = options.now ?? (() => new Date());
    const threshold = LOG_LEVELS.indexOf(options.level);

    const write = (level: LogLevel, msg: string, fields?: LogFields): void => {
        if (LOG_LEVELS.indexOf(level) < threshold) {
            return;
        }
        const record = { time: now().toISOString(), level, service: options.service, msg, ...traceFields(), ...fields };
        sink(`${JSON.stringify(record, errorReplacer)}\n`);
    };

    return {
        debug: (msg, fields) => write("debug", msg, fields),
        info: (msg, fields) => write("info", msg, fields),
        warn: (msg, fields) => write("warn", msg, fields),
        error: (msg, fields) => write("error", msg, fields),
    };
}

/** `JSON.stringify(new Error())` is `{}`; keep what helps an on-call engineer. */
function errorReplacer(_key: string, value: unknown): unknown {
    if (value instanceof Error) {
        return { name: value.name, message: value.message, stack: value.stack };
    }
    return value;
}
