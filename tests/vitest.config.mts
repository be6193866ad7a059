import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: fileURLToPath(new URL('..', import.meta.url)),
    include: ['tests/**/*.test.ts'],
    // Every test talks to loopback only and must end by itself; these bound a hung socket.
    testTimeout: 20_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
