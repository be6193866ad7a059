/**
 * Servers a describe block starts as its tests go, all closed after its last test, the ones that never answered too.
 *
 * @example
 * const keep = closedAfterAll();
 * const server = keep(await startLoopbackServer(answer));
 */
import { afterAll } from 'vitest';

interface Closable {
  close(): Promise<void>;
}

function closedAfterAll(): <S extends Closable>(server: S) => S {
  const servers: Closable[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.close()));
  });
  return (server) => {
    servers.push(server);
    return server;
  };
}

export { closedAfterAll };
