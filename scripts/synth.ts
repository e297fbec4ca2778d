// npm run synth -- <stack>... | --all [--out DIR] [--quiet] | --diff <a> <b> | --all --update-golden
import { synthCommand } from "./lib/cli";

synthCommand(process.argv.slice(2), {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
}).then((code) => process.exit(code));
