import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import {
    DEFAULT_CI_TAG_PATTERN,
    DEFAULT_RELEASE_TAG_PATTERN,
    ECR_IMAGES_PER_REPOSITORY,
    ecrTagMatches,
    lifecyclePolicy,
} from "../components/registry";
import { REPO_ROOT } from "../harness/stack-config";
import { at, find } from "./helpers";
import { stackRun } from "./shared-runs";

interface Rule {
    rulePriority: number;
    selection: {
        tagStatus: "tagged" | "untagged" | "any";
        tagPatternList?: string[];
        tagPrefixList?: string[];
        countType: "imageCountMoreThan" | "sinceImagePushed";
        countNumber: number;
    };
}
interface Image {
    tags: string[];
    /** Days since push; the lower, the newer. */
    age: number;
}

/**
 * What ECR expires, from its documented evaluation rules (ECR user guide, "Lifecycle policy
 * properties" and "How lifecycle policies work"): rules in priority order; a tagged rule selects an
 * image when every entry of its pattern (or prefix) list matches one of the image's tags; an image
 * selected by a rule is never expired by a rule of lower priority; a count rule keeps the newest
 * `countNumber` images it selects, an age rule expires those older than `countNumber` days.
 */
function expired(rules: readonly Rule[], images: readonly Image[]): Image[] {
    const claimed = new Set<Image>();
    const out: Image[] = [];
    for (const rule of [...rules].sort((a, b) => a.rulePriority - b.rulePriority)) {
        const s = rule.selection;
        const selects = (img: Image) =>
            s.tagStatus === "any" ||
            (s.tagStatus === "untagged" && img.tags.length === 0) ||
            (s.tagStatus === "tagged" &&
                img.tags.length > 0 &&
                (s.tagPatternList ?? []).every((p) => img.tags.some((t) => ecrTagMatches(p, t))) &&
                (s.tagPrefixList ?? []).every((p) => img.tags.some((t) => t.startsWith(p))));
        const mine = images.filter((img) => !claimed.has(img) && selects(img)).sort((a, b) => a.age - b.age);
        mine.forEach((img) => claimed.add(img));
        const gone =
            s.countType === "imageCountMoreThan"
                ? mine.slice(s.countNumber)
                : mine.filter((img) => img.age > s.countNumber);
        out.push(...gone);
    }
    return out;
}

const sha = (i: number) => `sha-${i.toString(16).padStart(40, "0")}`;
/** A repository after `n` CI pushes, one a day; the release 1.4.2 was cut from the oldest one. */
function history(n: number): { images: Image[]; release: Image } {
    const images = Array.from({ length: n }, (_, i) => ({ tags: [sha(i)], age: n - i }));
    const release = images[0];
    release.tags.push("1.4.2");
    return { images: [...images, { tags: [], age: 30 }], release };
}

const policy = (keep: number) =>
    lifecyclePolicy({
        untaggedExpiryDays: 7,
        keepCiImages: keep,
        ciTagPattern: DEFAULT_CI_TAG_PATTERN,
        releaseTagPattern: DEFAULT_RELEASE_TAG_PATTERN,
    }).rules as Rule[];

describe("registry: the ECR lifecycle policy", () => {
    it("ecrTagMatches: `*` is any run of characters, everything else literal", () => {
        const table: [string, string, boolean][] = [
            ["sha-*", sha(1), true],
            ["sha-*", "1.4.2", false],
            ["sha-*", "xsha-1", false],
            ["*.*.*", "1.4.2", true],
            ["*.*.*", "1.4.2-rc.1", true],
            ["*.*.*", sha(1), false],
            ["1.4.*", "1.4.10", true],
            ["a+b", "aab", false],
            ["a+b", "a+b", true],
        ];
        for (const [pattern, tag, hit] of table)
            assert.strictEqual(ecrTagMatches(pattern, tag), hit, `${pattern} ~ ${tag}`);
    });

    it("the rule this policy replaced (tagStatus any, count 10) expires the release a stack runs", () => {
        // The broken form: with more than 10 images in the repository, the oldest goes, deployed or not.
        const old: Rule[] = [
            {
                rulePriority: 1,
                selection: { tagStatus: "untagged", countType: "sinceImagePushed", countNumber: 7 },
            },
            { rulePriority: 2, selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: 10 } },
        ];
        const { images, release } = history(40);
        assert.ok(expired(old, images).includes(release));
    });

    it("expires old CI images and untagged ones by count and age, never a release image, also one with a CI tag", () => {
        const { images, release } = history(40);
        const gone = expired(policy(10), images);
        assert.ok(!gone.includes(release), "the release survives");
        assert.deepStrictEqual(
            gone.filter((img) => img.tags.length > 0).length,
            40 - 1 - 10,
            "all but the newest 10 CI-only images expire",
        );
        assert.ok(
            gone.some((img) => img.tags.length === 0),
            "the untagged image older than 7 days expires",
        );
        const newest = images.filter((img) => img.tags.length > 0).sort((a, b) => a.age - b.age);
        for (const img of newest.slice(0, 10)) assert.ok(!gone.includes(img), `${img.tags[0]} is kept`);
    });

    it("releases are kept by a count rule at ECR's per-repository image quota, ahead of every other rule", () => {
        const rules = policy(30);
        assert.deepStrictEqual(
            rules.map((r) => [
                r.rulePriority,
                r.selection.tagStatus,
                r.selection.tagPatternList,
                r.selection.countNumber,
            ]),
            [
                [1, "tagged", ["*.*.*"], ECR_IMAGES_PER_REPOSITORY],
                [2, "untagged", undefined, 7],
                [3, "tagged", ["sha-*"], 30],
            ],
        );
    });

    it("rejects a pattern that matches every tag or has more wildcards than ECR allows", () => {
        const args = { untaggedExpiryDays: 7, keepCiImages: 10, releaseTagPattern: "*.*.*" };
        assert.throws(() => lifecyclePolicy({ ...args, ciTagPattern: "*" }), /ciTagPattern "\*" matches every tag/);
        assert.throws(() => lifecyclePolicy({ ...args, ciTagPattern: "a*b*c*d*e*f" }), /has 5 wildcards; ECR allows 4/);
    });
});

describe("registry: CI tags against .github/workflows/image.yml and the stacks", () => {
    const workflow = YAML.parse(fs.readFileSync(path.join(REPO_ROOT, ".github/workflows/image.yml"), "utf8")) as {
        jobs: Record<string, { env?: Record<string, string> }>;
    };
    const pushedTags = Object.values(workflow.jobs)
        .map((job) => job.env?.IMAGE_TAG)
        .filter((t): t is string => t !== undefined)
        // The expression GitHub substitutes: a full 40-hex commit SHA.
        .map((t) => t.replace(/\$\{\{\s*github\.sha\s*\}\}/g, "0123456789abcdef0123456789abcdef01234567"));

    it("the default CI pattern matches every tag image.yml pushes, the release pattern none", () => {
        assert.ok(pushedTags.length > 0, "image.yml sets IMAGE_TAG");
        for (const tag of pushedTags) {
            assert.ok(!tag.includes("${{"), `${tag}: only github.sha is substituted here`);
            assert.ok(ecrTagMatches(DEFAULT_CI_TAG_PATTERN, tag), `${DEFAULT_CI_TAG_PATTERN} matches ${tag}`);
            assert.ok(!ecrTagMatches(DEFAULT_RELEASE_TAG_PATTERN, tag), `${tag} is not a release tag`);
        }
    });

    for (const stack of ["dev", "prod"]) {
        it(`${stack}: the image the Deployment runs is a release tag, which the stack's lifecycle policy never expires`, async () => {
            const run = await stackRun(stack);
            const image = String(
                at(
                    find(run, "kubernetes:apps/v1:Deployment", "checkout-deployment").props,
                    "spec.template.spec.containers.0.image",
                ),
            );
            const tag = image.slice(image.lastIndexOf(":") + 1);
            assert.match(image, /\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com\/checkout-service:[^:@]+$/);
            assert.ok(!ecrTagMatches(DEFAULT_CI_TAG_PATTERN, tag), `${stack} runs ${tag}, not a CI tag`);

            const rules = JSON.parse(
                String(find(run, "aws:ecr/lifecyclePolicy:LifecyclePolicy", "registry-lifecycle").props.policy),
            ).rules as Rule[];
            const running: Image = { tags: [tag, sha(0)], age: 400 };
            const others = Array.from({ length: 200 }, (_, i) => ({ tags: [sha(i + 1)], age: i }));
            assert.ok(!expired(rules, [running, ...others]).includes(running), `${stack} keeps ${tag}`);
        });
    }
});
