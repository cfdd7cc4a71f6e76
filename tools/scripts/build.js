#!/usr/bin/env node
// Compiles the TypeScript of apps/ and libs/ (tests excluded) to dist/ with SWC: fast, keeps the
// decorator metadata NestJS needs, and rewrites the @certfleet/* aliases to relative paths so the
// output runs on plain Node. Type checking is separate (`npm run typecheck`).
const { transformFile } = require('@swc/core');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '../..');
const out = path.join(root, 'dist');
const sourceDirs = ['apps', 'libs', 'tools/bench', 'tools/scripts'];
const skip = /(\.spec\.ts|\.d\.ts|\/test-database\.ts)$|\/(e2e|node_modules|testing)\//; // test-only code stays out

function* walk(dir) {
  if (!fs.existsSync(dir)) return;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(full);
    else if (full.endsWith('.ts') && !skip.test(full)) yield full;
  }
}

const swcOptions = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
    baseUrl: root,
    paths: {
      '@certfleet/pki': ['libs/pki/src/index.ts'],
      '@certfleet/proto': ['libs/proto/src/index.ts'],
      '@certfleet/policy': ['libs/policy/src/index.ts'],
      '@certfleet/targets': ['libs/targets/src/index.ts'],
    },
  },
  module: { type: 'commonjs' },
  sourceMaps: true,
};

async function main() {
  const files = sourceDirs.flatMap((d) => [...walk(path.join(root, d))]);
  let count = 0;
  await Promise.all(
    files.map(async (file) => {
      const rel = path.relative(root, file);
      const target = path.join(out, rel.replace(/\.ts$/, '.js'));
      const { code, map } = await transformFile(file, { ...swcOptions, filename: file, sourceFileName: file });
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, code + `\n//# sourceMappingURL=${path.basename(target)}.map\n`);
      if (map) fs.writeFileSync(target + '.map', map);
      count++;
    }),
  );
  console.log(`built ${count} files into ${path.relative(process.cwd(), out) || '.'}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
