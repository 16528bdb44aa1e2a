// Bundle the field app's script (frontend_static/app/app.js and what it imports from
// npm ethers) into frontend_static/app/app.bundle.js. Run by `make app`; the output
// is committed so the service serves it without a build step and without a CDN.
import { build } from "esbuild";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outfile = process.argv[2] || join(root, "frontend_static/app/app.bundle.js");

await build({
  entryPoints: [join(root, "frontend_static/app/app.js")],
  bundle: true,
  format: "iife",
  target: ["es2020"],
  minify: true,
  legalComments: "eof",
  charset: "utf8",
  outfile,
  logLevel: "warning",
});
