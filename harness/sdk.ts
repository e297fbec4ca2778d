/**
 * Every point where the harness touches the Pulumi SDK's runtime, all of it declared in the SDK's
 * published .d.ts files (no `@internal` function, no cast to reach one):
 *
 * - `pulumi.runtime.setMocks` installs the SDK's own `MockMonitor` and switches on the monitor
 *   features mocks support, exactly as for any mocked unit test (@pulumi/pulumi 3.276.0
 *   runtime/mocks.js `setMocks`);
 * - `pulumi.runtime.getMonitor()` returns that monitor; its public `registerResource(req, callback)`
 *   is the resource monitor's gRPC method, which the SDK calls once per resource with the full
 *   request (parent, dependencies, providers, options, inputs in wire form). The harness records the
 *   request there and hands it on unchanged;
 * - `pulumi.runtime.disconnect()` waits until every pending registration has been answered, before
 *   the run's resources are read (see `drainRegistrations` for resources created inside `apply`).
 *
 * If a new SDK changes any of this, the harness fails with a message naming what changed
 * (test/harness.test.ts exercises each check), instead of recording a partial graph.
 */
import * as pulumi from "@pulumi/pulumi";
import type { RegisterResourceRequest } from "@pulumi/pulumi/proto/resource_pb";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { version as sdkVersion } from "@pulumi/pulumi/version";

type Callback = (err: unknown, resp?: unknown) => void;

/**
 * Called for every registration before the mocks answer it; the function it returns receives the
 * URN the mock engine assigned (undefined when the registration failed).
 */
export type RegistrationListener = (req: RegisterResourceRequest) => (urn: string | undefined) => void;

/** The monitor `setMocks` installed, checked to be the SDK's MockMonitor (what the harness can wrap). */
export function mockMonitorOf(monitor: unknown): MockMonitor {
    if (monitor instanceof MockMonitor) return monitor;
    const got =
        monitor === undefined || monitor === null
            ? String(monitor)
            : `an instance of ${(monitor as object).constructor?.name ?? "an unknown class"}`;
    throw new Error(
        `harness: after pulumi.runtime.setMocks, pulumi.runtime.getMonitor() returned ${got}, not the ` +
            `MockMonitor of @pulumi/pulumi ${sdkVersion} (from @pulumi/pulumi/runtime/mocks). Either the SDK ` +
            `changed how setMocks installs its monitor, or node_modules holds two copies of @pulumi/pulumi ` +
            `(npm ls @pulumi/pulumi). Registrations cannot be recorded; see harness/sdk.ts.`,
    );
}

/**
 * Installs the SDK's mocks for one run and reports every `registerResource` call to `listener`.
 * Returns the monitor, for `unrecordedResources` once the run is over.
 */
export async function installRecordingMocks(
    mocks: pulumi.runtime.Mocks,
    opts: { project: string; stack: string; preview: boolean },
    listener: RegistrationListener,
): Promise<MockMonitor> {
    await pulumi.runtime.setMocks(mocks, opts.project, opts.stack, opts.preview);
    const monitor = mockMonitorOf(pulumi.runtime.getMonitor());
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: RegisterResourceRequest, callback: Callback) => {
        const done = listener(req);
        return register(req, (err: unknown, resp?: unknown) => {
            done(err ? undefined : (resp as { getUrn(): string } | undefined)?.getUrn());
            callback(err, resp);
        });
    };
    return monitor;
}

/**
 * Waits until no registration is in flight and none is about to start. `disconnect()` (public; the
 * next run installs the mocks anew) waits for the registrations under way, but a resource the
 * program creates inside an `apply` on another resource's output is constructed only after that
 * output resolves, which can be after the wait returned: so let pending callbacks run (one
 * macrotask turn) and wait again until a round starts no new registration. `started` counts the
 * registerResource calls so far.
 */
export async function drainRegistrations(started: () => number): Promise<void> {
    for (;;) {
        const before = started();
        await pulumi.runtime.disconnect();
        await new Promise((resolve) => setImmediate(resolve));
        if (started() === before) return;
    }
}

/**
 * Resources the mock monitor holds that the harness never saw: non-empty when the SDK registered
 * something without `registerResource` (e.g. a read, or a new RPC), which would make every graph
 * assertion silently partial.
 */
export function unrecordedResources(monitor: MockMonitor, recordedUrns: Iterable<string>): string[] {
    const seen = new Set(recordedUrns);
    return [...monitor.resources.keys()].filter((urn) => !seen.has(urn)).sort();
}

/** The error for `unrecordedResources`' findings. */
export function unrecordedError(urns: readonly string[]): Error {
    return new Error(
        `harness: @pulumi/pulumi ${sdkVersion} registered ${urns.length} resource(s) without calling ` +
            `MockMonitor.registerResource, so the harness did not record them: ${urns.join(", ")}. ` +
            `Record that path too in harness/sdk.ts (a resource read with .get() goes through readResource).`,
    );
}
