'use strict';
// The seed's clients write the way the seed does (tests/interop/interop_test.cpp
// then reads it through Strata). STRATA_INTEROP (JSON) names the users;
// prints what it wrote as JSON on stdout.
const seed = require('./seed_clients.cjs');

async function main() {
  const want = JSON.parse(process.env.STRATA_INTEROP);
  await seed.connect();
  const tag = want.tag;

  // A user registered by the seed's SQL (defaults for everything else).
  const carol = await seed.pool.query(
    'INSERT INTO users (username, email, password_hash) VALUES ($1, $2, $3) RETURNING id',
    ['carol-' + tag, 'carol-' + tag + '@example.org', '$2b$10$seedhashseedhashseedhashseedhashseedhashseedhashse']);

  // An audit event saved by the seed's AuditLog model.
  await new seed.models.AuditLog({
    userId: carol.rows[0].id, ip: '203.0.113.9', action: 'seed.login', resource: 'session',
    status: 'success', metadata: { agent: 'node', tag },
  }).save();

  // Documents with only the required fields: no userId or metadata, no labels.
  await new seed.models.AuditLog({ ip: '203.0.113.10', action: 'seed.logout', resource: 'session', status: 'failure' }).save();
  await new seed.models.Metric({ name: 'seed_requests_' + tag, value: 3 }).save();
  // A document of the seed's Cache model (the `caches` collection).
  const mongoCacheKey = 'seed:mongo:' + tag;
  await new seed.models.Cache({ key: mongoCacheKey, value: { plan: 'pro', seats: 5 }, expiresAt: new Date(Date.now() + 3600e3) }).save();

  // A cached value set by the seed's Cache class (db 2, TTL 3600 s), and one set without a TTL.
  const cacheKey = 'seed:profile:' + tag;
  await seed.Cache.set(cacheKey, { name: 'Zoë', age: 41 });
  const foreverKey = 'seed:forever:' + tag;
  await seed.cacheStore.set(foreverKey, JSON.stringify(['no', 'ttl']));

  // A message as the seed's services store one: DatabaseEncryption.encrypt, then the seed's insert.
  const { encrypted, iv } = seed.DatabaseEncryption.encrypt('written by the seed, without a tag');
  const message = await seed.pool.query(
    'insert into messages(sender_id, recipient_id, encrypted_content, iv) values ($1,$2,$3,$4) RETURNING id',
    [want.alice_id, want.bob_id, encrypted, iv]);

  await seed.close();
  console.log(JSON.stringify({ carol: 'carol-' + tag, cache_key: cacheKey, forever_key: foreverKey,
    mongo_cache_key: mongoCacheKey, message_id: message.rows[0].id }));
}

main().catch((error) => {
  console.error(error.stack || String(error));
  process.exit(1);
});
