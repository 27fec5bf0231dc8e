'use strict';
// A running seed deployment, as tests/interop/seed_migration_test.cpp moves
// it onto Strata. STRATA_INTEROP (JSON) says what to do:
//   {mode: "deploy", tag, users, messages}: creates the schema with the seed's
//     own SQL (tests/interop/seed/schema.sql, then indexes.sql), registers
//     users with bcrypt and argon2id password hashes as the seed's services
//     would, and sends messages with the seed's DatabaseEncryption.encrypt.
//   {mode: "write", tag, user_ids, count}: keeps writing messages the seed's
//     way (while Strata runs beside it).
//   {mode: "read", usernames, message_ids}: the seed's queries still read its rows.
// Prints what it did as JSON on stdout.
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const bcrypt = require('bcryptjs');
const argon2 = require('argon2');
const seed = require('./seed_clients.cjs');

const seedSql = (file) => fs.readFileSync(path.join(__dirname, 'seed', file), 'utf8');

// Texts the seed's users would send: accents, emoji, quotes, an empty one, a long one.
function text(i, tag) {
  const samples = ['Hello, Zoë! 👋', 'line one\nline two', "it's \"quoted\" \\ and ; DROP TABLE users;--", '',
    'ünïcödé ✓ 日本語', 'x'.repeat(5000)];
  return `${samples[i % samples.length]} #${i} ${tag}`;
}

async function insertMessage(from, to, body) {
  const { encrypted, iv } = seed.DatabaseEncryption.encrypt(body);
  const row = await seed.pool.query(
    'insert into messages(sender_id, recipient_id, encrypted_content, iv) values ($1,$2,$3,$4) RETURNING id',
    [from, to, encrypted, iv]);
  return row.rows[0].id;
}

async function deploy(want) {
  await seed.pool.query(seedSql('schema.sql'));
  let indexes = seedSql('indexes.sql');
  const cron = await seed.pool.query("SELECT count(*)::int AS n FROM pg_extension WHERE extname = 'pg_cron'");
  if (cron.rows[0].n === 0) indexes = indexes.replace(/SELECT cron\.schedule[^\n]*/, '');
  await seed.pool.query(indexes);

  const users = [];
  for (let i = 0; i < want.users; i++) {
    const username = `seed-${i}-${want.tag}`;
    const password = crypto.randomBytes(9).toString('base64');
    const scheme = i % 2 === 0 ? 'bcrypt' : 'argon2id';
    const hash = scheme === 'bcrypt' ? await bcrypt.hash(password, 10) : await argon2.hash(password, { type: argon2.argon2id });
    const row = await seed.pool.query(
      'INSERT INTO users (username, email, password_hash) VALUES ($1, $2, $3) RETURNING id',
      [username, username + '@example.org', hash]);
    users.push({ username, password, scheme, id: row.rows[0].id });
  }
  const messages = [];
  for (let i = 0; i < want.messages; i++) {
    const from = users[i % users.length], to = users[(i + 1) % users.length];
    const body = text(i, want.tag);
    messages.push({ id: await insertMessage(from.id, to.id, body), recipient_id: to.id, text: body });
  }
  return { users, messages };
}

async function write(want) {
  const messages = [];
  for (let i = 0; i < want.count; i++) {
    const from = want.user_ids[i % want.user_ids.length], to = want.user_ids[(i + 1) % want.user_ids.length];
    const body = `written beside Strata #${i} ${want.tag}`;
    messages.push({ id: await insertMessage(from, to, body), recipient_id: to, text: body });
  }
  return { messages };
}

async function read(want) {
  const users = await seed.pool.query('SELECT username, is_active FROM users WHERE username = ANY($1)', [want.usernames]);
  const messages = await seed.pool.query(
    'SELECT count(*)::int AS n FROM messages WHERE id = ANY($1::uuid[]) AND is_deleted = false', [want.message_ids]);
  return { users: users.rows.length, messages: messages.rows[0].n };
}

async function main() {
  const want = JSON.parse(process.env.STRATA_INTEROP);
  await seed.connect();
  const modes = { deploy, write, read };
  const out = await modes[want.mode](want);
  await seed.close();
  console.log(JSON.stringify(out));
}

main().catch((error) => {
  console.error(error.stack || String(error));
  process.exit(1);
});
