'use strict';
// The seed's data access (shared/seed), set up the way its TypeScript services
// set it up: a node-postgres Pool with the seed's settings, the seed's three
// mongoose schemas, ioredis stores on the seed's databases with its Cache
// class, and its DatabaseEncryption. These definitions are the compatibility
// specification under test, restated in JavaScript; they read the seed's
// environment variables (MONGODB_URI names the MongoDB database, which the
// seed leaves to its deployment).
const crypto = require('node:crypto');
const { Pool } = require('pg');
const mongoose = require('mongoose');
const Redis = require('ioredis');

const pool = new Pool({
  host: process.env.DB_HOST,
  port: parseInt(process.env.DB_PORT || '5432'),
  user: process.env.DB_USER,
  password: process.env.DB_PASSWORD,
  database: process.env.DB_NAME,
  max: 20,
  idleTimeoutMillis: 30000,
  connectionTimeoutMillis: 2000,
});

const { Schema } = mongoose;
const AuditLogSchema = new Schema({
  timestamp: { type: Date, default: Date.now },
  userId: { type: String, required: false },
  ip: { type: String, required: true },
  action: { type: String, required: true },
  resource: { type: String, required: true },
  status: { type: String, enum: ['success', 'failure'], required: true },
  metadata: { type: Schema.Types.Mixed },
});
const MetricSchema = new Schema({
  timestamp: { type: Date, default: Date.now },
  name: { type: String, required: true },
  value: { type: Number, required: true },
  labels: { type: Schema.Types.Mixed },
});
const CacheSchema = new Schema({
  key: { type: String, required: true, unique: true },
  value: { type: Schema.Types.Mixed, required: true },
  expiresAt: { type: Date, required: true },
  createdAt: { type: Date, default: Date.now },
});
const models = {
  AuditLog: mongoose.model('AuditLog', AuditLogSchema),
  Metric: mongoose.model('Metric', MetricSchema),
  Cache: mongoose.model('Cache', CacheSchema),
};

function redisStore(db) {
  return new Redis({
    host: process.env.REDIS_HOST || 'localhost',
    port: parseInt(process.env.REDIS_PORT || '6379'),
    password: process.env.REDIS_PASSWORD,
    db: parseInt(db),
    lazyConnect: true,
  });
}
const sessionStore = redisStore(process.env.REDIS_SESSION_DB || '1');
const cacheStore = redisStore(process.env.REDIS_CACHE_DB || '2');

class Cache {
  static DEFAULT_TTL = 3600;
  static async get(key) {
    const data = await cacheStore.get(key);
    return data ? JSON.parse(data) : null;
  }
  static async set(key, value, ttl = this.DEFAULT_TTL) {
    await cacheStore.setex(key, ttl, JSON.stringify(value));
  }
  static async del(key) {
    await cacheStore.del(key);
  }
}

// The seed's encryption, as it is: AES-256-GCM with the tag dropped and no
// associated data (the defect Strata does not repeat).
class DatabaseEncryption {
  static ALGORITHM = 'aes-256-gcm';
  static IV_LENGTH = 12;
  static get KEY() {
    return Buffer.from(process.env.DB_ENCRYPTION_KEY, 'hex');
  }
  static encrypt(data) {
    const iv = crypto.randomBytes(this.IV_LENGTH);
    const cipher = crypto.createCipheriv(this.ALGORITHM, this.KEY, iv);
    const encrypted = Buffer.concat([cipher.update(data, 'utf8'), cipher.final()]);
    return { encrypted, iv };
  }
}

async function connect() {
  await mongoose.connect(process.env.MONGODB_URI, { serverSelectionTimeoutMS: 5000 });
  await sessionStore.connect();
  await cacheStore.connect();
}

async function close() {
  await pool.end();
  await mongoose.disconnect();
  sessionStore.disconnect();
  cacheStore.disconnect();
}

module.exports = { pool, models, Cache, sessionStore, cacheStore, DatabaseEncryption, connect, close };
