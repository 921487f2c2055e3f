import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/vscode/**', 'node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // tsx, which runs the sources in the processes tests start, would keep compiled files in the temp folder.
    env: { TSX_DISABLE_CACHE: '1' },
  },
});
