#!/usr/bin/env bash
# Rebuilds web/graphiql/vendor/: GraphiQL's prebuilt UMD bundle and CSS and the React UMD builds it runs on,
# taken from the npm registry at pinned versions (the files GraphiQL's README names for use without a
# bundler), with the licence texts of every package installed alongside. The server serves them itself,
# so GraphiQL works offline and its page can forbid every other origin. Needs node and npm.
set -euo pipefail

GRAPHIQL_VERSION=3.8.3
REACT_VERSION=18.2.0
GRAPHQL_VERSION=16.9.0  # graphiql's peer dependency, bundled into its UMD build

here="$(cd "$(dirname "$0")/../web/graphiql" && pwd)"
out="$here/vendor"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cd "$work"
npm init -y >/dev/null
npm install --no-audit --no-fund --ignore-scripts --loglevel=error \
  "graphiql@$GRAPHIQL_VERSION" "react@$REACT_VERSION" "react-dom@$REACT_VERSION" "graphql@$GRAPHQL_VERSION"

rm -rf "$out"
mkdir -p "$out"
copy() {  # without the sourceMappingURL comment: the maps are not shipped
  sed -e 's|//# sourceMappingURL=.*$||' -e 's|/\*# sourceMappingURL=[^*]*\*/||' "node_modules/$1" >"$out/$2"
}
copy react/umd/react.production.min.js react.production.min.js
copy react-dom/umd/react-dom.production.min.js react-dom.production.min.js
copy graphiql/graphiql.min.js graphiql.min.js
copy graphiql/graphiql.min.css graphiql.min.css

{
  echo "Licences of the npm packages that web/graphiql/vendor/ was built from (graphiql@$GRAPHIQL_VERSION,"
  echo "react@$REACT_VERSION, react-dom@$REACT_VERSION and the packages they depend on, some bundled into"
  echo "graphiql.min.js). Produced by scripts/build-graphiql.sh."
  node - <<'JS'
// Every installed package (scoped ones too), with its licence text.
const fs = require("fs");
const path = require("path");
const found = [];
(function walk(dir) {
  for (const name of fs.readdirSync(dir).sort()) {
    const full = path.join(dir, name);
    if (name.startsWith("@")) walk(full);
    else if (fs.existsSync(path.join(full, "package.json"))) {
      found.push(full);
      if (fs.existsSync(path.join(full, "node_modules"))) walk(path.join(full, "node_modules"));
    }
  }
})("node_modules");
for (const dir of found) {
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
  const texts = fs.readdirSync(dir).filter((f) => /^(licen[cs]e|copying|notice)/i.test(f)).sort();
  console.log("\n" + "=".repeat(78));
  console.log(`${manifest.name}@${manifest.version} (${manifest.license || "licence: see text"})\n`);
  if (!texts.length) console.log(`(no licence file in the package; package.json says: ${manifest.license})`);
  for (const f of texts) console.log(fs.readFileSync(path.join(dir, f), "utf8").trimEnd());
}
JS
} >"$out/LICENSES.txt"

echo "web/graphiql/vendor/ rebuilt:" && ls -l "$out"
