/** The slice of autocannon 9 the load test uses (the package ships no types). */
declare module "autocannon" {
    namespace autocannon {
        interface Options {
            url: string;
            connections?: number;
            /** Seconds. */
            duration?: number;
            method?: string;
            headers?: Record<string, string>;
            body?: string;
            timeout?: number;
        }
        interface Stats {
            average: number;
            mean: number;
            stddev: number;
            min: number;
            max: number;
            p50: number;
            p90: number;
            p99: number;
            total: number;
        }
        interface Result {
            requests: Stats;
            /** Milliseconds. */
            latency: Stats;
            errors: number;
            timeouts: number;
            non2xx: number;
            statusCodeStats: Record<string, { count: number }>;
        }
    }
    function autocannon(options: autocannon.Options): Promise<autocannon.Result>;
    export = autocannon;
}
