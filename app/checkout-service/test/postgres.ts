/**
 * A throw-away PostgreSQL server for the order-store tests: initdb into a temporary directory,
 * listen on 127.0.0.1 and a free port, password (SCRAM) authentication, stopped and deleted after.
 *
 * PostgreSQL refuses to run as root, so as root (CI) the server runs as the `postgres` user the
 * Debian package creates. Without the binaries the suite skips, except under CI=true, where it fails:
 * CI must prove the store against a real server.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync, chownSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { freePort } from "./helpers";

const run = promisify(execFile);

export interface Postgres {
    readonly host: string;
    readonly port: number;
    readonly database: string;
    readonly user: string;
    readonly password: string;
    stop(): Promise<void>;
}

/** The bin directory of the newest installed PostgreSQL, or undefined. */
export function postgresBin(): string | undefined {
    const root = "/usr/lib/postgresql";
    if (!existsSync(root)) {
        return undefined;
    }
    const versions = readdirSync(root)
        .filter((v) => existsSync(path.join(root, v, "bin", "initdb")))
        .sort((a, b) => Number(b) - Number(a));
    return versions[0] === undefined ? undefined : path.join(root, versions[0], "bin");
}

export async function startPostgres(user: string, password: string, database = "orders"): Promise<Postgres> {
    const bin = postgresBin();
    if (bin === undefined) {
        throw new Error("PostgreSQL binaries not found under /usr/lib/postgresql/*/bin");
    }
    const asRoot = process.getuid?.() === 0;
    const dir = mkdtempSync(path.join(tmpdir(), "checkout-pg-"));
    const data = path.join(dir, "data");
    const pwfile = path.join(dir, "pw");
    writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
    if (asRoot) {
        const { stdout } = await run("id", ["-u", "postgres"]);
        const { stdout: gid } = await run("id", ["-g", "postgres"]);
        for (const p of [dir, pwfile]) {
            chownSync(p, Number(stdout.trim()), Number(gid.trim()));
        }
    }
    const exec = (cmd: string, args: string[]) =>
        asRoot
            ? run("runuser", ["-u", "postgres", "--", path.join(bin, cmd), ...args])
            : run(path.join(bin, cmd), args);

    await exec("initdb", ["-D", data, "-U", user, `--pwfile=${pwfile}`, "-A", "scram-sha-256", "--no-sync"]);
    rmSync(pwfile);
    const port = await freePort();
    await exec("pg_ctl", [
        "-D",
        data,
        "-l",
        path.join(dir, "log"),
        "-w",
        "-t",
        "30",
        "-o",
        `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off`,
        "start",
    ]);
    const stop = async (): Promise<void> => {
        await exec("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]).catch(() => undefined);
        rmSync(dir, { recursive: true, force: true });
    };
    try {
        // The database the store uses, made with the superuser initdb created (the test's user).
        const { Client } = await import("pg");
        const client = new Client({ host: "127.0.0.1", port, user, password, database: "postgres" });
        await client.connect();
        await client.query(`CREATE DATABASE ${database}`);
        await client.end();
    } catch (err) {
        await stop();
        throw err;
    }
    return { host: "127.0.0.1", port, database, user, password, stop };
}

/** Starts PostgreSQL in `before`, or skips the suite where it is not installed (never under CI). */
export function withPostgres(ctx: Mocha.Suite, user: string, password: string): () => Postgres {
    let pg: Postgres | undefined;
    ctx.beforeAll(async function () {
        this.timeout(60_000);
        if (postgresBin() === undefined && process.env.CI !== "true") {
            this.skip();
        }
        pg = await startPostgres(user, password);
    });
    ctx.afterAll(async () => {
        await pg?.stop();
    });
    return () => {
        if (pg === undefined) {
            throw new Error("PostgreSQL did not start");
        }
        return pg;
    };
}
