// npm run typecheck: strict `tsc --noEmit` over tsconfig.json, then @pulumi/eslint-plugin's two
// type-aware rules (`${output}` renders "Calling [toString] on an [Output<T>]...", not the value)
// over the code that creates resources, on the SAME TypeScript program. Type-aware ESLint builds
// its own program otherwise: a second copy of the @pulumi/aws and @pulumi/kubernetes declarations,
// about 1.4 GB and 17 s on 2 cores, for two rules. `npm run lint` keeps every syntactic rule.
//
// Plain `node scripts/typecheck.mts`: Node 24 runs TypeScript by stripping the types, so no ts-node
// and no second TypeScript compiler in memory.
import { ESLint } from "eslint";
import { createRequire } from "node:module";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import tseslint from "typescript-eslint";
import ts from "typescript";

const ROOT = path.resolve(import.meta.dirname, "..");
// The plugin ships no type declarations; ESLint checks the shape when it loads it.
const pulumi = createRequire(import.meta.url)("@pulumi/eslint-plugin") as ESLint.Plugin;

/** Code that creates resources or holds Outputs; the rules have nothing to find elsewhere. */
const OUTPUT_CODE = /^(index\.ts$|components\/|stacks\/|integration\/)/;

/** The files of `fileNames` (absolute) that the Output rules check. */
export function outputCodeFiles(fileNames: readonly string[], root = ROOT): string[] {
    return fileNames.filter((f) => OUTPUT_CODE.test(path.relative(root, f).split(path.sep).join("/")));
}

/** The TypeScript program of a tsconfig, as `tsc -p <tsconfig> --noEmit` builds it. */
export function createProgram(tsconfig = path.join(ROOT, "tsconfig.json"), rootNames?: string[]): ts.Program {
    const read = ts.readConfigFile(tsconfig, ts.sys.readFile);
    if (read.error) throw new Error(ts.flattenDiagnosticMessageText(read.error.messageText, "\n"));
    const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, path.dirname(tsconfig), { noEmit: true });
    if (parsed.errors.length > 0) throw new Error(format(parsed.errors));
    const host = ts.createCompilerHost(parsed.options);
    // What the tsc CLI does (TypeScript 5.3+): skip the JSDoc that cannot affect a type error. The
    // provider declarations are mostly JSDoc; parsing all of it costs ~150 MB here.
    host.jsDocParsingMode = ts.JSDocParsingMode.ParseForTypeErrors;
    return ts.createProgram({ rootNames: rootNames ?? parsed.fileNames, options: parsed.options, host });
}

function format(diagnostics: readonly ts.Diagnostic[]): string {
    const host: ts.FormatDiagnosticsHost = {
        getCanonicalFileName: (f) => f,
        getCurrentDirectory: () => ROOT,
        getNewLine: () => "\n",
    };
    return (process.stdout.isTTY ? ts.formatDiagnosticsWithColorAndContext : ts.formatDiagnostics)(diagnostics, host);
}

/** Runs the Output rules over `files` with `program`'s types (no second program). */
export async function lintOutputs(
    program: ts.Program,
    files: string[],
): Promise<{ results: ESLint.LintResult[]; report: string }> {
    const eslint = new ESLint({
        cwd: ROOT,
        overrideConfigFile: true,
        overrideConfig: {
            files: ["**/*.ts"],
            languageOptions: { parser: tseslint.parser, parserOptions: { programs: [program] } },
            plugins: { "@pulumi": pulumi },
            rules: {
                "@pulumi/no-output-in-template-literal": "error",
                "@pulumi/no-output-instance-in-template-literal": "error",
            },
        },
    });
    const results = await eslint.lintFiles(files);
    return { results, report: await (await eslint.loadFormatter("stylish")).format(results) };
}

async function main(): Promise<void> {
    const program = createProgram();
    const files = outputCodeFiles(program.getRootFileNames());
    if (files.length === 0)
        throw new Error(`no file under ${ROOT} matches ${OUTPUT_CODE}: nothing for the Output rules`);
    // Rules first: they need the types of a few template expressions only, so ESLint's own memory is
    // garbage before the full check grows the checker to its peak.
    const { results, report } = await lintOutputs(program, files);
    process.stdout.write(report);
    const lintErrors = results.reduce((n, r) => n + r.errorCount, 0);
    const diagnostics = ts.getPreEmitDiagnostics(program);
    process.stdout.write(format(diagnostics));
    const typeErrors = diagnostics.filter((d) => d.category === ts.DiagnosticCategory.Error).length;
    if (typeErrors + lintErrors > 0) {
        process.stderr.write(`typecheck: ${typeErrors} type error(s), ${lintErrors} Output rule error(s)\n`);
        process.exitCode = 1;
    }
}

// import.meta.main exists from Node 24.2; before, compare the entry script (never skip the check silently).
const isMain =
    import.meta.main ??
    (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url));
if (isMain) {
    main().catch((err: unknown) => {
        process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
        process.exitCode = 2;
    });
}
