// Bundle the static proof verifier (frontend_static/verify/verify.js and what it
// imports from npm) into frontend_static/verify/verify.bundle.js, with the ABIs
// of the four trust-anchor contracts taken from the compiled artifacts and the
// milestone names from the ShipmentRegistry interface. Run by `make verifier`
// after `make compile`; the output is committed so the page needs no build to serve.
import { build } from "esbuild";
import { readFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outfile = process.argv[2] || join(root, "frontend_static/verify/verify.bundle.js");
const CONTRACTS = [
  "AnchorRegistry",
  "ProductPassportRegistry",
  "ShipmentRegistry",
  "OrganisationRegistry",
];

function abiOf(name) {
  const path = join(root, "build/contracts", `${name}.json`);
  if (!existsSync(path)) {
    throw new Error(`${path} is missing: run \`make compile\` first`);
  }
  return JSON.parse(readFileSync(path, "utf8")).abi;
}

function milestoneNames() {
  // `enum MilestoneType { None, PickedUp, … }` → ["NONE", "PICKED_UP", …], the
  // names the bundle uses (the backend's MilestoneType enum mirrors the contract's).
  const source = readFileSync(join(root, "contracts/interfaces/IShipmentRegistry.sol"), "utf8");
  const body = source.match(/enum MilestoneType\s*\{([^}]*)\}/)[1];
  return body
    .replace(/\/\/[^\n]*/g, "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => s.replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase());
}

const generated = {
  abis: Object.fromEntries(CONTRACTS.map((n) => [n, abiOf(n)])),
  milestones: milestoneNames(),
};

const contractsPlugin = {
  name: "waymark-contracts",
  setup(b) {
    b.onResolve({ filter: /^waymark:contracts$/ }, () => ({
      path: "contracts",
      namespace: "waymark",
    }));
    b.onLoad({ filter: /.*/, namespace: "waymark" }, () => ({
      contents: JSON.stringify(generated),
      loader: "json",
    }));
  },
};

await build({
  entryPoints: [join(root, "frontend_static/verify/verify.js")],
  bundle: true,
  format: "iife",
  target: ["es2020"],
  minify: true,
  legalComments: "eof",
  charset: "utf8",
  outfile,
  plugins: [contractsPlugin],
  logLevel: "warning",
});
