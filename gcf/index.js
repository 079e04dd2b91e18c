// gg's Google Cloud Function: runs one thunk per HTTP request.
//
// The request (POST, JSON, names only; the same event as the Lambda
// function's, docs/lambda.md):
//   {"version": 1, "thunk": BASE64, "objects": [NAME, ...], "storage": URI}
// The handler downloads the objects its store lacks from the shared store
// (redis://, s3://, gs://) into $GG_GCF_DIR (default /tmp/gg), checking each against its
// name; runs ./gg-lambda (gg's statically linked executor, packaged beside
// this file); uploads the outputs; and answers gg-lambda's JSON result.
// Entry point: `gg` (signature type http). No npm packages needed at run time.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const fsp = require('fs/promises');
const net = require('net');
const path = require('path');
const { execFile } = require('child_process');

const THUNK_MAGIC = Buffer.from('\x7fGGTHUNK', 'latin1');
const TREE_MAGIC = Buffer.from('\x7fGGTREES', 'latin1');
const REDIS_CHUNK = 1 << 20;
const EXECUTOR = path.join(__dirname, 'gg-lambda');

class Refused extends Error {}
class StorageError extends Error {}

/** The gg name of `data` (docs/names.md). */
function nameOf(data) {
  let kind = 'V';
  if (data.subarray(0, 8).equals(THUNK_MAGIC)) kind = 'T';
  else if (data.subarray(0, 8).equals(TREE_MAGIC)) kind = 'D';
  const digest = crypto.createHash('sha256').update(data).digest('base64url').replace(/-/g, '.');
  return kind + digest + data.length.toString(16).padStart(8, '0');
}

const objectOf = (name) => name.split('#', 1)[0];
const sizeOf = (name) => parseInt(objectOf(name).slice(44), 16);

// ---------------------------------------------------------------- Redis

/** One reply parsed from buf at pos: [value, next] or null if incomplete. */
function parseReply(buf, pos) {
  const eol = buf.indexOf('\r\n', pos);
  if (eol < 0) return null;
  const kind = String.fromCharCode(buf[pos]);
  const rest = buf.toString('latin1', pos + 1, eol);
  const next = eol + 2;
  if (kind === '+') return [rest, next];
  if (kind === '-') return [new StorageError('redis: ' + rest), next];
  if (kind === ':') return [parseInt(rest, 10), next];
  if (kind === '$') {
    const n = parseInt(rest, 10);
    if (n < 0) return [null, next];
    if (buf.length < next + n + 2) return null;
    return [buf.subarray(next, next + n), next + n + 2];
  }
  if (kind === '*') {
    const n = parseInt(rest, 10);
    if (n < 0) return [null, next];
    const items = [];
    let p = next;
    for (let i = 0; i < n; i++) {
      const r = parseReply(buf, p);
      if (r === null) return null;
      items.push(r[0]);
      p = r[1];
    }
    return [items, p];
  }
  return [new StorageError('redis: unexpected reply ' + JSON.stringify(rest.slice(0, 40))), buf.length];
}

/** GET/SET/EXISTS over RESP, pipelined; gg's chunked layout for large objects. */
class Redis {
  constructor(uri) {
    this.uri = new URL(uri);
    this.chunks = [];
    this.size = 0;
    this.waiting = [];  // {count, replies, resolve, reject}
  }

  async open() {
    const u = this.uri;
    await new Promise((resolve, reject) => {
      this.sock = net.connect({ host: u.hostname || '127.0.0.1', port: Number(u.port) || 6379 }, resolve);
      this.sock.once('error', reject);
    });
    this.sock.on('data', (d) => this.onData(d));
    this.sock.on('error', (e) => this.failAll(new StorageError(String(e.message))));
    this.sock.on('close', () => this.failAll(new StorageError('redis closed the connection')));
    if (u.password) {
      const auth = ['AUTH', decodeURIComponent(u.password)];
      if (u.username) auth.splice(1, 0, decodeURIComponent(u.username));
      await this.call(...auth);
    }
    const db = u.pathname.replace(/^\/+|\/+$/g, '');
    if (db) await this.call('SELECT', db);
    return this;
  }

  close() { if (this.sock) this.sock.destroy(); }

  failAll(e) {
    for (const w of this.waiting.splice(0)) w.reject(e);
  }

  onData(d) {
    this.chunks.push(d);
    this.size += d.length;
    let buf = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.size);
    let pos = 0;
    while (this.waiting.length > 0) {
      const r = parseReply(buf, pos);
      if (r === null) break;
      pos = r[1];
      const w = this.waiting[0];
      w.replies.push(r[0]);
      if (w.replies.length === w.count) {
        this.waiting.shift();
        const err = w.replies.find((x) => x instanceof StorageError);
        if (err) w.reject(err); else w.resolve(w.replies);
      }
    }
    buf = buf.subarray(pos);
    this.chunks = buf.length ? [buf] : [];
    this.size = buf.length;
  }

  static encode(args) {
    const parts = [Buffer.from(`*${args.length}\r\n`)];
    for (const a of args) {
      const b = Buffer.isBuffer(a) ? a : Buffer.from(String(a));
      parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
    }
    return parts;
  }

  pipeline(commands) {
    return new Promise((resolve, reject) => {
      this.waiting.push({ count: commands.length, replies: [], resolve, reject });
      this.sock.write(Buffer.concat(commands.flatMap((c) => Redis.encode(c))));
    });
  }

  async call(...args) { return (await this.pipeline([args]))[0]; }

  async getMany(names) {
    const values = await this.pipeline(names.map((n) => ['GET', 'blobs/' + n]));
    const out = new Map();
    for (let i = 0; i < names.length; i++) {
      const n = names[i];
      let v = values[i];
      if (v === null) throw new StorageError(`object ${n} is not in the store`);
      if (v.subarray(0, 11).toString('latin1') === 'gg-chunked ') {
        const count = parseInt(v.toString('latin1').split(/\s+/)[1], 10);
        const keys = [];
        for (let k = 0; k < count; k++) keys.push(['GET', `blobs/${n}/${k}`]);
        const parts = await this.pipeline(keys);
        if (parts.some((p) => p === null)) throw new StorageError(`object ${n} is missing chunks in the store`);
        v = Buffer.concat(parts);
      }
      out.set(n, v);
    }
    return out;
  }

  async put(name, data) {
    if (await this.call('EXISTS', 'blobs/' + name)) return;
    if (data.length <= REDIS_CHUNK) {
      await this.call('SET', 'blobs/' + name, data);
      return;
    }
    const count = Math.ceil(data.length / REDIS_CHUNK);
    const sets = [];
    for (let i = 0; i < count; i++) {
      sets.push(['SET', `blobs/${name}/${i}`, data.subarray(i * REDIS_CHUNK, (i + 1) * REDIS_CHUNK)]);
    }
    await this.pipeline(sets);
    await this.call('SET', 'blobs/' + name, `gg-chunked ${count} ${REDIS_CHUNK}\n`);
  }
}

// ---------------------------------------------------------------- S3

const sha256hex = (data) => crypto.createHash('sha256').update(data).digest('hex');
const hmac = (key, text) => crypto.createHmac('sha256', key).update(text).digest();

/**
 * s3://bucket[/prefix][?region=R&endpoint=URL] (and gs://, GCS's XML API with
 * HMAC keys): GET, HEAD and PUT signed with AWS SigV4 from $AWS_ACCESS_KEY_ID,
 * $AWS_SECRET_ACCESS_KEY (and $AWS_SESSION_TOKEN), path-style, as gg's own client.
 */
class S3 {
  constructor(uri) {
    const u = new URL(uri);
    this.bucket = u.hostname;
    const prefix = decodeURIComponent(u.pathname).replace(/^\/+|\/+$/g, '');
    this.prefix = prefix ? prefix + '/' : '';
    this.region = u.searchParams.get('region') || process.env.AWS_REGION || 'us-east-1';
    const gs = u.protocol === 'gs:';
    this.endpoint = new URL(u.searchParams.get('endpoint') ||
                            (gs ? 'https://storage.googleapis.com' : `https://s3.${this.region}.amazonaws.com`));
    this.key = process.env.AWS_ACCESS_KEY_ID || '';
    this.secret = process.env.AWS_SECRET_ACCESS_KEY || '';
    this.token = process.env.AWS_SESSION_TOKEN || '';
    if (!this.key || !this.secret) {
      throw new Refused('an S3 store needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the function\'s ' +
                        'environment (HMAC keys for gs://)');
    }
  }

  open() { return this; }
  close() {}

  async request(method, name, body) {
    const path = '/' + [this.bucket, ...(this.prefix + 'blobs/' + name).split('/')]
      .map((p) => encodeURIComponent(p).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase()))
      .join('/');
    const amzDate = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
    const day = amzDate.slice(0, 8);
    const payloadHash = sha256hex(body || Buffer.alloc(0));
    const headers = { host: this.endpoint.host, 'x-amz-content-sha256': payloadHash, 'x-amz-date': amzDate };
    if (this.token) headers['x-amz-security-token'] = this.token;
    const signed = Object.keys(headers).sort();
    const canonical = [method, path, '', ...signed.map((h) => `${h}:${headers[h]}`), '', signed.join(';'),
                       payloadHash].join('\n');
    const scope = `${day}/${this.region}/s3/aws4_request`;
    const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256hex(canonical)].join('\n');
    let k = hmac('AWS4' + this.secret, day);
    for (const part of [this.region, 's3', 'aws4_request']) k = hmac(k, part);
    headers.authorization = `AWS4-HMAC-SHA256 Credential=${this.key}/${scope}, SignedHeaders=${signed.join(';')}, ` +
                            `Signature=${hmac(k, toSign).toString('hex')}`;
    delete headers.host;
    for (let attempt = 1; ; attempt++) {
      let res;
      try {
        res = await fetch(new URL(path, this.endpoint), { method, headers, body });
      } catch (e) {
        if (attempt < 5) continue;
        throw new StorageError(`${method} ${name}: ${e.message}`);
      }
      const data = Buffer.from(await res.arrayBuffer());
      if ((res.status === 429 || res.status >= 500) && attempt < 5) {
        await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
        continue;
      }
      return { status: res.status, data };
    }
  }

  async getMany(names) {
    const out = new Map();
    for (const n of names) {
      const r = await this.request('GET', n);
      if (r.status === 404) throw new StorageError(`object ${n} is not in the store`);
      if (r.status !== 200) throw new StorageError(`getting ${n}: HTTP ${r.status}: ${r.data.toString().slice(0, 300)}`);
      out.set(n, r.data);
    }
    return out;
  }

  async put(name, data) {
    if ((await this.request('HEAD', name)).status === 200) return;
    const r = await this.request('PUT', name, data);
    if (r.status !== 200) throw new StorageError(`putting ${name}: HTTP ${r.status}: ${r.data.toString().slice(0, 300)}`);
  }
}

async function openStorage(uri) {
  let scheme;
  try {
    scheme = new URL(uri).protocol;
  } catch (e) {
    throw new Refused(`the storage URI does not parse (${e.message})`);
  }
  if (scheme === 's3:' || scheme === 'gs:') return new S3(uri);
  if (scheme !== 'redis:') {
    throw new Refused(`unsupported storage URI scheme '${scheme.slice(0, -1)}' (redis://, s3://, gs://)`);
  }
  try {
    return await new Redis(uri).open();
  } catch (e) {
    throw new StorageError(`cannot reach ${safeUri(uri)}: ${e.message}`);
  }
}

function safeUri(uri) {
  try {
    const u = new URL(uri);
    u.password = '';
    return u.toString();
  } catch (e) {
    return '(unparsable URI)';
  }
}

// ---------------------------------------------------------------- the handler

function failure(kind, message) {
  return { kind, exit_code: -1, signal: 0, message, stdout_tail: '', stderr_tail: '', seconds: 0, outputs: [],
           hermetic: false };
}

/** Downloads the objects `blobs` lacks, checking each against its name. */
async function fetchInputs(store, blobs, names) {
  const missing = [...new Set(names.map(objectOf))].filter((n) => !fs.existsSync(path.join(blobs, n)));
  const need = missing.reduce((sum, n) => sum + sizeOf(n), 0);
  const room = fs.statfsSync ? Number(fs.statfsSync(blobs).bavail) * Number(fs.statfsSync(blobs).bsize) : Infinity;
  if (need > room) {
    throw new Refused(`the thunk's inputs need ${need} bytes in ${blobs} but the function has room for ${room}: ` +
                      'run it on another engine or give the function more memory');
  }
  let batch = [];
  let bytes = 0;
  const flush = async () => {
    for (const [name, data] of await store.getMany(batch)) {
      const actual = nameOf(data);
      if (actual !== name) {
        throw new StorageError(`object ${name} in the store does not match its name (its content hashes to ` +
                               `${actual}): the stored copy is damaged`);
      }
      const tmp = path.join(blobs, `.in.${process.pid}.${crypto.randomBytes(8).toString('hex')}`);
      await fsp.writeFile(tmp, data, { mode: 0o444 });
      await fsp.rename(tmp, path.join(blobs, name));
    }
    batch = [];
    bytes = 0;
  };
  for (const n of missing) {
    batch.push(n);
    bytes += sizeOf(n);
    if (bytes >= 32 << 20) await flush();
  }
  if (batch.length) await flush();
}

function runExecutor(root, thunkPath) {
  return new Promise((resolve) => {
    execFile(EXECUTOR, ['run', root, thunkPath], { encoding: 'buffer', maxBuffer: 64 << 20 },
             (error, stdout, stderr) => resolve({ code: error ? error.code : 0, stdout, stderr }));
  });
}

async function runThunk(event) {
  const root = process.env.GG_GCF_DIR || '/tmp/gg';
  const blobs = path.join(root, 'blobs');
  await fsp.mkdir(blobs, { recursive: true });
  let thunk;
  let names;
  let uri;
  try {
    thunk = Buffer.from(event.thunk, 'base64');
    names = Array.from(event.objects || []);
    uri = event.storage;
    if (!event.thunk || typeof uri !== 'string') throw new Error('missing field');
  } catch (e) {
    return failure('setup_failed', `handler: malformed event (${e.message}): expected thunk, objects, storage`);
  }
  let store = null;
  try {
    store = await openStorage(uri);
    await fetchInputs(store, blobs, names);
    const dir = await fsp.mkdtemp(path.join(root, 'thunk.'));
    const thunkPath = path.join(dir, 'thunk');
    await fsp.writeFile(thunkPath, thunk);
    let run;
    try {
      run = await runExecutor(root, thunkPath);
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
    if (run.stderr.length) process.stderr.write(run.stderr);
    const lines = run.stdout.toString().trim().split('\n').filter((l) => l);
    if (lines.length === 0) {
      return failure('crashed', `handler: gg-lambda exited with ${run.code} and no result; its stderr: ` +
                                run.stderr.toString().slice(-2000));
    }
    const result = JSON.parse(lines[lines.length - 1]);
    if (result.kind === 'ok') {
      for (const out of result.outputs || []) {
        const name = objectOf(out.name);
        await store.put(name, await fsp.readFile(path.join(blobs, name)));
      }
    }
    return result;
  } catch (e) {
    if (e instanceof Refused) return failure('setup_failed', 'on gcf: ' + e.message);
    if (e instanceof StorageError || e.code) {
      return failure('setup_failed', `on gcf: shared store ${safeUri(uri)}: ${e.message}`);
    }
    throw e;
  } finally {
    if (store !== null) store.close();
  }
}

exports.gg = async (req, res) => {
  if (req.method !== 'POST') {
    res.status(405).send('gg: POST a thunk event (see docs/engines.md)\n');
    return;
  }
  let event = req.body;
  if (Buffer.isBuffer(event) || typeof event === 'string') {
    try {
      event = JSON.parse(event.toString());
    } catch (e) {
      res.status(200).json(failure('setup_failed', `handler: the request is not JSON (${e.message})`));
      return;
    }
  }
  res.status(200).json(await runThunk(event || {}));
};
