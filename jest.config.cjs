// Tests run the TypeScript sources directly (ts-jest, transpile-only: `tsc -b` type-checks them
// beforehand in `pnpm test`). Workspace imports resolve to the sources, not to dist/.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/packages', '<rootDir>/examples', '<rootDir>/test', '<rootDir>/docs/exercises'],
  testMatch: ['**/test/**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.test.json' }],
  },
  moduleNameMapper: {
    '^@gradlab/([a-z]+)$': '<rootDir>/packages/$1/src/index.ts',
    '^@gradlab/example-([a-z]+)$': '<rootDir>/examples/$1/src/index.ts',
    '^gradlab$': '<rootDir>/packages/gradlab/src/index.ts',
    // import.meta (ES modules only) locates the gemm worker; under jest a CommonJS twin does.
    '^\\./worker-url\\.js$': '<rootDir>/test/support/worker-url.cjs',
    '^\\./module-url\\.js$': '<rootDir>/test/support/gpu-module-url.cjs',
    // h5wasm is ES modules only; its IIFE bundle, wrapped as CommonJS, stands in under jest.
    '^h5wasm$': '<rootDir>/test/support/h5wasm.cjs',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
};
