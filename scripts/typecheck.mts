// npm run typecheck: strict `tsc --noEmit` over tsconfig.json and, on the same TypeScript program,
// the check that no Output is interpolated into a plain template literal in the code that creates
// resources (`${output}` renders "Calling [toString] on an [Output<T>] is not supported...", not the
// value; use pulumi.interpolate or apply).
//
// That check is what @pulumi/eslint-plugin's no-output-in-template-literal and
// no-output-instance-in-template-literal do (0.3.1, src/noOuputInTemplateLiteral.ts: the type of each
// span of an untagged template literal, by its alias name). Run through type-aware ESLint it needed a
// second TypeScript program over the @pulumi/aws and @pulumi/kubernetes declarations (1.45 GB,
// ~17 s on 2 cores); through the ESLint API on this program it still cost 83 MiB and 1.4 s of CPU for
// loading ESLint. Here it is a walk over the checked program, and it also catches values typed as
// the OutputInstance interface, which the plugin's alias-name test misses.
//
// Plain `node scripts/typecheck.mts`: Node 24 runs TypeScript by stripping the types.
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const ROOT = path.resolve(import.meta.dirname, "..");

/** Code that creates resources or holds Outputs; the check has nothing to find elsewhere. */
const OUTPUT_CODE = /^(index\.ts$|components\/|stacks\/|integration\/)/;

/** The files of `fileNames` (absolute) that the Output check reads. */
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

/** True for @pulumi/pulumi's Output<T> (an alias) and OutputInstance<T> (an interface), alone or in a union. */
function isOutput(type: ts.Type): boolean {
    if (type.isUnion() && type.aliasSymbol === undefined) return type.types.some(isOutput);
    if (type.isIntersection() && type.aliasSymbol === undefined) return type.types.some(isOutput);
    const symbol = type.aliasSymbol?.getName() === "Output" ? type.aliasSymbol : type.getSymbol();
    if (symbol === undefined || !["Output", "OutputInstance"].includes(symbol.getName())) return false;
    return (symbol.getDeclarations() ?? []).some((d) =>
        /[\\/]@pulumi[\\/]pulumi[\\/]output\.d\.ts$/.test(d.getSourceFile().fileName),
    );
}

export interface OutputInTemplate {
    readonly file: string;
    /** 1-based. */
    readonly line: number;
    readonly column: number;
    readonly expression: string;
}

/** Every `${x}` in an untagged template literal of `files` whose `x` is an Output. */
export function outputsInTemplates(program: ts.Program, files: readonly string[]): OutputInTemplate[] {
    const checker = program.getTypeChecker();
    const found: OutputInTemplate[] = [];
    for (const file of files) {
        const source = program.getSourceFile(file);
        if (source === undefined) throw new Error(`${file} is not in the program`);
        const visit = (node: ts.Node): void => {
            if (ts.isTemplateExpression(node) && !ts.isTaggedTemplateExpression(node.parent)) {
                for (const span of node.templateSpans) {
                    if (isOutput(checker.getTypeAtLocation(span.expression))) {
                        const at = source.getLineAndCharacterOfPosition(span.expression.getStart(source));
                        found.push({
                            file,
                            line: at.line + 1,
                            column: at.character + 1,
                            expression: span.expression.getText(source),
                        });
                    }
                }
            }
            ts.forEachChild(node, visit);
        };
        visit(source);
    }
    return found;
}

function format(diagnostics: readonly ts.Diagnostic[]): string {
    const host: ts.FormatDiagnosticsHost = {
        getCanonicalFileName: (f) => f,
        getCurrentDirectory: () => ROOT,
        getNewLine: () => "\n",
    };
    return (process.stdout.isTTY ? ts.formatDiagnosticsWithColorAndContext : ts.formatDiagnostics)(diagnostics, host);
}

function main(): void {
    const program = createProgram();
    const diagnostics = ts.getPreEmitDiagnostics(program);
    process.stdout.write(format(diagnostics));
    const files = outputCodeFiles(program.getRootFileNames());
    if (files.length === 0) throw new Error(`no file under ${ROOT} matches ${OUTPUT_CODE}: nothing to check`);
    const outputs = outputsInTemplates(program, files);
    for (const o of outputs) {
        process.stdout.write(
            `${path.relative(ROOT, o.file)}(${o.line},${o.column}): error: the Output \`${o.expression}\` in a ` +
                "template literal renders as a warning text, not its value; use pulumi.interpolate or .apply\n",
        );
    }
    const typeErrors = diagnostics.filter((d) => d.category === ts.DiagnosticCategory.Error).length;
    if (typeErrors + outputs.length > 0) {
        process.stderr.write(
            `typecheck: ${typeErrors} type error(s), ${outputs.length} Output(s) in template literals\n`,
        );
        process.exitCode = 1;
    }
}

// import.meta.main exists from Node 24.2; before, compare the entry script (never skip the check silently).
const isMain =
    import.meta.main ??
    (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url));
if (isMain) {
    try {
        main();
    } catch (err) {
        process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
        process.exitCode = 2;
    }
}
