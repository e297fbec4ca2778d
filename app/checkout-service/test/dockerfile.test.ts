import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

import {
    checkDockerfile,
    contextSources,
    isIncluded,
    isPinnedImage,
    parseDockerfile,
    parseInstructions,
} from "./dockerfile";

const appDir = path.resolve(__dirname, "..");
/** The build context is the repository root (see the Dockerfile header and README). */
const contextDir = path.resolve(appDir, "..", "..");
const dockerfile = fs.readFileSync(path.join(appDir, "Dockerfile"), "utf8");
const dockerignore = fs.readFileSync(path.join(appDir, "Dockerfile.dockerignore"), "utf8");
/** The exact Node version the repository's tests and CI run (.ci/node.sh, setup-node). */
const nvmrc = fs.readFileSync(path.join(contextDir, ".nvmrc"), "utf8").trim();
/** The base image line as written, whatever version it names (the mutations below start from it). */
const baseArg = /^ARG NODE_IMAGE=.*$/m.exec(dockerfile)?.[0] ?? "ARG NODE_IMAGE=(missing)";

/** The real Dockerfile with one line changed; fails the test if `from` is not in it. */
function mutate(from: string | RegExp, to: string): string {
    const changed = dockerfile.replace(from, to);
    assert.notEqual(changed, dockerfile, `mutation target ${String(from)} not found in the Dockerfile`);
    return changed;
}

function filesUnder(dir: string): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
        const full = path.join(dir, entry.name);
        return entry.isDirectory() ? filesUnder(full) : [full];
    });
}

describe("checkout-service Dockerfile", () => {
    describe("parser", () => {
        it("joins continuations, skips comments, reads flags", () => {
            const instructions = parseInstructions(
                [
                    "# syntax=docker/dockerfile:1",
                    "FROM node:24.22.3 AS build",
                    "RUN --mount=type=cache,target=/x \\",
                    "    # comment inside",
                    "    npm ci",
                    "COPY --from=build /a ./b",
                ].join("\n"),
            );
            assert.deepEqual(
                instructions.map((i) => [i.keyword, i.rest, i.flags, i.line]),
                [
                    ["FROM", "node:24.22.3 AS build", {}, 2],
                    ["RUN", "npm ci", { mount: "type=cache,target=/x" }, 3],
                    ["COPY", "/a ./b", { from: "build" }, 6],
                ],
            );
        });

        it("substitutes global ARG defaults into FROM", () => {
            const parsed = parseDockerfile("ARG BASE=node:24.22.3-trixie-slim\nFROM ${BASE} AS one\nFROM $BASE\n");
            assert.deepEqual(
                parsed.stages.map((s) => [s.name, s.base]),
                [
                    ["one", "node:24.22.3-trixie-slim"],
                    [undefined, "node:24.22.3-trixie-slim"],
                ],
            );
        });

        const images: Array<[string, boolean]> = [
            ["node:24.22.3-trixie-slim", true],
            ["node:24.22.3", true],
            [`node@sha256:${"a".repeat(64)}`, true],
            [`node:24.22.3-trixie-slim@sha256:${"a".repeat(64)}`, true],
            ["node:latest", false],
            ["node", false],
            ["node:24", false],
            ["node:24-slim", false],
            ["node:lts-bookworm-slim", false],
        ];
        for (const [image, pinned] of images) {
            it(`treats ${image} as ${pinned ? "pinned" : "not pinned"}`, () => {
                assert.equal(isPinnedImage(image), pinned);
            });
        }
    });

    describe("invariants", () => {
        it("holds for the real Dockerfile", () => {
            assert.deepEqual(checkDockerfile(dockerfile), []);
        });

        it("is multi-stage, with a runtime stage last that builds on the same pinned Node", () => {
            const { stages } = parseDockerfile(dockerfile);
            assert.deepEqual(
                stages.map((s) => s.name),
                ["build", "prod-deps", "runtime"],
            );
            assert.equal(new Set(stages.map((s) => s.base)).size, 1, "every stage builds on NODE_IMAGE");
        });

        it("runs the Node version of .nvmrc, on Debian slim (a digest may follow the tag)", () => {
            assert.match(nvmrc, /^24\.\d+\.\d+$/, ".nvmrc must name one exact Node 24 version");
            const base = parseDockerfile(dockerfile).stages[0]?.base ?? "";
            assert.match(
                base,
                new RegExp(`^node:${nvmrc.replace(/\./g, "\\.")}-(trixie|bookworm)-slim(@sha256:[0-9a-f]{64})?$`),
                `NODE_IMAGE is ${base}; it must be node:${nvmrc}-<debian>-slim, the version in .nvmrc`,
            );
        });

        it("compiles with the app's tsconfig in the build stage", () => {
            const build = parseDockerfile(dockerfile).stages.find((s) => s.name === "build");
            assert.ok(
                build?.instructions.some(
                    (i) => i.keyword === "RUN" && /tsc -p app\/checkout-service\/tsconfig\.json/.test(i.rest),
                ),
            );
        });

        // Each mutation breaks one rule; the checker must notice. This is what keeps the test honest.
        const mutations: Array<[string, () => string, RegExp]> = [
            [
                "a single stage",
                () =>
                    'FROM node:24.22.3-trixie-slim\nUSER 10001:10001\nEXPOSE 8080 9464\nENV NODE_ENV=production\nRUN npm ci --omit=dev\nENTRYPOINT ["node", "dist/main.js"]\n',
                /multi-stage build required/,
            ],
            ["a latest base", () => mutate(baseArg, "ARG NODE_IMAGE=node:latest"), /not pinned/],
            ["a major-only base", () => mutate(baseArg, "ARG NODE_IMAGE=node:24-slim"), /not pinned/],
            ["an ARG base without default", () => mutate(baseArg, "ARG NODE_IMAGE"), /ARG without a default/],
            [
                "a different runtime base",
                () => mutate("FROM ${NODE_IMAGE} AS runtime", "FROM node:24.11.0-bookworm-slim AS runtime"),
                /different bases/,
            ],
            ["a named user", () => mutate("USER 10001:10001", "USER node"), /numeric USER/],
            ["a uid without gid", () => mutate("USER 10001:10001", "USER 10001"), /numeric USER/],
            ["root", () => mutate("USER 10001:10001", "USER 0:0"), /must be 10001:10001/],
            ["no USER", () => mutate("USER 10001:10001\n", ""), /none \(root\)/],
            ["a later USER root", () => mutate("EXPOSE 8080 9464", "EXPOSE 8080 9464\nUSER root"), /numeric USER/],
            ["another port", () => mutate("EXPOSE 8080 9464", "EXPOSE 3000 9464"), /EXPOSE 8080/],
            ["no metrics port", () => mutate("EXPOSE 8080 9464", "EXPOSE 8080"), /EXPOSE 9464/],
            [
                "a shell-form entrypoint",
                () => mutate('ENTRYPOINT ["node", "dist/main.js"]', "ENTRYPOINT node dist/main.js"),
                /exec form/,
            ],
            [
                "npm start as entrypoint",
                () => mutate('ENTRYPOINT ["node", "dist/main.js"]', 'ENTRYPOINT ["npm", "start"]'),
                /exec form/,
            ],
            [
                "a CMD",
                () =>
                    mutate(
                        'ENTRYPOINT ["node", "dist/main.js"]',
                        'ENTRYPOINT ["node", "dist/main.js"]\nCMD ["--inspect"]',
                    ),
                /must not set CMD/,
            ],
            ["no NODE_ENV", () => mutate("ENV NODE_ENV=production\n", ""), /NODE_ENV=production/],
            [
                "dev deps in the copied node_modules",
                () => mutate("npm ci --omit=dev --workspace", "npm ci --workspace"),
                /does not install with npm ci --omit=dev/,
            ],
            [
                "node_modules from the build stage",
                () => mutate("COPY --from=prod-deps /srv/node_modules", "COPY --from=build /srv/node_modules"),
                /from stage build/,
            ],
            [
                "sources from the build stage",
                () =>
                    mutate(
                        "COPY --from=build /srv/app/checkout-service/dist ./dist",
                        "COPY --from=build /srv/app/checkout-service ./",
                    ),
                /only dist\/ may be taken/,
            ],
            [
                "npm install instead of ci",
                () => mutate("npm ci --omit=dev --workspace", "npm install --omit=dev --workspace"),
                /ignores the lockfile/,
            ],
            [
                "a full npm ci in the runtime",
                () => mutate("WORKDIR /srv/app/checkout-service\n", "WORKDIR /srv/app/checkout-service\nRUN npm ci\n"),
                /runtime stage runs npm ci without --omit=dev/,
            ],
        ];
        for (const [name, build, expected] of mutations) {
            it(`rejects ${name}`, () => {
                const problems = checkDockerfile(build());
                assert.ok(
                    problems.some((p) => expected.test(p)),
                    `expected a problem matching ${String(expected)}; got ${JSON.stringify(problems)}`,
                );
            });
        }
    });

    describe("build context (repository root) and Dockerfile.dockerignore", () => {
        const sources = contextSources(dockerfile);

        it("copies only paths that exist in the context", () => {
            assert.ok(sources.length >= 5, `expected the manifests, tsconfigs and src; got ${sources.join(", ")}`);
            for (const source of sources) {
                assert.ok(fs.existsSync(path.join(contextDir, source)), `${source} does not exist under ${contextDir}`);
            }
        });

        it("copies every workspace's package.json, as npm ci checks all of them against the lockfile", () => {
            const root = JSON.parse(fs.readFileSync(path.join(contextDir, "package.json"), "utf8")) as {
                workspaces: string[];
            };
            for (const workspace of root.workspaces) {
                assert.ok(sources.includes(`${workspace}/package.json`), `${workspace}/package.json is not copied`);
            }
            assert.ok(sources.includes("package-lock.json"));
        });

        it("sends every file the Dockerfile copies", () => {
            for (const source of sources) {
                const full = path.join(contextDir, source);
                const files = fs.statSync(full).isDirectory() ? filesUnder(full) : [full];
                for (const file of files) {
                    const relative = path.relative(contextDir, file).split(path.sep).join("/");
                    assert.ok(isIncluded(dockerignore, relative), `${relative} is excluded by Dockerfile.dockerignore`);
                }
            }
        });

        for (const excluded of [
            "node_modules/prom-client/package.json",
            "app/checkout-service/node_modules/x/index.js",
            "app/checkout-service/dist/main.js",
            "app/checkout-service/test/app.test.ts",
            ".git/HEAD",
            "Pulumi.prod.yaml",
            ".env",
            "index.ts",
        ]) {
            it(`keeps ${excluded} out of the context`, () => {
                assert.equal(isIncluded(dockerignore, excluded), false);
            });
        }

        it("matches like dockerignore: last rule wins, directories cover their contents", () => {
            const rules = "*\n!src/\nsrc/secret.txt\n";
            assert.equal(isIncluded(rules, "src/a/b.ts"), true);
            assert.equal(isIncluded(rules, "src/secret.txt"), false);
            assert.equal(isIncluded(rules, "other.txt"), false);
            assert.equal(isIncluded("**/*.md\n", "a/b/README.md"), false);
            assert.equal(isIncluded("**/*.md\n", "a/b/README.txt"), true);
        });
    });
});
