// oidc-provider (panva, npm; a certified OpenID Provider) on 127.0.0.1, an ephemeral port:
// the independent server for PKCE enforcement, strict refresh-token rotation, revocation and
// the device authorization grant. Prints "OIDC <issuer>" once listening.
// Env: OIDC_ACCESS_TTL (s, default 120), OIDC_DEVICE_TTL (s, default 600),
//      OIDC_REFRESHED_ACCESS_TTL (s; default OIDC_ACCESS_TTL): the lifetime of access tokens
//      issued by a refresh, so a test can expire the first token at once without racing the
//      refreshed one on a loaded machine,
//      OIDC_CLOCK_TOLERANCE (s, default 15),
//      OIDC_SLOW_DOWN=1 answers the first poll of each device code with slow_down (this
//      version never sends it on its own; oauth.md §7.2).
import http from 'node:http';
import Provider from 'oidc-provider';

const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;
const provider = new Provider(issuer, {
  clients: [{
    client_id: 'journal-cli',
    application_type: 'native',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
    response_types: ['code'],
    redirect_uris: ['http://127.0.0.1/callback'],
  }],
  scopes: ['openid', 'offline_access'],
  // Access-token expiry tests use second-long tokens that the default 15 s would outlive.
  clockTolerance: Number(process.env.OIDC_CLOCK_TOLERANCE || 15),
  features: {
    deviceFlow: { enabled: true },
    revocation: { enabled: true },
    introspection: { enabled: true },
    devInteractions: { enabled: true },
  },
  // Issue refresh tokens to the native client whenever offline_access is asked for.
  issueRefreshToken: async (_ctx, client, code) =>
    client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
  ttl: {
    AccessToken: (ctx) =>
      ctx?.oidc?.params?.grant_type === 'refresh_token' && process.env.OIDC_REFRESHED_ACCESS_TTL
        ? Number(process.env.OIDC_REFRESHED_ACCESS_TTL)
        : Number(process.env.OIDC_ACCESS_TTL || 120),
    DeviceCode: Number(process.env.OIDC_DEVICE_TTL || 600),
    RefreshToken: 86400, Grant: 86400, IdToken: 120, Interaction: 600, Session: 600,
  },
});
provider.on('server_error', (_ctx, err) => console.error('oidc server_error', err));

// The first token request after each device authorization request is answered slow_down,
// without reading its body (oidc-provider parses that itself).
let slowDownNext = false;
provider.use(async (ctx, next) => {
  if (process.env.OIDC_SLOW_DOWN === '1' && ctx.method === 'POST') {
    if (ctx.path === '/device/auth') slowDownNext = true;
    else if (ctx.path === '/token' && slowDownNext) {
      slowDownNext = false;
      ctx.status = 400;
      ctx.body = { error: 'slow_down', error_description: 'poll less often' };
      return;
    }
  }
  await next();
});

server.on('request', provider.callback());
console.log(`OIDC ${issuer}`);
const stop = () => { server.close(); process.exit(0); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
