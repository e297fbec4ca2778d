/**
 * .ci/promote-image.sh, run for real against a fake `crane` whose registries are a text file:
 * every way a promotion could put into prod something other than the digest dev built and scanned
 * must fail, and a repeated promotion must be a no-op.
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const SCRIPT = path.join(__dirname, "..", ".ci", "promote-image.sh");
const DEV = "111111111111.dkr.ecr.eu-west-1.amazonaws.com/checkout-service";
const PROD = "222222222222.dkr.ecr.eu-west-1.amazonaws.com/checkout-service";
const D1 = `sha256:${"1".repeat(64)}`;
const D2 = `sha256:${"2".repeat(64)}`;

// Lines of "<repository> <tag or -> <digest>". `copy` appends to it (and to the copy log); with
// FAKE_COPY_DIGEST set, the copy lands under that digest instead (a registry that rewrote it).
const FAKE_CRANE = `#!/usr/bin/env bash
set -euo pipefail
db="$FAKE_REGISTRY"
lookup() { # <repository> <tag> | <repository> @<digest>
    awk -v r="$1" -v k="$2" '$1 == r && (k ~ /^@/ ? "@" $3 == k : $2 == k) { print $3; found = 1; exit } END { exit !found }' "$db"
}
split() { # repo:tag | repo@digest -> "repo key"
    if [[ "$1" == *@* ]]; then echo "\${1%@*} @\${1#*@}"; else echo "\${1%:*} \${1##*:}"; fi
}
case "$1" in
    digest) read -r repo key <<<"$(split "$2")"; lookup "$repo" "$key" || { echo "MANIFEST_UNKNOWN: $2" >&2; exit 1; } ;;
    copy)
        read -r srepo skey <<<"$(split "$2")"; read -r drepo dkey <<<"$(split "$3")"
        d="$(lookup "$srepo" "$skey")" || { echo "MANIFEST_UNKNOWN: $2" >&2; exit 1; }
        echo "$drepo $dkey \${FAKE_COPY_DIGEST:-$d}" >>"$db"; echo "$2 -> $3" >>"$FAKE_LOG" ;;
    *) echo "fake crane: unexpected $*" >&2; exit 2 ;;
esac
`;

interface Case {
    readonly name: string;
    readonly registry: string[];
    readonly ref: string;
    readonly env?: Record<string, string>;
    readonly ok: boolean;
    /** stdout on success, stderr on failure. */
    readonly expect: RegExp;
    readonly copies: string[];
}

const cases: Case[] = [
    {
        name: "copies a tag dev has into prod under the same tag, by digest",
        registry: [`${DEV} abc123 ${D1}`],
        ref: "abc123",
        ok: true,
        expect: new RegExp(`digest=${D1}\\ntag=abc123`),
        copies: [`${DEV}@${D1} -> ${PROD}:abc123`],
    },
    {
        name: "copies a digest under the tag sha256-<hex>",
        registry: [`${DEV} abc123 ${D1}`],
        ref: D1,
        ok: true,
        expect: new RegExp(`tag=sha256-${"1".repeat(64)}`),
        copies: [`${DEV}@${D1} -> ${PROD}:sha256-${"1".repeat(64)}`],
    },
    {
        name: "does nothing when prod already holds the same digest under the tag",
        registry: [`${DEV} abc123 ${D1}`, `${PROD} abc123 ${D1}`],
        ref: "abc123",
        ok: true,
        expect: /already sha256:1{64}; nothing to copy/,
        copies: [],
    },
    {
        name: "refuses a tag dev never pushed (nothing is built here)",
        registry: [`${DEV} other ${D1}`],
        ref: "abc123",
        ok: false,
        expect: /has no tag abc123: only what image\.yml built, scanned and pushed for dev/,
        copies: [],
    },
    {
        name: "refuses a digest dev's repository does not hold",
        registry: [`${DEV} abc123 ${D1}`],
        ref: D2,
        ok: false,
        expect: /has no image sha256:2{64}/,
        copies: [],
    },
    {
        name: "refuses when prod's tag already names another image",
        registry: [`${DEV} abc123 ${D1}`, `${PROD} abc123 ${D2}`],
        ref: "abc123",
        ok: false,
        expect: /already sha256:2{64}, but dev's image is sha256:1{64}/,
        copies: [],
    },
    {
        name: "fails when the copy did not keep the digest",
        registry: [`${DEV} abc123 ${D1}`],
        ref: "abc123",
        env: { FAKE_COPY_DIGEST: D2 },
        ok: false,
        expect: /is sha256:2{64} after the copy, not sha256:1{64}/,
        copies: [`${DEV}@${D1} -> ${PROD}:abc123`],
    },
    {
        name: "refuses latest",
        registry: [`${DEV} latest ${D1}`],
        ref: "latest",
        ok: false,
        expect: /neither a pinned tag nor sha256/,
        copies: [],
    },
    {
        name: "refuses a promotion onto the source repository",
        registry: [`${DEV} abc123 ${D1}`],
        ref: "abc123",
        env: { TARGET_REPOSITORY_URL: DEV },
        ok: false,
        expect: /source and target are the same repository/,
        copies: [],
    },
    {
        name: "names the missing variable",
        registry: [],
        ref: "abc123",
        env: { SOURCE_REPOSITORY_URL: "" },
        ok: false,
        expect: /SOURCE_REPOSITORY_URL is not set/,
        copies: [],
    },
];

describe(".ci/promote-image.sh (fake crane)", () => {
    let dir: string;
    before(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "promote-"));
        fs.mkdirSync(path.join(dir, "bin"));
        fs.writeFileSync(path.join(dir, "bin", "crane"), FAKE_CRANE, { mode: 0o755 });
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    for (const c of cases) {
        it(c.name, () => {
            const registry = path.join(dir, "registry");
            const log = path.join(dir, "copies");
            fs.writeFileSync(registry, c.registry.map((l) => `${l}\n`).join(""));
            fs.writeFileSync(log, "");
            const r = spawnSync("bash", [SCRIPT, c.ref], {
                encoding: "utf8",
                env: {
                    PATH: `${path.join(dir, "bin")}:${process.env.PATH ?? ""}`,
                    FAKE_REGISTRY: registry,
                    FAKE_LOG: log,
                    SOURCE_REPOSITORY_URL: DEV,
                    TARGET_REPOSITORY_URL: PROD,
                    ...c.env,
                },
            });
            assert.equal(r.status === 0, c.ok, `exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
            assert.match(c.ok ? r.stdout : r.stderr, c.expect);
            assert.deepEqual(fs.readFileSync(log, "utf8").split("\n").filter(Boolean), c.copies);
        });
    }
});
