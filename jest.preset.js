// One Jest setup for every project: SWC transpiles TypeScript (with decorator metadata for NestJS)
// and the @certfleet/* path aliases point at each library's single entry point.
const path = require('node:path');

const root = __dirname;
module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
        },
        module: { type: 'commonjs' },
      },
    ],
  },
  moduleNameMapper: {
    '^@certfleet/pki$': path.join(root, 'libs/pki/src/index.ts'),
    '^@certfleet/proto$': path.join(root, 'libs/proto/src/index.ts'),
    '^@certfleet/policy$': path.join(root, 'libs/policy/src/index.ts'),
    '^@certfleet/targets$': path.join(root, 'libs/targets/src/index.ts'),
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
};
