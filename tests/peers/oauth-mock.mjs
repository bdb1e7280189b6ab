// oauth2-mock-server (axa-group, npm) on 127.0.0.1, an ephemeral port: the independent OAuth
// 2.0 server of the auth tests. Prints "OAUTH_MOCK <base url>" once listening.
//
// The mock accepts any refresh token and ignores revocation (oauth.md §7.1); two hooks make it
// honour what a real server does with tokens it was told to revoke:
//   - a revoked refresh token is answered 400 invalid_grant from then on;
//   - OAUTH_MOCK_ROTATE=1 also retires each refresh token once it has been used (rotation).
// The refresh tokens themselves, the codes, PKCE and the responses are the library's own.
import { OAuth2Server } from 'oauth2-mock-server';

const server = new OAuth2Server();
await server.issuer.keys.generate('RS256');
const dead = new Set();
const rotate = process.env.OAUTH_MOCK_ROTATE === '1';

// The mock mounts no body parser on /revoke: read the form from the stream (it arrives with
// the headers, long before the client can send its next request).
server.service.on('beforeRevoke', (_res, req) => {
  let raw = '';
  req.on('data', (chunk) => { raw += chunk; });
  req.on('end', () => {
    const token = new URLSearchParams(raw).get('token');
    if (token) dead.add(token);
  });
});
server.service.on('beforeResponse', (res, req) => {
  const body = req.body || {};
  if (body.grant_type !== 'refresh_token') return;
  if (dead.has(body.refresh_token)) {
    res.statusCode = 400;
    res.body = { error: 'invalid_grant', error_description: 'refresh token revoked or used' };
    return;
  }
  if (rotate) dead.add(body.refresh_token);
});

await server.start(0, '127.0.0.1');
server.issuer.url = `http://127.0.0.1:${server.address().port}`;
console.log(`OAUTH_MOCK http://127.0.0.1:${server.address().port}`);
const stop = async () => { await server.stop(); process.exit(0); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
