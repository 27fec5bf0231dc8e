'use strict';
// The seed's own send path, for bench_send_concurrency to compare Strata
// with: the seed's node-postgres Pool (its settings, from
// tests/interop/seed_clients.cjs), DatabaseEncryption.encrypt (node:crypto)
// and the seed's INSERT, from IN_FLIGHT concurrent async senders for SECONDS.
// No audit: the seed writes none for a send.
// Usage: node seed_node_send.cjs IN_FLIGHT SECONDS SENDER_ID RECIPIENT_ID TEXT_BYTES
// (DB_* and DB_ENCRYPTION_KEY as the seed reads them; NODE_PATH names the
// interop test's node_modules). Prints {"sent", "seconds", "p50_us", "p99_us"}.
const path = require('node:path');
const seed = require(path.join(__dirname, '../../tests/interop/seed_clients.cjs'));

const insert = 'insert into messages(sender_id, recipient_id, encrypted_content, iv) values ($1,$2,$3,$4) RETURNING id';

function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

async function main() {
  const [inFlight, seconds, sender, recipient, textBytes] = process.argv.slice(2);
  const text = 'x'.repeat(parseInt(textBytes));
  const latencies = [];
  // Open the pool's connections before the clock starts, as Strata's pool is.
  const warm = await Promise.all(Array.from({ length: parseInt(inFlight) }, () => seed.pool.connect()));
  warm.forEach((client) => client.release());
  const deadline = process.hrtime.bigint() + BigInt(Math.round(parseFloat(seconds) * 1e9));
  const start = process.hrtime.bigint();
  async function sender_loop() {
    while (process.hrtime.bigint() < deadline) {
      const begin = process.hrtime.bigint();
      const { encrypted, iv } = seed.DatabaseEncryption.encrypt(text);
      await seed.pool.query(insert, [sender, recipient, encrypted, iv]);
      latencies.push(Number(process.hrtime.bigint() - begin) / 1e3);
    }
  }
  await Promise.all(Array.from({ length: parseInt(inFlight) }, sender_loop));
  const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  await seed.pool.end();
  latencies.sort((a, b) => a - b);
  console.log(JSON.stringify({ sent: latencies.length, seconds: elapsed, p50_us: percentile(latencies, 0.5),
    p99_us: percentile(latencies, 0.99) }));
}

main().then(() => process.exit(0), (error) => {
  console.error(error.stack || String(error));
  process.exit(1);
});
