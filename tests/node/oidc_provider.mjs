// A real OpenID provider on loopback for the OAuth end-to-end tests: oidc-provider (the certified
// Node implementation) issuing RS256 JWT access tokens by the client credentials grant, so the
// server is checked against tokens, keys and metadata it did not make itself. Around it, on the
// same port, test-control endpoints under /test/ make what a provider rarely does on cue: forged
// and foreign tokens, a key rotation, a JWKS or discovery outage, and request counts (to see that
// the server caches keys and metadata and refetches them only when it should).
//
//   node tests/node/oidc_provider.mjs --audience URL [--audience URL2 ...] [--port N]
//
// The first audience is the default resource. Binds 127.0.0.1 (port 0 unless --port), prints one
// JSON line on stdout when ready, {"issuer":"http://127.0.0.1:PORT","port":PORT}, and runs until
// stdin closes or SIGTERM, so it dies with the test process that started it. Its packages come
// from the npm folder scripts/install-test-tools.sh fills (NODE_PATH, else .tools/npm).
//
// Clients (client_secret_basic, client_credentials only): reader/reader-secret ("docs:read"),
// writer/writer-secret ("docs:read docs:write"), guest/guest-secret ("docs:write").
//
// Control endpoints:
//   POST /test/sign   {"alg": "RS256"|"ES256"|"none"|"HS256", "key": "current"|"stranger",
//                      "header": {...}, "claims": {...}}  -> {"token": "..."}
//   POST /test/rotate                                     -> {"kids": {...}, "previous": {...}}
//   POST /test/jwks   {"down": bool, "discoveryDown": bool} -> {"jwksDown": b, "discoveryDown": b}
//   GET  /test/stats                 -> {"jwksRequests": n, "discoveryRequests": n}
// (requests with an X-Test-Harness header, the harness's own, are neither counted nor refused).

import * as crypto from 'node:crypto';
import * as http from 'node:http';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

// oidc-provider prints its notices with console.info, on stdout: stdout carries only the ready
// line the harness waits for, so they go to stderr with the warnings.
console.info = (...args) => console.error(...args);

// ES modules ignore NODE_PATH, so the packages are resolved the CommonJS way (which honours it)
// and imported by file; without NODE_PATH, from the workspace's .tools/npm.
const here = path.dirname(fileURLToPath(import.meta.url));
const toolsModules = path.join(here, '..', '..', '.tools', 'npm', 'node_modules');
const require = createRequire(import.meta.url);
function load(name) {
  let file;
  try {
    file = require.resolve(name);
  } catch {
    try {
      file = require.resolve(name, { paths: [toolsModules] });
    } catch {
      console.error(`oidc_provider.mjs: npm package ${name} is missing: run scripts/install-test-tools.sh`);
      process.exit(2);
    }
  }
  return import(pathToFileURL(file).href);
}
const { default: Provider, errors } = await load('oidc-provider');
const jose = await load('jose');

const args = process.argv.slice(2);
const audiences = [];
let port = 0;
for (let i = 0; i < args.length; i += 1) {
  if (args[i] === '--audience' && args[i + 1]) {
    audiences.push(args[(i += 1)]);
  } else if (args[i] === '--port' && args[i + 1]) {
    port = Number(args[(i += 1)]);
  } else {
    console.error(`oidc_provider.mjs: unexpected argument ${args[i]}`);
    process.exit(2);
  }
}
if (audiences.length === 0) {
  console.error('oidc_provider.mjs: at least one --audience URL is needed');
  process.exit(2);
}

const SCOPES = 'docs:read docs:write';
const TTL = 300;
const JWKS_PATH = '/jwks';
const DISCOVERY_PATHS = new Set([
  '/.well-known/openid-configuration',
  '/.well-known/oauth-authorization-server',
]);

const kid = (prefix) => `${prefix}-${crypto.randomBytes(8).toString('hex')}`;

// A private JWK made by jose (as a deployment would make its keys), with a random kid.
async function makeKey(alg) {
  const options = alg === 'RS256' ? { modulusLength: 2048, extractable: true } : { extractable: true };
  const { privateKey } = await jose.generateKeyPair(alg, options);
  const jwk = await jose.exportJWK(privateKey);
  return { ...jwk, kid: kid(alg === 'RS256' ? 'rsa' : 'ec'), use: 'sig', alg };
}

// The public part exactly as oidc-provider publishes it (same members, same order), so the HS256
// confusion token is keyed with the very text a careless verifier would fetch from jwks_uri.
function published(jwk) {
  return {
    kty: jwk.kty,
    use: jwk.use,
    kid: jwk.kid,
    alg: jwk.alg,
    crv: jwk.crv,
    e: jwk.e,
    n: jwk.n,
    x: jwk.x,
    y: jwk.y,
  };
}

let current = { RS256: await makeKey('RS256'), ES256: await makeKey('ES256') };
let previous = null;
// Never published: tokens they sign come from a stranger.
const stranger = { RS256: await makeKey('RS256'), ES256: await makeKey('ES256') };

const server = http.createServer();
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(port, '127.0.0.1', resolve);
});
port = server.address().port;
const issuer = `http://127.0.0.1:${port}`;

// oidc-provider's in-memory adapter works but warns on every start; this one is as small as the
// client credentials grant needs (JWT access tokens are not even stored).
class MemoryAdapter {
  static store = new Map();

  constructor(model) {
    this.model = model;
  }

  key(id) {
    return `${this.model}:${id}`;
  }

  async upsert(id, payload, expiresIn) {
    MemoryAdapter.store.set(this.key(id), { payload, until: expiresIn ? Date.now() + expiresIn * 1000 : Infinity });
  }

  async find(id) {
    const entry = MemoryAdapter.store.get(this.key(id));
    return entry && entry.until > Date.now() ? entry.payload : undefined;
  }

  async findByUserCode() {
    return undefined;
  }

  async findByUid() {
    return undefined;
  }

  async consume(id) {
    const entry = MemoryAdapter.store.get(this.key(id));
    if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) {
    MemoryAdapter.store.delete(this.key(id));
  }

  async revokeByGrantId() {}
}

const client = (id, scope) => ({
  client_id: id,
  client_secret: `${id}-secret`,
  token_endpoint_auth_method: 'client_secret_basic',
  grant_types: ['client_credentials'],
  response_types: [],
  redirect_uris: [],
  scope,
});

// oidc-provider reads its keys once, at construction: a rotation builds a new Provider with the
// same configuration and the new key set, and the HTTP handler switches to it.
function makeProvider(keys) {
  const provider = new Provider(issuer, {
    adapter: MemoryAdapter,
    clients: [
      client('reader', 'docs:read'),
      client('writer', 'docs:read docs:write'),
      client('guest', 'docs:write'),
    ],
    // Resource scopes listed here are checked against each client's own scope (a scope the
    // provider does not know of is let through to the resource's filter alone, so `reader` could
    // otherwise ask for docs:write and get it).
    scopes: ['openid', 'offline_access', 'docs:read', 'docs:write'],
    jwks: { keys: structuredClone(keys) },
    cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
    clientBasedCORS: () => true,
    ttl: {
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? TTL,
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? TTL,
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => audiences[0],
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resource) => {
          if (!audiences.includes(resource)) {
            throw new errors.InvalidTarget();
          }
          return {
            scope: SCOPES,
            audience: resource,
            accessTokenFormat: 'jwt',
            accessTokenTTL: TTL,
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
  });
  // A client credentials request without `scope` gets no scope at all from oidc-provider; like
  // most providers (Cognito, Auth0, Keycloak), this one grants the client's registered scopes
  // then, so every token it issues carries `scope`. A request naming only scopes the resource
  // does not have still gets none.
  const { ClientCredentials } = provider;
  const save = ClientCredentials.prototype.save;
  ClientCredentials.prototype.save = function saveWithDefaultScope(...rest) {
    if (!this.scope && this.client?.scope && !Provider.ctx?.oidc?.params?.scope) {
      const allowed = this.resourceServer?.scopes;
      const granted = this.client.scope.split(' ').filter((s) => !allowed || allowed.has(s));
      this.scope = granted.join(' ') || undefined;
    }
    return save.apply(this, rest);
  };
  return provider.callback();
}

function keySet() {
  const keys = [current.RS256, current.ES256];
  if (previous) keys.push(previous.RS256, previous.ES256);
  return keys;
}

let delegate = makeProvider(keySet());
const state = { jwksDown: false, discoveryDown: false, jwksRequests: 0, discoveryRequests: 0 };

const b64u = (data) => Buffer.from(data).toString('base64url');

// Signs by hand rather than through jose, so any header (a lying alg, no kid, a foreign typ)
// can be sent with any key.
function sign({ alg = 'RS256', key = 'current', header = {}, claims = {} }) {
  if (!['RS256', 'ES256', 'none', 'HS256'].includes(alg)) {
    throw new Error(`alg must be RS256, ES256, none or HS256, not ${alg}`);
  }
  if (key !== 'current' && key !== 'stranger') {
    throw new Error(`key must be current or stranger, not ${key}`);
  }
  const keys = key === 'stranger' ? stranger : current;
  // The ES256 key for ES256, the RSA key otherwise (HS256 is keyed with its public JWK).
  const jwk = alg === 'ES256' ? keys.ES256 : keys.RS256;
  const now = Math.floor(Date.now() / 1000);
  const payload = {
    iss: issuer,
    aud: audiences[0],
    sub: 'test-subject',
    scope: 'docs:read',
    iat: now,
    exp: now + TTL,
    jti: crypto.randomUUID(),
  };
  const head = { alg, kid: jwk.kid, typ: 'at+jwt' };
  for (const [target, overrides] of [[payload, claims], [head, header]]) {
    for (const [name, value] of Object.entries(overrides ?? {})) {
      if (value === null) delete target[name];
      else target[name] = value;
    }
  }
  const input = `${b64u(JSON.stringify(head))}.${b64u(JSON.stringify(payload))}`;
  let signature;
  switch (alg) {
    case 'none':
      return `${input}.`;
    case 'HS256':
      signature = crypto.createHmac('sha256', JSON.stringify(published(jwk))).update(input).digest();
      break;
    case 'RS256':
      signature = crypto.sign('sha256', Buffer.from(input), crypto.createPrivateKey({ key: jwk, format: 'jwk' }));
      break;
    default:
      signature = crypto.sign('sha256', Buffer.from(input), {
        key: crypto.createPrivateKey({ key: jwk, format: 'jwk' }),
        dsaEncoding: 'ieee-p1363',
      });
  }
  return `${input}.${b64u(signature)}`;
}

async function rotate() {
  previous = current;
  current = { RS256: await makeKey('RS256'), ES256: await makeKey('ES256') };
  delegate = makeProvider(keySet());
  return {
    kids: { RS256: current.RS256.kid, ES256: current.ES256.kid },
    previous: { RS256: previous.RS256.kid, ES256: previous.ES256.kid },
  };
}

async function readJson(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const text = Buffer.concat(chunks).toString('utf8').trim();
  return text ? JSON.parse(text) : {};
}

function reply(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

async function control(req, res, pathname) {
  const route = `${req.method} ${pathname}`;
  try {
    switch (route) {
      case 'POST /test/sign':
        return reply(res, 200, { token: sign(await readJson(req)) });
      case 'POST /test/rotate':
        return reply(res, 200, await rotate());
      case 'POST /test/jwks': {
        const body = await readJson(req);
        if (typeof body.down === 'boolean') state.jwksDown = body.down;
        if (typeof body.discoveryDown === 'boolean') state.discoveryDown = body.discoveryDown;
        return reply(res, 200, { jwksDown: state.jwksDown, discoveryDown: state.discoveryDown });
      }
      case 'GET /test/stats':
        return reply(res, 200, {
          jwksRequests: state.jwksRequests,
          discoveryRequests: state.discoveryRequests,
        });
      default:
        return reply(res, 404, { error: `no test endpoint ${route}` });
    }
  } catch (error) {
    return reply(res, 400, { error: String(error?.message ?? error) });
  }
}

server.on('request', (req, res) => {
  const { pathname } = new URL(req.url, issuer);
  if (pathname.startsWith('/test/')) {
    control(req, res, pathname);
    return;
  }
  // The harness's own requests (its discovery of the token endpoint) are neither counted nor
  // refused: the figures and outages are for the server under test.
  if (req.headers['x-test-harness']) {
    delegate(req, res);
    return;
  }
  if (pathname === JWKS_PATH) {
    state.jwksRequests += 1;
    if (state.jwksDown) return reply(res, 503, { error: 'temporarily_unavailable', error_description: 'jwks is down (test)' });
  }
  if (DISCOVERY_PATHS.has(pathname)) {
    state.discoveryRequests += 1;
    if (state.discoveryDown) return reply(res, 503, { error: 'temporarily_unavailable', error_description: 'discovery is down (test)' });
  }
  delegate(req, res);
});

process.on('SIGTERM', () => process.exit(0));
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();

process.stdout.write(`${JSON.stringify({ issuer, port })}\n`);
