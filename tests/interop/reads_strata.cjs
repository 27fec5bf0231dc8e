'use strict';
// The seed's clients read what Strata wrote (tests/interop/interop_test.cpp
// runs this after writing through Strata). STRATA_INTEROP (JSON) names what
// to look for. Exits non-zero with the failed check on stderr.
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { Types } = require('mongoose');
const seed = require('./seed_clients.cjs');

const want = JSON.parse(process.env.STRATA_INTEROP);
const uuidBytes = (id) => Buffer.from(id.replace(/-/g, ''), 'hex');

// Opens a Strata message with nothing but node:crypto, as plugins/postgres/ENVELOPE.md describes.
function openStrataMessage(row) {
  assert.equal(row.key_id, 'default', 'the key id names the DB_ENCRYPTION_KEY key');
  const key = Buffer.from(process.env.DB_ENCRYPTION_KEY, 'hex');
  const sealed = row.encrypted_content;
  const tag = sealed.subarray(sealed.length - 16);
  const ciphertext = sealed.subarray(0, sealed.length - 16);
  const decipher = crypto.createDecipheriv('aes-256-gcm', key, row.iv);
  decipher.setAAD(Buffer.concat([uuidBytes(row.id), uuidBytes(row.sender_id), uuidBytes(row.recipient_id)]));
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
}

function validateAll(Model, docs, what) {
  assert.ok(docs.length > 0, `Strata wrote no ${what}`);
  for (const doc of docs) {
    assert.ok(doc._id instanceof Types.ObjectId, `${what} _id is an ObjectId: ${JSON.stringify(doc._id)}`);
    const error = new Model(doc).validateSync();
    assert.equal(error, undefined, `${what} ${doc._id} fails the seed's schema: ${error}`);
  }
}

async function main() {
  await seed.connect();
  const checks = [];

  // PostgreSQL: the seed's columns with the seed's types.
  const users = await seed.pool.query('SELECT * FROM users WHERE username = ANY($1) ORDER BY username', [
    [want.alice, want.bob],
  ]);
  assert.equal(users.rows.length, 2);
  for (const u of users.rows) {
    assert.deepEqual(Object.keys(u).sort(), [
      'created_at', 'email', 'id', 'is_active', 'last_login', 'password_hash', 'updated_at', 'username',
    ]);
    assert.ok(u.created_at instanceof Date && u.updated_at instanceof Date);
    assert.equal(u.is_active, true);
    assert.match(u.password_hash, /^\$scrypt\$/);
  }
  checks.push('users: seed columns and types');

  const alice = users.rows.find((u) => u.username === want.alice);
  const keys = await seed.pool.query('SELECT * FROM encryption_keys WHERE user_id = $1', [alice.id]);
  assert.equal(keys.rows.length, 1);
  assert.ok(Buffer.isBuffer(keys.rows[0].public_key) && keys.rows[0].public_key.length === 32, 'X25519 public key');
  assert.ok(Buffer.isBuffer(keys.rows[0].private_key_encrypted));
  assert.ok(keys.rows[0].created_at instanceof Date);
  assert.equal(keys.rows[0].is_active, true);
  checks.push('encryption_keys: BYTEA keys');

  const messages = await seed.pool.query('SELECT * FROM messages WHERE id = $1', [want.message_id]);
  assert.equal(messages.rows.length, 1);
  const m = messages.rows[0];
  assert.ok(Buffer.isBuffer(m.encrypted_content) && Buffer.isBuffer(m.iv) && m.iv.length === 12);
  assert.ok(m.created_at instanceof Date && Math.abs(Date.now() - m.created_at) < 600_000, 'created_at is UTC now');
  assert.equal(m.is_read, false);
  assert.equal(m.is_deleted, false);
  assert.equal(openStrataMessage(m), want.text);
  checks.push('messages: opened with node:crypto from the documented envelope');

  // Redis: the seed's Cache class reads what Strata cached (db 2).
  assert.deepEqual(await seed.Cache.get(want.cache_key), want.cache_value);
  const cachedUser = await seed.Cache.get('user:name:' + want.bob);
  assert.equal(cachedUser.username, want.bob);
  assert.equal(cachedUser.password_hash, undefined, 'no password hash in the cache');
  checks.push('redis: Cache.get of values Strata wrote');

  // MongoDB: every document passes the seed's mongoose schemas.
  validateAll(seed.models.AuditLog, await seed.models.AuditLog.find().lean(), 'audit log');
  const sends = await seed.models.AuditLog.find({ action: 'message.send', userId: alice.id }).lean();
  assert.equal(sends.length, 1, "alice's message.send event");
  validateAll(seed.models.Metric, await seed.models.Metric.find().lean(), 'metric');
  validateAll(seed.models.Cache, await seed.models.Cache.find().lean(), 'cache entry');
  checks.push('mongodb: auditlogs, metrics and caches pass validateSync()');

  await seed.close();
  for (const c of checks) console.log('ok  ' + c);
}

main().catch(async (error) => {
  console.error(error.stack || String(error));
  process.exit(1);
});
